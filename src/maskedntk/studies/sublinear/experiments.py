"""The study's configuration: validation (the JSON schema workflow/schemas/sublinear.schema.yaml,
then the relations between keys; a ``ValueError`` names the key and what is allowed), the
grid of jobs it implies and the settings each job reads.

Config (the mapping under the top-level ``sublinear:`` key; see config/sublinear.yaml):

    seeds: [int, ...]                 replicates (every claim is tested over them)
    c_threshold: float > 0            b = sqrt(c ln m)
    eta0: float > 0                   SGD step eta = eta0 / Q(b)
    activity: {ms: [int], d: int, n_inputs: int}
    training: {d: int, Ms: [float], steps: int, n_test: int, n_checkpoints: int,
               degrees: [even int], eps: float, width: {constant: float, m_min: int, m_max: int}}
    cost: {ms: [int], steps: [int] (one per m), ds: [int],
           batches: [{B: int, identifiers: [str]}], n_seeds: int,
           leaf_size: int, rebuild_fraction: float, n_shells: int}
    claims: {active_tolerance: float, persist_ratio: float, rate_exponent: float,
             loss_slope: float, sublinear_d: int, sublinear_identifier: str}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...core.runs import prepare_settings
from ...core.schema import check_schema
from ...core.validate import check_choice

_SECTIONS = ("activity", "training", "cost", "claims")
_TOP = ("seeds", "c_threshold", "eta0", *_SECTIONS)

#: the JSON schema of the study config (types, ranges, allowed values, unknown keys)
SCHEMA = Path(__file__).resolve().parents[4] / "workflow" / "schemas" / "sublinear.schema.yaml"


def _fail(msg: str):
    raise ValueError(f"sublinear config: {msg}")


def _check_schema(cfg: Mapping) -> None:
    check_schema(cfg, SCHEMA, prefix="sublinear")


def validate(cfg: Mapping) -> dict:
    """Check the study config against :data:`SCHEMA`, then the relations between keys, and
    return it as a plain dict (raises ValueError naming the key and what is allowed)."""
    if not isinstance(cfg, Mapping):
        _fail("the 'sublinear' key must hold a mapping")
    cfg = dict(cfg)
    _check_schema(cfg)
    seeds, tr, co, cl = cfg["seeds"], cfg["training"], cfg["cost"], cfg["claims"]
    if tr["width"]["m_max"] < tr["width"]["m_min"]:
        _fail(f"'training.width.m_max' must be >= m_min = {tr['width']['m_min']}, got {tr['width']['m_max']}")
    if co["n_seeds"] > len(seeds):
        _fail(f"'cost.n_seeds' must be <= len(seeds) = {len(seeds)}, got {co['n_seeds']}")
    if len(co["steps"]) != len(co["ms"]):
        _fail(f"'cost.steps' must give one number of steps per entry of cost.ms ({len(co['ms'])}), got {co['steps']}")
    Bs = [e["B"] for e in co["batches"]]
    if len(set(Bs)) != len(Bs):
        _fail(f"'cost.batches' must list each B once, got B = {Bs}")
    if cl["sublinear_d"] not in co["ds"]:
        _fail(f"'claims.sublinear_d' must be one of cost.ds {co['ds']}, got {cl['sublinear_d']}")
    at_one = [i for i in co["batches"][0]["identifiers"] if i != "dense"]
    if cl["sublinear_identifier"] not in at_one:
        _fail(f"'claims.sublinear_identifier' must be one of the identifiers run at B = 1 {at_one}, got "
              f"{cl['sublinear_identifier']!r}")  # fmt: skip
    return cfg


#: the settings each job reads, as {top-level key: None (all of it) or the keys of the section
#: it reads}: a job gets only these (:func:`job_settings`), so that a change elsewhere in the
#: config does not rerun it.  ``train`` reads no ``training.Ms`` and ``cost`` no ``cost.ds``:
#: the M or d of its run is a setting of its own (:data:`CHOICES`); ``figure-<name>`` is
#: figure ``name``.  The cost targets have the training targets' degrees.  The claims job also
#: reads the global claim statistics (``core.claims.settings``).
JOB_SETTINGS = {
    "activity": {"seeds": None, "c_threshold": None, "activity": None},
    "train": {
        "seeds": None,
        "c_threshold": None,
        "eta0": None,
        "training": ("d", "steps", "n_test", "n_checkpoints", "degrees", "eps", "width"),
    },
    "cost": {
        "seeds": None,
        "c_threshold": None,
        "eta0": None,
        "training": ("degrees",),
        "cost": ("ms", "steps", "batches", "n_seeds", "leaf_size", "rebuild_fraction", "n_shells"),
    },
    "cost-table": {},
    "claims": {"c_threshold": None, "training": ("eps",), "claims": None},
    "figure-activity": {"c_threshold": None},
    "figure-persistence": {"claims": ("persist_ratio",)},
    "figure-loss": {"training": ("eps",)},
    "figure-cost": {"c_threshold": None},
}
#: job -> the settings that choose one run of it: a training job's target norm M, a cost job's
#: input dimension d, a figure's name
CHOICES = {"train": ("M",), "cost": ("d",), "figure": ("name",)}


def check_choice_of(job: str, choice: Mapping) -> dict:
    """The settings ``choice`` that pick one run of ``job`` (:data:`CHOICES`), checked: an error
    names a missing or bad one and what is allowed."""
    want = CHOICES.get(job, ())
    if set(choice) != set(want):
        raise ValueError(f"job {job}: its settings must name {list(want)} (got {sorted(choice)})")
    if "M" in choice and (
        isinstance(choice["M"], bool) or not isinstance(choice["M"], int | float) or choice["M"] <= 0
    ):
        raise ValueError(f"sublinear train M = {choice['M']!r}: must be a number > 0")
    if "d" in choice and (isinstance(choice["d"], bool) or not isinstance(choice["d"], int) or choice["d"] < 2):
        raise ValueError(f"sublinear cost d = {choice['d']!r}: must be an integer >= 2")
    if "name" in choice:
        check_choice(
            "sublinear figure name",
            choice["name"],
            [k.removeprefix("figure-") for k in JOB_SETTINGS if k.startswith("figure-")],
        )
    return {k: choice[k] for k in want}


def job_settings(cfg: Mapping, job: str, **choice) -> dict:
    """The part of the (validated) study config that job ``job`` reads (:data:`JOB_SETTINGS`,
    with the same structure), plus the ``choice`` of its run (:data:`CHOICES`)."""
    choice = check_choice_of(job, choice)
    key = f"figure-{choice['name']}" if job == "figure" else job
    if key not in JOB_SETTINGS:
        raise ValueError(f"job must be one of {sorted(JOB_SETTINGS)}, got {job!r}")
    out = {k: cfg[k] if keys is None else {s: cfg[k][s] for s in keys} for k, keys in JOB_SETTINGS[key].items()}
    if job == "cost":
        # the cost runs use the first cost.n_seeds seeds only
        out["seeds"] = list(cfg["seeds"])[: int(cfg["cost"]["n_seeds"])]
    return {**out, **choice}


def prepare(settings: Mapping, job: str) -> dict:
    """The settings of ``job`` from its command line (``core.jobcli``'s ``prepare``, by
    :func:`maskedntk.core.runs.prepare_settings`): the choice of its run checked; a whole study
    config validated and reduced to the job's part (as the workflow's rules pass it, after
    validating the whole config, a job's part is taken as it is)."""
    return prepare_settings(settings, job, ("M", "d", "name"), is_full, _reduce, _check_part)


def _reduce(cfg: Mapping, job: str, choice: dict) -> dict:
    return job_settings(validate(cfg), job, **choice)


def _check_part(part: Mapping, job: str, choice: dict) -> dict:
    return {**part, **check_choice_of(job, choice)}


def is_full(cfg: Mapping) -> bool:
    """Whether ``cfg`` is a whole study config (not one job's settings)."""
    return all(k in cfg for k in _TOP)


def m_label(M: float) -> str:
    return f"M{float(M):g}"


def cost_labels(cfg: Mapping) -> list[str]:
    """One cost job per input dimension d: labels 'd4', ..."""
    return [f"d{d}" for d in cfg["cost"]["ds"]]
