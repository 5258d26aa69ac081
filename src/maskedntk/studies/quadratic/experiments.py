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

from ...core.runs import prepare_settings
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


#: the regimes of the rates job (Fig. 5)
RATE_REGIMES = ("over", "equal")
_RUN = ("base_seed", "seeds", "threads")
_FLOW_FIGURE = ("seeds", "regimes", "flow.dims", "flow.eta", "flow.gamma_max", "limit.gamma_min")
#: job (or figure) -> the settings it reads: top-level keys or 'section.key'.  Each job receives
#: only these (:func:`job_settings`), so an edit elsewhere in the configuration does not rerun
#: it; the flow and rates jobs also read their regime's (alpha, alpha*), added by job_settings.
READS = {
    "spectrum": ("base_seed", "threads", "spectrum"),
    "limit": ("threads", "regimes", "limit", "gap.gamma_max", "gap.n_gamma", "flow.gamma_max"),
    "flow": (*_RUN, "flow.dims", "flow.eta", "flow.gamma_max"),
    "rates": (*_RUN, "rates.dims", "rates.eta", "rates.t_max"),
    "phase": (*_RUN, "phase"),
    "empirical": (*_RUN, "empirical"),
    "masked": (*_RUN, "masked"),
    "claims": (
        "claims",
        "limit.gamma_min",
        "rates.fit_over",
        "rates.fit_equal_loss",
        "masked.xi",
        "masked.taus",
        "masked.xi_sweep_tau",
    ),
    "fig1_spectrum": ("spectrum",),
    "fig2_phi": _FLOW_FIGURE,
    "fig3_overlap": _FLOW_FIGURE,
    "fig4_gaussian": _FLOW_FIGURE,
    "fig5_rates": ("seeds", "rates"),
    "fig6_gap": ("regimes", "gap"),
    "fig7_empirical": ("seeds", "empirical"),
    "fig8_masked": ("seeds", "masked"),
}
#: job -> the settings that choose one run of it (one flow job per (setup, regime), ...)
CHOICES = {"flow": ("setup", "regime"), "rates": ("regime",), "figure": ("name",)}


def check_choice_of(job: str, choice: Mapping) -> dict:
    """The settings ``choice`` that pick one run of ``job`` (:data:`CHOICES`), checked: an
    error names a missing or unknown one and the allowed values."""
    allowed = {
        "setup": SETUPS,
        "regime": RATE_REGIMES if job == "rates" else REGIMES,
        "name": tuple(k for k in READS if k.startswith("fig")),
    }
    want = CHOICES.get(job, ())
    if set(choice) != set(want):
        raise ValueError(f"job {job}: its settings must name {list(want)} (got {sorted(choice)})")
    for key in want:
        check_choice(f"quadratic {job} {key}", choice[key], allowed[key])
    return {k: choice[k] for k in want}


def job_settings(cfg: Mapping, job: str, **choice) -> dict:
    """The settings job ``job`` reads (:data:`READS`) from the validated ``cfg``, plus the
    ``choice`` of its run (:data:`CHOICES`: a flow's setup and regime with that regime's
    (alpha, alpha*), a rates regime, a figure name)."""
    choice = check_choice_of(job, choice)
    if job == "figure":
        return {**select(cfg, READS[choice["name"]]), **choice}
    out = select(cfg, READS[job])
    if job == "flow":
        out.update(select(cfg, (f"regimes.{choice['regime']}",)))
    elif job == "rates":
        out["rates"][choice["regime"]] = cfg["rates"][choice["regime"]]
    return {**out, **choice}


def prepare(settings: Mapping, job: str) -> dict:
    """The settings of ``job`` from its command line (``core.jobcli``'s ``prepare``, by
    :func:`maskedntk.core.runs.prepare_settings`): the choice of its run (:data:`CHOICES`) checked;
    a whole configuration validated and reduced to the job's part, a job's part checked against
    the schema (keys may be missing)."""
    return prepare_settings(settings, job, ("setup", "regime", "name"), is_whole, _reduce, _check_part)


def _reduce(cfg: Mapping, job: str, choice: dict) -> dict:
    return job_settings(validate(cfg), job, **choice)


def _check_part(part: Mapping, job: str, choice: dict) -> dict:
    return {**validate(part, partial=True), **check_choice_of(job, choice)}


def is_whole(cfg: Mapping) -> bool:
    """Whether ``cfg`` holds every top-level key of the study (a whole configuration)."""
    return set(schema()["required"]) <= set(cfg)


def widths(d: int, alpha: float, alpha_star: float) -> tuple[int, int]:
    """(m, m*) = (round(alpha d), round(alpha* d)), at least 1."""
    return max(1, int(round(alpha * d))), max(1, int(round(alpha_star * d)))


def n_steps_gamma(gamma_max: float, d: int, eta: float) -> int:
    """Steps k with eta k / d = gamma_max."""
    return int(math.ceil(gamma_max * d / eta - 1e-9))


def seeds(cfg: Mapping) -> list[int]:
    return list(range(cfg["seeds"]))
