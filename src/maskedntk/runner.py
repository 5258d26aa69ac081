"""Run one grid cell over its seeds and tabulate measurements beside the theory.

``run_cell`` is what both ``maskedntk run`` and the Snakemake ``train`` rule call.  It returns
per-seed summary rows (one per seed), the trajectories L_0..L_K in long format, the local-step
trace when asked for, the theory quantities of the cell, and provenance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import theory
from .cellconfig import CellConfig, dataset_id, parse_cell
from .data import Dataset
from .engine import TrainResult, train
from .metrics import summarize_trajectory
from .provenance import provenance
from .spec import TrainSpec
from .stepsize import resolve_eta


@dataclass
class CellResult:
    runs: pd.DataFrame
    trajectories: pd.DataFrame
    trace: pd.DataFrame | None
    theory: dict
    provenance: dict
    result: TrainResult


def cell_theory(spec: TrainSpec, ds: Dataset, K: int, delta: float, eta_rule) -> tuple[TrainSpec, dict]:
    """Resolve eta for the cell and compute every theory quantity of ALGORITHM.md sec. 3.

    lambda0 and lambda_max are those of H_inf(xi) with xi = xi_eff (1/p for categorical)."""
    n, d = ds.X.shape
    xi, p, tau, m, kappa = spec.xi_eff, spec.p, spec.tau, spec.m, spec.kappa
    lambda0, lam_max = theory.ntk_spectrum(ds.X, xi)
    if not lambda0 > 0:
        raise ValueError(f"lambda0 = {lambda0:.3g}: H_inf is singular for this data set (the theory needs lambda0 > 0)")
    eta = resolve_eta(eta_rule, spec, n=n, d_out=ds.n_outputs, lambda0=lambda0, lambda_max=lam_max)
    spec = spec.replace(eta=eta)
    theta = spec.theta
    out = {
        "lambda0": lambda0,
        "lambda_max": lam_max,
        "theta": theta,
        "eta": eta,
        "eta_rule": eta_rule.describe(),
        "rate_thm3": theory.rate_factor_thm3(eta, theta, tau, lambda0),
        "rate_thm7": theory.rate_factor_thm7(eta, lambda0, tau),
        "thm7_error": theory.error_order_thm7(tau=tau, p=p, n=n, d=d, lambda0=lambda0, m=m),
    }
    if spec.mask == "bernoulli":
        terms = theory.b1_terms(n=n, d=d, m=m, xi=xi, p=p, tau=tau, eta=eta, kappa=kappa, lambda0=lambda0)
        out.update({f"b1_{k}": terms[k] for k in theory.B1_TERMS})
        out.update(B1=terms["B1"], C1=terms["C1"], rate_theory=out["rate_thm3"])
        out.update(
            cor4_order=theory.error_order_cor4(xi),
            cor5_order=theory.error_order_cor5(xi, p, n, K),
            cor6_order=theory.error_order_cor6(xi, p, tau, n, K),
        )
    else:
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
    return spec, out


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


def run_cell(
    cell: CellConfig | dict,
    ds: Dataset,
    *,
    cell_id: str = "cell",
    progress: Callable[[int, int, float, float], None] | None = None,
    progress_every: int = 0,
) -> CellResult:
    """Train every seed of ``cell`` on ``ds`` and measure each trajectory."""
    if isinstance(cell, dict):
        cell = parse_cell(cell)
    K = cell.spec.rounds
    spec, th = cell_theory(cell.spec, ds, K, cell.delta, cell.eta)
    res = train(ds.X, ds.y, spec, cell.seeds, progress=progress, progress_every=progress_every)
    n, d = ds.X.shape
    base = {"experiment": cell.experiment, "cell": cell_id, "dataset": dataset_id(cell.data)}
    base.update({c: getattr(spec, c) for c in SPEC_COLUMNS})
    base.update(xi=spec.xi_eff, n=n, d=d, eta=spec.eta, path=res.path, selection=res.selection)
    base.update(th)
    rows = []
    for i, seed in enumerate(res.seeds):
        row = dict(base, seed=seed)
        row.update(summarize_trajectory(res.losses[i], cell.metrics))
        row["diverged"] = bool(res.diverged_round[i] >= 0)
        row["diverged_round"] = int(res.diverged_round[i])
        rows.append(row)
    runs = pd.DataFrame(rows)
    S, K1 = res.losses.shape
    traj = pd.DataFrame(
        {
            "experiment": cell.experiment,
            "cell": cell_id,
            "seed": np.repeat(np.asarray(res.seeds, dtype=np.int64), K1),
            "round": np.tile(np.arange(K1, dtype=np.int64), S),
            "L": res.losses.reshape(-1),
        }
    )
    trace = None
    if res.trace is not None:
        _, Kt, T1 = res.trace.shape
        trace = pd.DataFrame(
            {
                "experiment": cell.experiment,
                "cell": cell_id,
                "seed": np.repeat(np.asarray(res.seeds, dtype=np.int64), Kt * T1),
                "round": np.tile(np.repeat(np.arange(Kt, dtype=np.int64), T1), S),
                "step": np.tile(np.arange(T1, dtype=np.int64), S * Kt),
                "L_surrogate": res.trace.reshape(-1),
            }
        )
    prov = provenance({"cell": cell.to_dict(), "cell_id": cell_id, "dataset_meta": ds.meta})
    return CellResult(runs=runs, trajectories=traj, trace=trace, theory=th, provenance=prov, result=res)
