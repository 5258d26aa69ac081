"""Configuration -> the study's experiments, with validation.

The study reads ``config["quadratic"]`` only.  :func:`validate` checks it against the JSON schema
workflow/schemas/quadratic.schema.yaml (unknown keys, missing keys, types and ranges) and raises
``ValueError`` naming the key and what is allowed.
The grid is small and explicit: one job per (setup, regime) for the flow figures, one per
regime for the rates, one each for the spectrum, the limit, the phase sweep, the empirical
risk and masked training.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import yaml

from ...core.schema import check_schema
from ...core.validate import check_choice

REGIMES = ("over", "equal", "under")
#: the two setups of the paper (see :mod:`.problems`)
SETUPS = ("orthonormal", "gaussian")

#: the JSON schema of ``config['quadratic']`` (the repository's workflow/schemas/)
SCHEMA_FILE = Path(__file__).resolve().parents[4] / "workflow" / "schemas" / "quadratic.schema.yaml"


@lru_cache(maxsize=2)
def schema(partial: bool = False) -> dict:
    """The schema; ``partial``: without its ``required`` lists (a job's own part of the settings)."""
    out = yaml.safe_load(SCHEMA_FILE.read_text())
    return _drop_required(out) if partial else out


def _drop_required(node):
    if isinstance(node, dict):
        return {k: _drop_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_drop_required(v) for v in node]
    return node


def _integers(cfg, node: dict, root: dict):
    """``cfg`` with the values the schema declares integer as int (YAML may give 20.0)."""
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    if isinstance(cfg, Mapping):
        return {k: _integers(v, node.get("properties", {}).get(k, {}), root) for k, v in cfg.items()}
    if isinstance(cfg, list):
        return [_integers(v, node.get("items", {}), root) for v in cfg]
    return int(cfg) if node.get("type") == "integer" else cfg


def validate(cfg: Mapping, prefix: str = "quadratic", *, partial: bool = False) -> dict:
    """Return a checked copy of the study's configuration (``config['quadratic']``): the JSON
    schema (workflow/schemas/quadratic.schema.yaml), then what a schema cannot say (dims
    strictly increasing, windows with low < high).  Raises ``ValueError`` naming the key and what
    is allowed.  With ``partial`` (a job's own settings, :func:`select`), keys may be missing."""
    sch = schema(partial)
    check_schema(cfg, sch, prefix=prefix)
    out = _integers(cfg, sch, sch)
    for section, key in (("flow", "dims"), ("rates", "dims")):
        v = out.get(section, {}).get(key)
        if v is not None and sorted(v) != v:
            raise ValueError(f"{prefix}.{section}.{key} = {v!r}: must be strictly increasing integers >= 4")
    for section, key in (
        ("rates", "fit_over"),
        ("rates", "fit_equal_loss"),
        ("gap", "fit_window"),
        ("claims", "late_slope_window"),
    ):
        v = out.get(section, {}).get(key)
        if v is not None and v[0] >= v[1]:
            raise ValueError(f"{prefix}.{section}.{key} = {v!r}: must be [low, high] with 0 < low < high")
    return out


def select(cfg: Mapping, keys) -> dict:
    """The part of ``cfg`` named by ``keys``: top-level keys ('flow') or 'section.key'
    ('flow.gamma_max'), nested as in ``cfg``."""
    out: dict = {}
    for k in keys:
        head, _, tail = k.partition(".")
        if head not in cfg or (tail and tail not in cfg[head]):
            raise KeyError(f"quadratic.{k}: not in the configuration")
        if tail:
            out.setdefault(head, {})[tail] = cfg[head][tail]
        else:
            out[head] = cfg[head]
    return out


def widths(d: int, alpha: float, alpha_star: float) -> tuple[int, int]:
    """(m, m*) = (round(alpha d), round(alpha* d)), at least 1."""
    return max(1, int(round(alpha * d))), max(1, int(round(alpha_star * d)))


def n_steps_gamma(gamma_max: float, d: int, eta: float) -> int:
    """Steps k with eta k / d = gamma_max."""
    return int(math.ceil(gamma_max * d / eta - 1e-9))


def seeds(cfg: Mapping) -> list[int]:
    return list(range(cfg["seeds"]))


def flow_cells(cfg: Mapping) -> list[tuple[str, str]]:
    """(setup, regime) of every flow job."""
    return [(s, r) for s in cfg["flow"]["setups"] for r in REGIMES]


def check_regime(regime: str) -> str:
    return check_choice("regime", regime, REGIMES)
