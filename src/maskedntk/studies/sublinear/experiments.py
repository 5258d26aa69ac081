"""The study's configuration: validation (``ValueError`` naming the key and what is allowed)
and the grid of jobs it implies.

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

from .identifiers import IDENTIFIERS

_SECTIONS = ("activity", "training", "cost", "claims")
_TOP = ("seeds", "c_threshold", "eta0", "alpha", *_SECTIONS)


def _req(cfg: Mapping, key: str, where: str):
    if key not in cfg:
        raise ValueError(f"sublinear config: missing key '{where}{key}'")
    return cfg[key]


def _int_list(v, key: str, lo: int) -> list[int]:
    if not isinstance(v, list | tuple) or not v or not all(isinstance(i, int) and not isinstance(i, bool) for i in v):
        raise ValueError(f"sublinear config: '{key}' must be a non-empty list of integers, got {v!r}")
    if any(i < lo for i in v):
        raise ValueError(f"sublinear config: every entry of '{key}' must be >= {lo}, got {v!r}")
    return list(v)


def _pos_int(v, key: str, lo: int = 1) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        raise ValueError(f"sublinear config: '{key}' must be an integer >= {lo}, got {v!r}")
    return v


def _pos_float(v, key: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
        raise ValueError(f"sublinear config: '{key}' must be a number > 0, got {v!r}")
    return float(v)


def _identifiers(v, key: str) -> list[str]:
    if not isinstance(v, list) or not v or any(i not in IDENTIFIERS for i in v) or "dense" not in v:
        raise ValueError(
            f"sublinear config: '{key}' must be a list of {list(IDENTIFIERS)} containing 'dense', got {v!r}"
        )
    return v


def _batches(v, key: str) -> list[dict]:
    if (
        not isinstance(v, list)
        or not v
        or not all(isinstance(e, Mapping) and set(e) == {"B", "identifiers"} for e in v)
    ):
        raise ValueError(
            f"sublinear config: '{key}' must be a non-empty list of {{B: int, identifiers: [...]}}, got {v!r}"
        )
    for i, e in enumerate(v):
        _pos_int(e["B"], f"{key}[{i}].B")
        _identifiers(e["identifiers"], f"{key}[{i}].identifiers")
    if [e["B"] for e in v][0] != 1 or len({e["B"] for e in v}) != len(v):
        raise ValueError(f"sublinear config: '{key}' must start with B: 1 and list each B once, got {v!r}")
    return v


def _even(v, key: str, lo: int) -> list[int]:
    v = _int_list(v, key, lo)
    if any(k % 2 for k in v):
        raise ValueError(f"sublinear config: every entry of '{key}' must be an even degree (2, 4, ...), got {v!r}")
    return v


def _width(v, key: str) -> dict:
    if not isinstance(v, Mapping) or set(v) != {"constant", "m_min", "m_max"}:
        raise ValueError(f"sublinear config: '{key}' must be a mapping with keys constant, m_min, m_max, got {v!r}")
    _pos_float(v["constant"], f"{key}.constant")
    lo, hi = _pos_int(v["m_min"], f"{key}.m_min", 2), _pos_int(v["m_max"], f"{key}.m_max", 2)
    if hi < lo:
        raise ValueError(f"sublinear config: '{key}.m_max' must be >= m_min = {lo}, got {hi}")
    return dict(v)


def _Ms(v, key: str) -> list[float]:
    if not isinstance(v, list) or len(v) < 2:
        raise ValueError(f"sublinear config: '{key}' must be a list of >= 2 positive numbers, got {v!r}")
    return [_pos_float(M, f"{key}[]") for M in v]


def _negative(v, key: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v >= 0:
        raise ValueError(f"sublinear config: '{key}' must be a negative number, got {v!r}")
    return float(v)


def _any(v, key: str):
    return v


#: section -> {key: (check, its extra arguments)}, checked in this order; the checks that relate
#: keys to each other follow in :func:`validate`
_FIELDS = {
    "activity": {"ms": (_int_list, 2), "d": (_pos_int, 2), "n_inputs": (_pos_int,)},
    "training": {
        **{"d": (_pos_int, 2), "Ms": (_Ms,), "steps": (_pos_int, 10), "n_test": (_pos_int,)},
        **{"n_checkpoints": (_pos_int, 4), "degrees": (_even, 2), "eps": (_pos_float,), "width": (_width,)},
    },
    "cost": {
        **{"ms": (_int_list, 2), "steps": (_int_list, 1), "ds": (_int_list, 2), "batches": (_batches,)},
        **{"n_seeds": (_pos_int,), "leaf_size": (_pos_int,), "rebuild_fraction": (_pos_float,)},
        **{"n_shells": (_pos_int,)},
    },
    "claims": {
        **{k: (_pos_float,) for k in ("active_tolerance", "persist_ratio", "rate_exponent")},
        **{"loss_slope": (_negative,), "sublinear_d": (_pos_int, 2), "sublinear_identifier": (_any,)},
    },
}


#: memory a cost job may use (bytes): the weights, their copy in tree order, the tree and the
#: mini-batch's pre-activations must fit (the machine the defaults were sized on has 8 GiB per core)
MEMORY_LIMIT = 4 * 2**30


def cost_memory(m: int, d: int, B: int) -> int:
    """Estimated peak bytes of one cost run: W, its initial copy, its copy in tree order and
    the build's scratch copy (4 m d float64), the tree's centres (< 2 m d / leaf), a few
    m-vectors of indices, flags and projections (~40 m), and the B x m pre-activations (dense)."""
    return 8 * (4 * m * d + 2 * m * d) + 40 * m + 8 * B * m


def _fits_memory(co: Mapping) -> None:
    B = max(e["B"] for e in co["batches"])
    for m in co["ms"]:
        for d in co["ds"]:
            need = cost_memory(m, d, B)
            if need > MEMORY_LIMIT:
                raise ValueError(
                    f"sublinear config: 'cost.ms' x 'cost.ds' x 'cost.batches' needs about {need / 2**30:.1f} GiB "
                    f"at m = {m}, d = {d}, B = {B} (estimate 8 (6 m d + B m) + 40 m bytes), more than the "
                    f"{MEMORY_LIMIT / 2**30:.0f} GiB a cost job may use: lower m, d or B"
                )


def _section(cfg: Mapping, name: str) -> dict:
    """Section ``name`` after the checks of :data:`_FIELDS`: {key: checked value}."""
    sec = _req(cfg, name, "")
    unknown = sorted(set(sec) - set(_FIELDS[name])) if isinstance(sec, Mapping) else []
    if unknown:
        raise ValueError(
            f"sublinear config: unknown key(s) {[f'{name}.{k}' for k in unknown]}; allowed: {sorted(_FIELDS[name])}"
        )
    return {k: check(_req(sec, k, f"{name}."), f"{name}.{k}", *args) for k, (check, *args) in _FIELDS[name].items()}


def validate(cfg: Mapping) -> dict:
    """Check the study config and return it as a plain dict (raises ValueError)."""
    if not isinstance(cfg, Mapping):
        raise ValueError("sublinear config: the 'sublinear' key must hold a mapping")
    unknown = sorted(set(cfg) - set(_TOP) - {"results_dir"})
    if unknown:
        raise ValueError(f"sublinear config: unknown key(s) {unknown}; allowed: {sorted(_TOP)}")
    seeds = _int_list(_req(cfg, "seeds", ""), "seeds", 0)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"sublinear config: 'seeds' must be distinct, got {seeds}")
    _pos_float(_req(cfg, "c_threshold", ""), "c_threshold")
    _pos_float(_req(cfg, "eta0", ""), "eta0")
    alpha = _pos_float(_req(cfg, "alpha", ""), "alpha")
    if alpha >= 1:
        raise ValueError(f"sublinear config: 'alpha' must lie in (0, 1), got {alpha}")
    _section(cfg, "activity")
    _section(cfg, "training")
    co = _section(cfg, "cost")
    if co["n_seeds"] > len(seeds):
        raise ValueError(f"sublinear config: 'cost.n_seeds' must be <= len(seeds) = {len(seeds)}, got {co['n_seeds']}")
    if co["rebuild_fraction"] > 1:
        raise ValueError(f"sublinear config: 'cost.rebuild_fraction' must lie in (0, 1], got {co['rebuild_fraction']}")
    if len(co["steps"]) != len(co["ms"]):
        raise ValueError(
            f"sublinear config: 'cost.steps' must give one number of steps per entry of cost.ms "
            f"({len(co['ms'])}), got {co['steps']!r}"
        )
    _fits_memory(co)
    cl = _section(cfg, "claims")
    if cl["sublinear_d"] not in co["ds"]:
        raise ValueError(
            f"sublinear config: 'claims.sublinear_d' must be one of cost.ds {co['ds']}, got {cl['sublinear_d']}"
        )
    si = cl["sublinear_identifier"]
    at_one = co["batches"][0]["identifiers"]
    if si not in at_one or si == "dense":
        raise ValueError(
            "sublinear config: 'claims.sublinear_identifier' must be one of the identifiers run at B = 1 "
            f"{[i for i in at_one if i != 'dense']}, got {si!r}"
        )
    return dict(cfg)


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
