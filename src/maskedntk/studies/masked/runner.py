"""Run one grid cell over its seeds, then tabulate the measurements beside the theory.

Two steps, so that the expensive one never reruns for a cheap change:

* :func:`train_cell` trains every seed and returns the raw outcome: trajectories L_0..L_K,
  the local-step trace when asked for, and a record (the spec, the eta the rule chose,
  lambda0 and lambda_max of H_inf(xi), the round at which each seed diverged);
* :func:`summarize_cell` turns a record and its trajectories into one row per seed:
  plateau, contraction factor, convergence flags (:mod:`maskedntk.studies.masked.metrics`) and every theory
  quantity of docs/masked/mathematics.md sec. 3 (:mod:`maskedntk.studies.masked.theory`).

:func:`run_cell` does both; the Snakemake workflow runs them as separate rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from maskedntk.core.provenance import provenance

from . import theory
from .cellconfig import CellConfig, parse_cell, parsed_dataset_id
from .data import Dataset
from .engine import TrainResult, run_many
from .spec import TrainSpec
from .stepsize import EtaRule, grid_eta, resolve_eta
from .summary import cell_theory, summarize_cell


@dataclass
class TrainedCell:
    record: dict  # JSON-serialisable: what summarize_cell needs besides the trajectories
    trajectories: pd.DataFrame  # experiment, cell, seed, round, L, dead (fraction of dead neurons)
    trace: pd.DataFrame  # experiment, cell, seed, round, step, L_surrogate (empty without trace)
    result: TrainResult


@dataclass
class CellResult:
    runs: pd.DataFrame
    trajectories: pd.DataFrame
    trace: pd.DataFrame
    theory: dict
    provenance: dict
    result: TrainResult


TRACE_COLUMNS = ("experiment", "cell", "seed", "round", "step", "L_surrogate")


def resolve_cell_eta(spec: TrainSpec, ds: Dataset, eta_rule: EtaRule) -> tuple[TrainSpec, float, float]:
    """(spec with eta set by the rule, lambda0, lambda_max) with lambda's of H_inf(xi_eff)."""
    lambda0, lam_max = theory.spec_ntk_spectrum(ds.X, spec)
    if not lambda0 > 0:
        raise ValueError(f"lambda0 = {lambda0:.3g}: H_inf is singular for this data set (the theory needs lambda0 > 0)")
    if eta_rule.rule == "grid_lambda_max":
        eta = grid_eta(eta_rule, ds.X, n=ds.n, d_out=ds.n_outputs)
    else:
        eta = resolve_eta(eta_rule, spec, n=ds.n, d_out=ds.n_outputs, lambda0=lambda0, lambda_max=lam_max)
    return spec.replace(eta=eta), lambda0, lam_max


def train_cell(
    cell: CellConfig,
    ds: Dataset,
    *,
    cell_id: str = "cell",
    progress: Callable[[int, int, float, float], None] | None = None,
    progress_every: int = 0,
) -> TrainedCell:
    """Train every seed of ``cell`` on ``ds`` (the eta rule is applied first)."""
    cb = None if progress is None else (lambda job, seed, k, L, t: progress(seed, k, L, t))
    return train_cells([(cell_id, cell)], ds, progress=cb, progress_every=progress_every)[0]


def train_cells(
    cells: list[tuple[str, CellConfig]],
    ds: Dataset,
    *,
    progress: Callable[[int, int, int, float, float], None] | None = None,
    progress_every: int = 0,
) -> list[TrainedCell]:
    """Train the seeds of several (cell id, cell) on the same data set as one computation
    (:func:`maskedntk.studies.masked.engine.train_many`: cells of the same shapes share
    batches); ``progress(cell index, seed, k, L_k, elapsed)``.  One :class:`TrainedCell` per cell.

    The cells were validated when they were parsed, the data set when it was built or loaded:
    nothing is checked again here (:func:`maskedntk.studies.masked.engine.run_many`)."""
    resolved = [resolve_cell_eta(cell.spec, ds, cell.eta) for _, cell in cells]
    results = run_many(
        ds.X,
        ds.y,
        [(spec, cell.seeds) for (spec, _, _), (_, cell) in zip(resolved, cells, strict=True)],
        progress=progress,
        progress_every=progress_every,
    )
    return [
        _trained(cell, ds, cell_id, spec, lambda0, lam_max, res)
        for (cell_id, cell), (spec, lambda0, lam_max), res in zip(cells, resolved, results, strict=True)
    ]


def _trained(cell: CellConfig, ds: Dataset, cell_id: str, spec: TrainSpec, lambda0, lam_max, res) -> TrainedCell:
    """The tables and the record of one trained cell."""
    seeds = np.asarray(res.seeds, dtype=np.int64)
    # one row per (seed, round k = 0..K_seed): seeds extended past `rounds` have more rows
    traj = pd.concat(
        [
            pd.DataFrame(
                {
                    "experiment": cell.experiment,
                    "cell": cell_id,
                    "seed": sd,
                    "round": np.arange(K + 1, dtype=np.int64),
                    "L": res.losses[i, : K + 1],
                    "dead": res.dead[i, : K + 1],
                }
            )
            for i, (sd, K) in enumerate(zip(seeds, res.rounds_run, strict=True))
        ],
        ignore_index=True,
    )
    if res.trace is not None:
        T1 = res.trace.shape[2]
        trace = pd.concat(
            [
                pd.DataFrame(
                    {
                        "experiment": cell.experiment,
                        "cell": cell_id,
                        "seed": sd,
                        "round": np.repeat(np.arange(K, dtype=np.int64), T1),
                        "step": np.tile(np.arange(T1, dtype=np.int64), K),
                        "L_surrogate": res.trace[i, :K].reshape(-1),
                    }
                )
                for i, (sd, K) in enumerate(zip(seeds, res.rounds_run, strict=True))
            ],
            ignore_index=True,
        )
    else:
        trace = pd.DataFrame(
            {
                c: pd.Series(
                    dtype="int64" if c in ("seed", "round", "step") else ("float64" if c == "L_surrogate" else "object")
                )
                for c in TRACE_COLUMNS
            }
        )
    record = {
        "experiment": cell.experiment,
        "cell": cell_id,
        "dataset": parsed_dataset_id(cell.data),
        "n": ds.n,
        "d": ds.d,
        "n_outputs": ds.n_outputs,
        "spec": spec.to_dict(),
        "xi_eff": spec.xi_eff,
        "eta": spec.eta,
        "eta_rule": cell.eta.describe(),
        "lambda0": lambda0,
        "lambda_max": lam_max,
        "seeds": [int(s) for s in res.seeds],
        "diverged_round": [int(r) for r in res.diverged_round],
        "zero_round": [int(r) for r in res.zero_round],
        "rounds_run": [int(r) for r in res.rounds_run],
        "path": res.path,
        "selection": res.selection,
        "provenance": provenance({"cell": cell.to_dict(), "cell_id": cell_id, "dataset_meta": ds.meta}),
    }
    return TrainedCell(record=record, trajectories=traj, trace=trace, result=res)


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
    trained = train_cell(cell, ds, cell_id=cell_id, progress=progress, progress_every=progress_every)
    runs = summarize_cell(trained.record, trained.trajectories, cell.metrics, cell.delta)
    th = cell_theory(trained.record, cell.delta)
    th.update(eta=trained.record["eta"], eta_rule=trained.record["eta_rule"])
    return CellResult(
        runs=runs,
        trajectories=trained.trajectories,
        trace=trained.trace,
        theory=th,
        provenance=trained.record["provenance"],
        result=trained.result,
    )
