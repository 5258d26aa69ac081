"""Per-seed summary rows of a trained cell: measurements beside the theory (no torch needed).

:func:`summarize_cell` turns a trained cell's record (see :func:`maskedntk.studies.masked.runner.train_cell`)
and its trajectories into one row per seed: the cell's settings, the plateau, contraction
factor and convergence flags (:mod:`maskedntk.studies.masked.metrics`) and every theory quantity of
docs/masked/mathematics.md sec. 3 (:mod:`maskedntk.studies.masked.theory`).
"""

from __future__ import annotations

import math

import pandas as pd

from . import theory
from .metrics import PlateauOptions, summarize_trajectory
from .spec import TrainSpec

#: spec fields copied into every summary row
SPEC_COLUMNS = (
    "mask",
    "p",
    "tau",
    "m",
    "kappa",
    "rounds",
    "surrogate",
    "aggregation",
    "loss",
    "init",
    "output_scale",
    "relu_grad_at_zero",
    "dtype",
)


def cell_theory(record: dict, delta: float) -> dict:
    """Every theory quantity of docs/masked/mathematics.md sec. 3 for a trained cell's record.

    lambda0 is lambda_min(H_inf(xi)) with xi = xi_eff (1/p for categorical masks).  B1, its
    terms and the corollary orders belong to Theorem 3 (Bernoulli masks) and are NaN for
    categorical masks; the Theorem 7 quantities are NaN for Bernoulli masks."""
    spec = TrainSpec(**record["spec"])
    n, d, K = record["n"], record["d"], spec.rounds
    xi, p, tau, m, kappa = spec.xi_eff, spec.p, spec.tau, spec.m, spec.kappa
    lambda0, eta, theta = record["lambda0"], record["eta"], spec.theta
    out = {
        "lambda0": lambda0,
        "lambda_max": record["lambda_max"],
        "theta": theta,
        "rate_thm3": math.nan,
        "rate_thm7": math.nan,
        "thm7_error": math.nan,
    }
    if spec.mask == "bernoulli":
        terms = theory.b1_terms(n=n, d=d, m=m, xi=xi, p=p, tau=tau, eta=eta, kappa=kappa, lambda0=lambda0)
        out["rate_thm3"] = theory.rate_factor_thm3(eta, theta, tau, lambda0)
        out.update({f"b1_{k}": terms[k] for k in theory.B1_TERMS})
        out.update(
            B1=terms["B1"],
            C1=terms["C1"],
            rate_theory=out["rate_thm3"],
            cor4_order=theory.error_order_cor4(xi),
            cor5_order=theory.error_order_cor5(xi, p, n, K),
            cor6_order=theory.error_order_cor6(xi, p, tau, n, K),
        )
    else:
        out["rate_thm7"] = theory.rate_factor_thm7(eta, lambda0, tau)
        out["thm7_error"] = theory.error_order_thm7(tau=tau, p=p, n=n, d=d, lambda0=lambda0, m=m)
        out.update({f"b1_{k}": math.nan for k in theory.B1_TERMS})
        out.update(
            B1=math.nan,
            C1=math.nan,
            rate_theory=out["rate_thm7"],
            cor4_order=math.nan,
            cor5_order=math.nan,
            cor6_order=math.nan,
        )
    req = theory.requirements_report(
        mask=spec.mask, n=n, d=d, m=m, K=K, p=p, tau=tau, eta=eta, kappa=kappa, xi=xi, lambda0=lambda0, delta=delta
    )
    out.update(eta_ratio=req["eta_ratio"], width_ratio=req["width_ratio"], requirements_theorem=req["theorem"])
    return out


def summarize_cell(record: dict, trajectories: pd.DataFrame, options: PlateauOptions, delta: float) -> pd.DataFrame:
    """One row per seed: the cell's settings, the measurements and the theory quantities."""
    spec = record["spec"]
    base = {"experiment": record["experiment"], "cell": record["cell"], "dataset": record["dataset"]}
    base.update({c: spec[c] for c in SPEC_COLUMNS})
    base.update(
        xi=record["xi_eff"],
        n=record["n"],
        d=record["d"],
        eta=record["eta"],
        eta_rule=record["eta_rule"],
        path=record["path"],
        selection=record["selection"],
    )
    base.update(cell_theory(record, delta))
    rows = []
    by_seed = {s: g.sort_values("round")["L"].to_numpy() for s, g in trajectories.groupby("seed")}
    zero = record.get("zero_round", [-1] * len(record["seeds"]))  # records written before it was kept
    for seed, div, z in zip(record["seeds"], record["diverged_round"], zero, strict=True):
        row = dict(base, seed=seed)
        row.update(summarize_trajectory(by_seed[seed], options, rounds=spec["rounds"], converged_to_zero=z >= 0))
        row["diverged"] = div >= 0
        row["diverged_round"] = div
        rows.append(row)
    return pd.DataFrame(rows)
