"""Predict a grid of cells over seeds (``maskedntk predict``, the predicted paper-scale map).

A grid is a base cell dict (as :func:`cellconfig.parse_cell` reads it) and a mapping from train
or eta keys to lists of values; :func:`expand_grid` gives one cell per combination.  A cell's
step (and the theorem's numbers) does not depend on the seed, so :func:`resolve_cells`
computes it once per cell (once per grid for the rule 'grid_lambda_max'); each seed's
:class:`prediction_init.Initialisation` depends only on (data, seed, m, kappa, init), so
:func:`predict_resolved` computes it once and shares it between the cells.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cellconfig import CellConfig, parse_cell
from .data import Dataset
from .prediction import predict_plateau
from .prediction_init import check_supported, init_key, initialise
from .runner import resolve_cell_eta
from .spec import TrainSpec
from .stepsize import GRID_FIELDS, EtaRule
from .summary import cell_theory

#: the columns of a prediction table, in order (the settings, then the prediction's terms)
SETTING_COLUMNS = ("cell", "mask", "p", "xi", "tau", "m", "kappa", "rounds", "eta", "seed")
PREDICTION_COLUMNS = (
    "plateau_predicted",
    "rate_predicted",
    "mean_term",
    "noise_first_order",
    "noise_kernel",
    "trace_C0",
    "trace_C_window",
    "rate_theory",
    "bound_theory",
    "prediction_seconds",
    "prediction_note",
)


def expand_grid(base: dict, axes: dict[tuple[str, str], list]) -> list[dict]:
    """One cell dict per combination of ``axes`` ((block, key) -> values), over ``base``.

    A categorical cell drops ``xi`` (it is 1/p); duplicates that this creates are removed.  With
    the eta rule 'grid_lambda_max' the rule's grid is filled with the expanded cells."""
    keys = list(axes)
    cells, seen = [], set()
    for values in itertools.product(*(axes[k] for k in keys)):
        cell = {b: dict(v) if isinstance(v, dict) else v for b, v in base.items()}
        for (block, key), v in zip(keys, values, strict=True):
            cell.setdefault(block, {})[key] = v
        if cell.get("train", {}).get("mask") == "categorical":
            cell["train"].pop("xi", None)
        sig = repr(sorted((b, sorted(v.items()) if isinstance(v, dict) else v) for b, v in cell.items()))
        if sig not in seen:
            seen.add(sig)
            cells.append(cell)
    if cells and cells[0].get("eta", {}).get("rule") == "grid_lambda_max":
        grid = []
        for c in cells:
            spec = parse_cell({**c, "eta": {"rule": "lambda_max", "scale": 0.5}}).spec
            grid.append({f: getattr(spec, f) if f != "xi" else spec.xi_eff for f in GRID_FIELDS})
        for c in cells:
            c["eta"] = {**c["eta"], "grid": grid}
    return cells


def cell_label(cell: CellConfig) -> str:
    s = cell.spec
    xi = f"xi={s.xi_eff:.4g}" if s.mask == "bernoulli" else f"xi=1/{s.p}"
    return f"{s.mask[:3]} p={s.p} {xi} tau={s.tau} m={s.m}"


def _theory(cell: CellConfig, spec, ds: Dataset, lambda0: float, lam_max: float) -> tuple[float, float]:
    record = {"spec": spec.to_dict(), "n": ds.n, "d": ds.d, "lambda0": lambda0, "lambda_max": lam_max, "eta": spec.eta}
    th = cell_theory(record, cell.delta)
    return th["rate_theory"], th["B1"] if spec.mask == "bernoulli" else th["thm7_error"]


@dataclass(frozen=True)
class ResolvedCell:
    """A cell with its step resolved on the data: what every seed's prediction shares."""

    label: str
    spec: TrainSpec  # with the cell's eta
    seeds: tuple[int, ...]
    rate_theory: float
    bound_theory: float


def resolve_cells(cells: list[dict], ds: Dataset) -> list[ResolvedCell]:
    """Each cell's eta (its step rule on ``ds``) and the theorem's rate and bound, once per cell.

    The rule ``grid_lambda_max`` gives one step to the whole grid: it is computed for the
    first cell of a grid and reused for the others (as the rule 'fixed' with that value)."""
    grid_steps: dict[str, float] = {}
    out = []
    for raw in cells:
        cell = parse_cell(raw)
        rule = cell.eta
        if rule.rule == "grid_lambda_max":
            key = repr((rule.scale, rule.grid))
            if key in grid_steps:
                rule = EtaRule(rule="fixed", value=grid_steps[key])
        spec, lambda0, lam_max = resolve_cell_eta(cell.spec, ds, rule)
        if cell.eta.rule == "grid_lambda_max":
            grid_steps.setdefault(key, spec.eta)
        out.append(ResolvedCell(cell_label(cell), spec, tuple(cell.seeds), *_theory(cell, spec, ds, lambda0, lam_max)))
    return out


def predict_cells(cells: list[dict], ds: Dataset, rounds: dict | None = None, **kw) -> pd.DataFrame:
    """One row per (cell, seed) with SETTING_COLUMNS + PREDICTION_COLUMNS, in the cells' order.

    ``rounds``: optional {(cell index, seed): K} (the rounds a training run actually ran);
    ``kw`` goes to :func:`prediction.predict_plateau`.  A cell outside the predictor's
    conventions gets NaN and the reason in ``prediction_note``."""
    return predict_resolved(resolve_cells(cells, ds), ds, rounds, **kw)


def predict_resolved(
    cells: list[ResolvedCell], ds: Dataset, rounds: dict | None = None, seeds=None, **kw
) -> pd.DataFrame:
    """:func:`predict_cells` for resolved cells, restricted to ``seeds`` if given.  The seeds
    are the outer loop: a seed's :class:`prediction_init.Initialisation` (and the products it
    keeps for the cells, e.g. sum_r K_r S h_r(0) for each S) is computed once for all cells."""
    wanted = sorted({s for c in cells for s in c.seeds} if seeds is None else set(seeds))
    rows: dict[tuple[int, int], dict] = {}
    for seed in wanted:
        init = None
        for i, c in enumerate(cells):
            if seed not in c.seeds:
                continue
            spec = c.spec
            K = int((rounds or {}).get((i, seed), spec.rounds))
            row = {
                "cell": c.label,
                "mask": spec.mask,
                "p": spec.p,
                "xi": spec.xi_eff,
                "tau": spec.tau,
                "m": spec.m,
                "kappa": spec.kappa,
                "rounds": K,
                "eta": spec.eta,
                "seed": seed,
                "rate_theory": c.rate_theory,
                "bound_theory": c.bound_theory,
                "prediction_note": "",
            }
            t0 = time.perf_counter()
            try:
                check_supported(spec)
                if init is None or init.key != init_key(spec, seed, ds.X, ds.n_outputs):
                    init = initialise(ds.X, spec, seed, ds.n_outputs)  # one at a time (memory)
                pred = predict_plateau(ds.X, ds.y, spec, seed, rounds=K, init=init, **kw)
                row.update({k: v for k, v in pred.as_row().items() if k in PREDICTION_COLUMNS})
            except ValueError as err:
                row.update({k: math.nan for k in PREDICTION_COLUMNS[:7]}, prediction_note=str(err))
            row["prediction_seconds"] = time.perf_counter() - t0
            rows[(i, seed)] = row
    ordered = [rows[(i, s)] for i, c in enumerate(cells) for s in c.seeds if (i, s) in rows]
    return pd.DataFrame(ordered, columns=list(SETTING_COLUMNS + PREDICTION_COLUMNS))


def summary_by_cell(table: pd.DataFrame) -> pd.DataFrame:
    """Seed means of the prediction columns per cell (the printed table)."""
    cols = ["plateau_predicted", "rate_predicted", "mean_term", "noise_first_order", "noise_kernel"]
    extra = [c for c in ("plateau", "window_mean", "rounds_run", "stationary") if c in table]
    agg = {c: "mean" for c in cols + [c for c in extra if c != "stationary"]}
    if "stationary" in table:
        agg["stationary"] = "sum"
    g = table.groupby("cell", sort=False).agg({**agg, "seed": "count", "bound_theory": "first"})
    return g.rename(columns={"seed": "seeds"}).replace({np.inf: math.inf})
