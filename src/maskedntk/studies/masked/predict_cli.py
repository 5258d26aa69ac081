"""``maskedntk predict``: the predicted plateau of a grid of cells, printed and written to CSV
(:mod:`maskedntk.cli` builds the parser; :mod:`.predict_grid` does the work)."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from .cellconfig import load_data, parse_cell
from .predict_grid import expand_grid, predict_cells, summary_by_cell


def grid_from_args(args, cell_from_args, list_opts) -> tuple[dict, dict]:
    """(base cell dict, axes): the list-valued options become the grid's axes; everything else
    (--config, data options, --seeds) the base cell, as ``maskedntk run`` reads it."""
    plain = argparse.Namespace(**vars(args))
    axes = {}
    for _flag, block, key, *_ in list_opts:
        values = getattr(args, f"opt_{block}_{key}")
        if values is not None:
            axes[(block, key)] = values
            setattr(plain, f"opt_{block}_{key}", None)
    base = cell_from_args(plain)
    if ("eta", "value") in axes and ("eta", "rule") not in axes and "rule" not in base["eta"]:
        base["eta"]["rule"] = "fixed"
    return base, axes


def _fmt(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        return "nan" if math.isnan(x) else f"{x:.4g}"
    return str(x)


def _print_table(df, cols) -> None:
    width = max(len(str(i)) for i in df.index) if len(df) else 4
    print(f"{'cell':<{width}}  " + "  ".join(f"{c:>12}" for c in cols))
    for idx, r in df.iterrows():
        print(f"{idx!s:<{width}}  " + "  ".join(f"{_fmt(r[c]):>12}" for c in cols))


def run_predict(args, cell_from_args, list_opts) -> int:
    from maskedntk.core.atomic import write_frame

    base, axes = grid_from_args(args, cell_from_args, list_opts)
    cells = expand_grid(base, axes)
    parsed = [parse_cell(c) for c in cells]  # a bad value stops here, naming its key
    ds = load_data(parsed[0].data)
    print(f"data: n = {ds.n}, d = {ds.d}, d_out = {ds.n_outputs} ({parsed[0].data['source']}); {len(cells)} cell(s)")
    rounds = None
    measured = None
    if args.compare:
        measured, rounds = _train(cells, ds, args.threads)
    t0 = time.perf_counter()
    table = predict_cells(cells, ds, rounds=rounds)
    if measured is not None:
        table = table.join(measured[["plateau", "window_mean", "rounds_run", "stationary"]].reset_index(drop=True))
    seconds = time.perf_counter() - t0
    summary = summary_by_cell(table)
    cols = ["seeds", "plateau_predicted", "rate_predicted", "mean_term", "noise_first_order", "noise_kernel"]
    if measured is not None:
        summary["ratio"] = summary["plateau_predicted"] / summary["window_mean"]
        cols += ["window_mean", "plateau", "ratio", "stationary"]
    cols.append("bound_theory")
    print("seed means per cell; plateau_predicted = mean_term + noise_first_order + noise_kernel")
    if measured is not None:
        print(
            "measured: window_mean = mean L_k over the window the prediction averages (every seed), plateau = "
            "the same over stationary seeds only (nan if none); ratio = plateau_predicted / window_mean"
        )
    _print_table(summary, cols)
    notes = table.loc[table["prediction_note"] != "", "prediction_note"].unique()
    for note in notes:
        print(f"not predicted: {note}")
    print(f"{len(table)} predictions in {seconds:.1f} s (bound_theory: Theorem 3's B1 or Theorem 7's error order)")
    if args.out:
        write_frame(Path(args.out), table)
        print(f"wrote {args.out}")
    return 0


def _train(cells, ds, threads):
    """Train every cell (runner.run_cell): the runs table in the order of predict_cells and the
    rounds each seed ran ({(cell index, seed): K})."""
    import pandas as pd

    from .runner import run_cell

    if threads:
        import torch

        torch.set_num_threads(threads)
    frames, rounds = [], {}
    for i, c in enumerate(cells):
        runs = run_cell(parse_cell(c), ds, cell_id=f"c{i}").runs
        for _, r in runs.iterrows():
            rounds[(i, int(r["seed"]))] = int(r["rounds_run"])
        frames.append(runs)
    return pd.concat(frames, ignore_index=True), rounds
