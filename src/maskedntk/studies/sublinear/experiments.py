"""The study's configuration: validation (the JSON schema workflow/schemas/sublinear.schema.yaml,
then the relations between keys; a ``ValueError`` names the key and what is allowed) and the
grid of jobs it implies.

Config (the mapping under the top-level ``sublinear:`` key; see config/sublinear.yaml):

    seeds: [int, ...]                 replicates (every claim is tested over them)
    c_threshold: float > 0            b = sqrt(c ln m)
    eta0: float > 0                   SGD step eta = eta0 / Q(b)
    alpha: float in (0, 1)            level of every claim's test
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

from ...core.schema import check_schema

_SECTIONS = ("activity", "training", "cost", "claims")
_TOP = ("seeds", "c_threshold", "eta0", "alpha", *_SECTIONS)

#: the JSON schema of the study config (types, ranges, allowed values, unknown keys)
SCHEMA = Path(__file__).resolve().parents[4] / "workflow" / "schemas" / "sublinear.schema.yaml"

#: memory a cost job may use (bytes): the weights, their copies in tree order, the tree and the
#: mini-batch's pre-activations must fit (the machine the defaults were sized on has 8 GiB per core)
MEMORY_LIMIT = 4 * 2**30


def cost_memory(m: int, d: int, B: int) -> int:
    """Estimated peak bytes of one cost run: W, its initial copy, its copy in tree order and
    the build's scratch copies (6 m d float64; the tree's centres, < 2 m d / leaf, fit in the
    margin), a few m-vectors of indices, flags and projections (~40 m bytes), and the B x m
    pre-activations of dense mini-batches."""
    return 8 * (6 * m * d + B * m) + 40 * m


def _fail(msg: str):
    raise ValueError(f"sublinear config: {msg}")


def _check_schema(cfg: Mapping) -> None:
    check_schema(cfg, SCHEMA, prefix="sublinear")


def _fits_memory(co: Mapping) -> None:
    B = max(e["B"] for e in co["batches"])
    for m in co["ms"]:
        for d in co["ds"]:
            need = cost_memory(m, d, B)
            if need > MEMORY_LIMIT:
                _fail(
                    f"'cost.ms' x 'cost.ds' x 'cost.batches' needs about {need / 2**30:.1f} GiB at m = {m}, d = {d}, "
                    f"B = {B} (estimate 8 (6 m d + B m) + 40 m bytes), more than the {MEMORY_LIMIT / 2**30:.0f} GiB "
                    "a cost job may use: lower m, d or B"
                )


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
    _fits_memory(co)
    if cl["sublinear_d"] not in co["ds"]:
        _fail(f"'claims.sublinear_d' must be one of cost.ds {co['ds']}, got {cl['sublinear_d']}")
    at_one = [i for i in co["batches"][0]["identifiers"] if i != "dense"]
    if cl["sublinear_identifier"] not in at_one:
        _fail(f"'claims.sublinear_identifier' must be one of the identifiers run at B = 1 {at_one}, got "
              f"{cl['sublinear_identifier']!r}")  # fmt: skip
    return cfg


#: the settings each job reads, as {top-level key: None (all of it) or the keys of the section
#: it reads}: a job gets only these (:func:`job_settings`), so that a change elsewhere in the
#: config does not rerun it.  ``train`` reads no ``training.Ms`` (its M is an argument) and
#: ``cost`` no ``cost.ds`` (its d is one); ``figure-<name>`` is figure ``name``.  The cost
#: targets have the training targets' degrees.
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
    "claims": {"seeds": None, "alpha": None, "c_threshold": None, "training": ("eps",), "claims": None},
    "figure-activity": {"c_threshold": None},
    "figure-persistence": {"claims": ("persist_ratio",)},
    "figure-loss": {"training": ("eps",)},
    "figure-cost": {"c_threshold": None},
}


def job_settings(cfg: Mapping, job: str) -> dict:
    """The part of the (validated) study config that job ``job`` (a key of
    :data:`JOB_SETTINGS`) reads, with the same structure."""
    if job not in JOB_SETTINGS:
        raise ValueError(f"job must be one of {sorted(JOB_SETTINGS)}, got {job!r}")
    out = {k: cfg[k] if keys is None else {s: cfg[k][s] for s in keys} for k, keys in JOB_SETTINGS[job].items()}
    if job == "cost":
        # the cost runs use the first cost.n_seeds seeds only
        out["seeds"] = list(cfg["seeds"])[: int(cfg["cost"]["n_seeds"])]
    return out


def is_full(cfg: Mapping) -> bool:
    """Whether ``cfg`` is a whole study config (not one job's settings)."""
    return all(k in cfg for k in _TOP)


def training_labels(cfg: Mapping) -> list[str]:
    """One training job per target norm M: labels 'M1', 'M2.5', ..."""
    return [m_label(M) for M in cfg["training"]["Ms"]]


def m_label(M: float) -> str:
    return f"M{float(M):g}"


def cost_labels(cfg: Mapping) -> list[str]:
    """One cost job per input dimension d: labels 'd4', ..."""
    return [f"d{d}" for d in cfg["cost"]["ds"]]
