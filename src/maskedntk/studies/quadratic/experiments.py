"""Configuration -> the study's experiments, with validation.

The study reads ``config["quadratic"]`` only.  :func:`validate` checks every key (unknown keys,
missing keys, types and ranges) and raises ``ValueError`` naming the key and what is allowed.
The grid is small and explicit: one job per (setup, regime) for the flow figures, one per
regime for the rates, one each for the spectrum, the limit, the phase sweep, the empirical
risk and masked training.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ...core.validate import check_choice, check_float, check_int

REGIMES = ("over", "equal", "under")
#: the two setups of the paper (see :mod:`.problems`)
SETUPS = ("orthonormal", "gaussian")

#: key -> kind of value, per section; "ratio" is a number in (0, 1), "pair" is [alpha, alpha*]
SCHEMA: dict[str, object] = {
    "base_seed": "int0",
    "seeds": "int1",
    "threads": "int1",
    "spectrum": {"d": "int1", "alpha": "ratio", "alpha_star": "ratio", "bins": "int1"},
    "regimes": {r: "pair" for r in REGIMES},
    "flow": {"dims": "dims", "eta": "pos", "gamma_max": "pos", "setups": "setups"},
    "limit": {"n_gamma": "int1", "gamma_min": "pos", "gaussian_nodes": "int1"},
    "rates": {
        "dims": "dims",
        "eta": "pos",
        "t_max": "pos",
        "over": "pair",
        "equal": "pair",
        "fit_over": "window",
        "fit_equal_loss": "window",
    },
    "gap": {"gamma_max": "pos", "n_gamma": "int1", "fit_window": "window"},
    "phase": {"d": "int1", "alpha_star": "ratio", "alphas": "ratios", "eta": "pos", "gamma_max": "pos"},
    "empirical": {
        "d": "int1",
        "alpha": "ratio",
        "alpha_star": "ratio",
        "n_over_d2": "poslist",
        "eta": "pos",
        "gamma_max": "pos",
    },
    "masked": {
        "d": "int1",
        "alpha": "ratio",
        "alpha_star": "ratio",
        "p": "int1",
        "xi": "ratio1",
        "taus": "intlist",
        "xis": "ratios1",
        "xi_sweep_tau": "int1",
        "eta": "pos",
        "gamma_max": "pos",
    },
    "claims": {
        "alpha": "ratio",
        "n_boot": "int1",
        "seed": "int0",
        "recovery_tol": "pos",
        "exponent_tol": "pos",
        "rate_tol": "pos",
        "gaussian_tol": "pos",
        "late_slope_window": "window",
        "late_slope_tol": "pos",
    },
}


def _check_value(name: str, kind: str, v):
    if kind == "int0":
        return check_int(name, v, 0)
    if kind == "int1":
        return check_int(name, v, 1)
    if kind == "pos":
        return check_float(name, v, 0.0, lo_open=True)
    if kind == "ratio":
        return check_float(name, v, 0.0, 1.0, lo_open=True, hi_open=True)
    if kind == "ratio1":
        return check_float(name, v, 0.0, 1.0, lo_open=True)
    if not isinstance(v, (list, tuple)) or not v:
        raise ValueError(f"{name} = {v!r}: must be a non-empty list")
    if kind == "pair":
        if len(v) != 2:
            raise ValueError(f"{name} = {v!r}: must be [alpha, alpha_star], two numbers in (0, 1)")
        return [_check_value(f"{name}[{i}]", "ratio", x) for i, x in enumerate(v)]
    if kind == "window":
        if len(v) != 2:
            raise ValueError(f"{name} = {v!r}: must be [low, high] with 0 < low < high")
        lo, hi = (_check_value(f"{name}[{i}]", "pos", x) for i, x in enumerate(v))
        if lo >= hi:
            raise ValueError(f"{name} = {v!r}: must be [low, high] with 0 < low < high")
        return [lo, hi]
    if kind == "dims":
        out = [check_int(f"{name}[{i}]", x, 4) for i, x in enumerate(v)]
        if sorted(set(out)) != out:
            raise ValueError(f"{name} = {v!r}: must be strictly increasing integers >= 4")
        return out
    if kind == "setups":
        return [check_choice(f"{name}[{i}]", x, SETUPS) for i, x in enumerate(v)]
    if kind == "ratios":
        return [_check_value(f"{name}[{i}]", "ratio", x) for i, x in enumerate(v)]
    if kind == "ratios1":
        return [_check_value(f"{name}[{i}]", "ratio1", x) for i, x in enumerate(v)]
    if kind == "poslist":
        return [_check_value(f"{name}[{i}]", "pos", x) for i, x in enumerate(v)]
    if kind == "intlist":
        return [check_int(f"{name}[{i}]", x, 1) for i, x in enumerate(v)]
    raise AssertionError(kind)


def validate(cfg: Mapping, prefix: str = "quadratic") -> dict:
    """Return a checked copy of the study's configuration (``config['quadratic']``)."""
    if not isinstance(cfg, Mapping):
        raise ValueError(f"{prefix}: must be a mapping with keys {sorted(SCHEMA)}")
    return _validate(cfg, SCHEMA, prefix)


def _validate(cfg: Mapping, schema: Mapping, prefix: str) -> dict:
    unknown = sorted(set(cfg) - set(schema))
    if unknown:
        raise ValueError(f"{prefix}.{unknown[0]}: unknown key; allowed keys are {sorted(schema)}")
    missing = sorted(set(schema) - set(cfg))
    if missing:
        raise ValueError(f"{prefix}.{missing[0]}: missing key; required keys are {sorted(schema)}")
    out = {}
    for key, kind in schema.items():
        name = f"{prefix}.{key}"
        if isinstance(kind, Mapping):
            if not isinstance(cfg[key], Mapping):
                raise ValueError(f"{name}: must be a mapping with keys {sorted(kind)}")
            out[key] = _validate(cfg[key], kind, name)
        else:
            out[key] = _check_value(name, kind, cfg[key])
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
