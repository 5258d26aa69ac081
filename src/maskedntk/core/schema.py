"""A study's configuration checked against its JSON schema, with an error that names the key.

Every study keeps its schema in ``workflow/schemas/<study>.schema.yaml`` (YAML-written JSON
Schema, draft 2020-12).  :func:`check_schema` reports the most relevant violation as
``ConfigError("config key <dotted.path> = <value>: <what is allowed>")``: the key, the value
given and the allowed values or range, never a raw validator message when a plainer one exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import yaml


class ConfigError(ValueError):
    """A configuration that breaks its study's schema or the theory's assumptions."""


def key_path(parts) -> str:
    """The dotted path of a key, list positions in brackets: ``experiments.width.grid[0]``."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def explain(err) -> str:
    """What the schema allows where ``err`` (a jsonschema ValidationError) was raised."""
    v, s = err.validator, err.schema
    if v == "required":
        return f"missing key; required keys are {sorted(s['required'])}"
    if v == "additionalProperties":
        allowed = sorted(s.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        return f"unknown key(s) {extra}; allowed keys are {allowed}"
    if v == "enum":
        return f"must be one of {s['enum']}"
    if v == "const":
        return f"must be {s['const']!r}"
    if v == "contains":
        return f"must contain {s['contains'].get('const', s['contains'])!r}"
    if v == "type":
        return f"must be of type {s['type']}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        lo = s.get("minimum", s.get("exclusiveMinimum"))
        hi = s.get("maximum", s.get("exclusiveMaximum"))
        left = "(" if "exclusiveMinimum" in s or lo is None else "["
        right = ")" if "exclusiveMaximum" in s or hi is None else "]"
        return f"must be in {left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
    if v == "minItems":
        return f"must list at least {s['minItems']} value(s) (an empty grid runs nothing)"
    if v == "maxItems":
        return f"must list at most {s['maxItems']} value(s)"
    if v == "minProperties":
        return "must not be empty"
    if v == "uniqueItems":
        return "values must be distinct"
    return err.message


@cache
def load_schema(path: str) -> dict:
    """The schema at ``path`` (YAML or JSON), read once per process."""
    return yaml.safe_load(Path(path).read_text())


def _shown(value) -> str:
    """' = <value>' for a scalar or a short list; '' for a mapping or a long list."""
    if isinstance(value, dict) or (isinstance(value, list) and len(repr(value)) > 60):
        return ""
    return f" = {value!r}"


def check_schema(config: Mapping, schema, *, prefix: str = "") -> None:
    """Raise :class:`ConfigError` naming the key if ``config`` breaks ``schema`` (a path to a
    YAML/JSON schema file, or the schema itself); return None when it is valid.  ``prefix`` is
    the dotted key under which ``config`` sits in the whole configuration (``quadratic``)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema if isinstance(schema, Mapping) else load_schema(str(schema)))
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    parts = [*([prefix] if prefix else []), *err.absolute_path]
    if err.validator == "required":  # name the first missing key itself
        parts.append(sorted(set(err.schema["required"]) - set(err.instance))[0])
        raise ConfigError(f"config key {key_path(parts)}: {explain(err)}")
    raise ConfigError(f"config key {key_path(parts)}{_shown(err.instance)}: {explain(err)}")
