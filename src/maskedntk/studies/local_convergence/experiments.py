"""The study's configuration: defaults, validation (ValueError naming the key and what is
allowed) and the grid of runs each experiment needs.

Experiments (docs/studies/local_convergence.md):
  * curves    -- population GD for every m/m* in ``ratios``, d in ``curves.d`` and init
                 distance rho in ``curves.rho``; one job per ratio, runs batched over (d, rho, seed);
  * threshold -- population GD over a wider range of rho (the initial loss grows with it);
                 one job per ratio;
  * link      -- the same teacher data (n Gaussian samples) trained by (i) this study's GD on
                 both layers from near the teacher and (ii) the core study's masked-neuron
                 algorithm (Liao & Kyrillidis) at the same and at NTK-scale widths; one job.
"""

from __future__ import annotations

import copy
import math

DEFAULTS: dict = {
    "m_star": 4,
    "a_star_range": [0.5, 1.5],
    "ratios": [1, 2, 4, 8],
    "seeds": list(range(8)),
    "eta": 0.5,
    "delta": 0.1,
    "balance_lambda": 0.0,
    "curves": {"d": [10], "rho": [0.2, 0.5], "steps": 8000, "checkpoints": 80},
    "threshold": {"d": 10, "rho": [0.25, 0.5, 1.0, 2.0, 3.0], "steps": 3000, "eta": 0.25, "tol": 1.0e-4},
    "link": {
        "d": 10,
        "n": 200,
        "rho": 0.3,
        "steps": 3000,
        "seeds": [0, 1, 2, 3, 4, 5],
        "core_widths": [4, 8, 16, 32, 128, 256],
        "core_rounds": 120,
        "core_eta": 1.0,
        "core_kappa": 1.0,
        "core_xi": 0.5,
        "core_p": 4,
        "core_tau": 4,
    },
    "claims": {
        "alpha": 0.05,
        "level_hi": 1.0e-4,
        "level_lo": 1.0e-6,
        "rate_band": 2.0,
        "align_drop": 1.0e-3,
        "conv_p0": 0.9,
        "local_rho_max": 0.5,
        "fit_lo": 1.0e-8,
        "fit_hi": 1.0e-5,
    },
}

_INT_LISTS = {"ratios", "seeds"}


def _err(key: str, value, allowed: str) -> ValueError:
    return ValueError(f"local_convergence.{key} = {value!r}: {allowed}")


def _pos_int(key, v, lo=1):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise _err(key, v, f"must be an integer >= {lo}")
    return int(v)


def _pos_float(key, v, lo=0.0, strict=True, hi=math.inf):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise _err(key, v, "must be a finite number")
    v = float(v)
    if (v <= lo if strict else v < lo) or v > hi:
        raise _err(key, v, f"must be {'>' if strict else '>='} {lo}" + (f" and <= {hi}" if hi < math.inf else ""))
    return v


def _int_list(key, v, lo=0):
    if not isinstance(v, (list, tuple)) or not v:
        raise _err(key, v, "must be a non-empty list of integers")
    out = [_pos_int(f"{key}[{i}]", x, lo) for i, x in enumerate(v)]
    if len(set(out)) != len(out):
        raise _err(key, v, "must not repeat a value")
    return out


def _float_list(key, v, lo=0.0, strict=False):
    if not isinstance(v, (list, tuple)) or not v:
        raise _err(key, v, "must be a non-empty list of numbers")
    return [_pos_float(f"{key}[{i}]", x, lo, strict) for i, x in enumerate(v)]


def _merge(base: dict, over: dict, prefix: str = "") -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if k not in base:
            raise ValueError(f"local_convergence.{prefix}{k}: unknown key; allowed keys: {sorted(base)}")
        out[k] = _merge(base[k], v, f"{prefix}{k}.") if isinstance(base[k], dict) and isinstance(v, dict) else v
    return out


def validate(cfg: dict | None) -> dict:
    """The full, validated study configuration (defaults filled in)."""
    if cfg is None:
        raise ValueError("local_convergence: missing; the configuration needs a top-level key 'local_convergence'")
    if not isinstance(cfg, dict):
        raise ValueError(f"local_convergence = {cfg!r}: must be a mapping of settings")
    c = _merge(DEFAULTS, cfg)
    c["m_star"] = _pos_int("m_star", c["m_star"])
    ar = c["a_star_range"]
    if not (isinstance(ar, (list, tuple)) and len(ar) == 2):
        raise _err("a_star_range", ar, "must be [a_min, a_max] with 0 < a_min <= a_max")
    lo = _pos_float("a_star_range[0]", ar[0])
    hi = _pos_float("a_star_range[1]", ar[1])
    if hi < lo:
        raise _err("a_star_range", ar, "must be [a_min, a_max] with 0 < a_min <= a_max")
    c["a_star_range"] = [lo, hi]
    c["ratios"] = sorted(_int_list("ratios", c["ratios"], 1))
    c["seeds"] = _int_list("seeds", c["seeds"], 0)
    c["eta"] = _pos_float("eta", c["eta"])
    c["delta"] = _pos_float("delta", c["delta"], hi=math.pi)
    c["balance_lambda"] = _pos_float("balance_lambda", c["balance_lambda"], strict=False)
    cu = c["curves"]
    cu["d"] = _int_list("curves.d", cu["d"], 1)
    cu["rho"] = _float_list("curves.rho", cu["rho"])
    cu["steps"] = _pos_int("curves.steps", cu["steps"])
    cu["checkpoints"] = _pos_int("curves.checkpoints", cu["checkpoints"], 3)
    th = c["threshold"]
    th["d"] = _pos_int("threshold.d", th["d"])
    th["rho"] = sorted(_float_list("threshold.rho", th["rho"]))
    th["steps"] = _pos_int("threshold.steps", th["steps"])
    th["eta"] = _pos_float("threshold.eta", th["eta"])
    th["tol"] = _pos_float("threshold.tol", th["tol"])
    li = c["link"]
    for k in ("d", "n", "steps", "core_rounds", "core_p", "core_tau"):
        li[k] = _pos_int(f"link.{k}", li[k])
    li["rho"] = _pos_float("link.rho", li["rho"], strict=False)
    li["seeds"] = _int_list("link.seeds", li["seeds"], 0)
    li["core_widths"] = sorted(_int_list("link.core_widths", li["core_widths"], 1))
    for k in ("core_eta", "core_kappa"):
        li[k] = _pos_float(f"link.{k}", li[k])
    li["core_xi"] = _pos_float("link.core_xi", li["core_xi"], hi=1.0)
    cl = c["claims"]
    cl["alpha"] = _pos_float("claims.alpha", cl["alpha"], hi=0.5)
    for k in ("level_hi", "level_lo", "align_drop", "fit_lo", "fit_hi"):
        cl[k] = _pos_float(f"claims.{k}", cl[k])
    if cl["level_lo"] >= cl["level_hi"]:
        raise _err("claims.level_lo", cl["level_lo"], f"must be below claims.level_hi = {cl['level_hi']}")
    if cl["fit_lo"] >= cl["fit_hi"]:
        raise _err("claims.fit_lo", cl["fit_lo"], f"must be below claims.fit_hi = {cl['fit_hi']}")
    cl["rate_band"] = _pos_float("claims.rate_band", cl["rate_band"], lo=1.0)
    cl["conv_p0"] = _pos_float("claims.conv_p0", cl["conv_p0"], hi=0.999)
    cl["local_rho_max"] = _pos_float("claims.local_rho_max", cl["local_rho_max"])
    for d in cu["d"] + [th["d"], li["d"]]:
        if d < c["m_star"]:
            raise _err(
                "curves.d / threshold.d / link.d", d, f"must be >= m_star = {c['m_star']} (orthonormal teachers)"
            )
    return c


#: job -> the settings it reads: top-level key -> None (all of it) or the sub-keys it reads.
#: The workflow hands each job only these (:func:`job_settings`), so that a change elsewhere in
#: the config (a claims threshold, say) reruns only the jobs that read it.
_RUN = {"m_star": None, "a_star_range": None, "seeds": None, "delta": None, "balance_lambda": None}
_FIT = {"claims": ("fit_lo", "fit_hi")}
JOB_SETTINGS: dict[str, dict] = {
    "curves": {**_RUN, "eta": None, "curves": None, **_FIT},
    "threshold": {**_RUN, "threshold": ("d", "rho", "steps", "eta"), **_FIT},
    "link": {
        "m_star": None,
        "a_star_range": None,
        "ratios": None,
        "eta": None,
        "delta": None,
        "balance_lambda": None,
        "link": None,
    },
    "claims": {"delta": None, "threshold": ("tol",), "claims": None},
    "figure-loss_curves": {"m_star": None, "eta": None},
    "figure-alignment": {"delta": None},
    "figure-rate_vs_m": {"claims": ("level_hi", "level_lo", "rate_band")},
    "figure-mstar_contrast": {},
    "figure-threshold": {"threshold": ("d", "rho", "steps", "eta", "tol"), "claims": ("local_rho_max",)},
    "figure-link": {"m_star": None, "ratios": None, "link": ("d", "n", "steps", "core_rounds", "core_tau")},
}


def job_settings(cfg: dict, job: str) -> dict:
    """The part of the (validated) study config that job ``job`` (a key of
    :data:`JOB_SETTINGS`) reads, with the same structure."""
    if job not in JOB_SETTINGS:
        raise ValueError(f"job must be one of {sorted(JOB_SETTINGS)}, got {job!r}")
    return {k: cfg[k] if keys is None else {s: cfg[k][s] for s in keys} for k, keys in JOB_SETTINGS[job].items()}


def settings(cfg: dict) -> dict:
    """What a job works with: a whole study config is validated (defaults filled in); one job's
    settings (:func:`job_settings` of a validated config, as the workflow passes) are used as given."""
    return validate(cfg) if all(k in cfg for k in DEFAULTS) else cfg


def levels(cfg: dict) -> list[float]:
    """The loss levels whose first-hitting steps every run records: 1e-1 ... 1e-14."""
    return [10.0 ** (-k) for k in range(1, 15)]


def grid(cfg: dict, experiment: str, ratio: int) -> list[dict]:
    """The runs of one job: [{'seed', 'd', 'rho', 'm'}], in batch order."""
    m = cfg["m_star"] * ratio
    if experiment == "curves":
        return [
            {"seed": s, "d": d, "rho": r, "m": m}
            for d in cfg["curves"]["d"]
            for r in cfg["curves"]["rho"]
            for s in cfg["seeds"]
        ]
    if experiment == "threshold":
        d = cfg["threshold"]["d"]
        return [{"seed": s, "d": d, "rho": r, "m": m} for r in cfg["threshold"]["rho"] for s in cfg["seeds"]]
    raise ValueError(f"experiment = {experiment!r}: must be one of ['curves', 'threshold']")


def hit_col(level: float) -> str:
    """The run-table column holding the first step with L <= level (level = 1e-k -> 'hit_k')."""
    return f"hit_{int(round(-math.log10(level)))}"
