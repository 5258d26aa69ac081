"""The predicted paper-scale map: both heatmaps of the paper (Bernoulli p x xi, categorical
p x tau) at its scale (config/masked_paper.yaml: m = 4000, 10 seeds), predicted from the
initialisation alone (docs/masked/prediction.md sec. 8), without training.

The grids, the width, the seeds and the rounds are read from the configuration files (the
paper's merged over the default, as ``snakemake --configfile config/masked_paper.yaml`` merges them),
so the map follows whatever config/masked_paper.yaml says.  The steps are resolved once, then each
worker process takes whole seeds (:func:`predict_grid.predict_resolved` shares a seed's
initialisation, and the products it keeps, between all its cells).
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import yaml

from .cellconfig import load_data, parse_cell
from .experiments import merge_settings
from .predict_grid import expand_grid, predict_resolved, resolve_cells
from .prediction import load_compiled

#: the experiments the map predicts (the paper's two heatmaps)
MAP_EXPERIMENTS = ("heatmap_bernoulli", "heatmap_categorical")


def read_grids(config_files) -> dict:
    """{'cells': {experiment: [cell dicts]}, 'm': width, 'seeds': [...]} from the config files,
    later files merged over earlier ones (config/masked.yaml first, then config/masked_paper.yaml),
    each holding the study's settings under the key ``masked``."""
    config: dict = {}
    for f in config_files:
        config = merge_settings(config, yaml.safe_load(Path(f).read_text()) or {})
    if "masked" not in config:
        raise ValueError(f"config files {list(map(str, config_files))}: none has the key masked (the study's settings)")
    config = config["masked"]
    defaults = config["defaults"]
    seeds = defaults.get("seeds", 5)
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    cells = {}
    for name in MAP_EXPERIMENTS:
        exp = config["experiments"][name]
        base = {
            "data": dict(defaults["data"]),
            "train": {**defaults["train"], **exp.get("train", {}), "max_rounds": None, "trace": False},
            "eta": {**defaults["eta"], **exp.get("eta", {})},
            "seeds": seeds,
        }
        grid = exp["grid"]
        if not isinstance(grid, dict):
            raise ValueError(f"experiments.{name}.grid: the predicted map needs one mapping of lists, got {grid!r}")
        cells[name] = expand_grid(base, {("train", k): list(v) for k, v in grid.items()})
    first = parse_cell(cells[MAP_EXPERIMENTS[0]][0])
    return {"cells": cells, "m": first.spec.m, "seeds": seeds, "data": first.data}


def _one_thread() -> None:
    """A worker's BLAS runs on one thread: the processes already fill the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _predict_seed(args) -> pd.DataFrame:
    resolved, ds, seed = args
    frames = [predict_resolved(cells, ds, seeds=[seed]).assign(experiment=name) for name, cells in resolved.items()]
    return pd.concat(frames, ignore_index=True)


def predict_map(grids: dict, workers: int = 1) -> pd.DataFrame:
    """One row per (experiment, cell, seed) (:data:`predict_grid.SETTING_COLUMNS` and the
    prediction's columns).  The cells' steps are resolved once (:func:`predict_grid.resolve_cells`);
    the seeds are spread over ``workers`` processes, each predicting every cell of its seeds."""
    ds = load_data(grids["data"])
    resolved = {name: resolve_cells(cells, ds) for name, cells in grids["cells"].items()}
    jobs = [(resolved, ds, seed) for seed in grids["seeds"]]
    if workers <= 1:
        frames = [_predict_seed(j) for j in jobs]
    else:
        load_compiled()
        with ProcessPoolExecutor(max_workers=workers, initializer=_one_thread) as pool:
            frames = list(pool.map(_predict_seed, jobs))
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["experiment", "p", "xi", "tau", "seed"], kind="stable").reset_index(drop=True)


def map_job(config_files, out_csv, workers: int = 1) -> None:
    """The workflow's ``predicted_map`` rule: write the map's table."""
    from maskedntk.core.atomic import write_frame

    write_frame(out_csv, predict_map(read_grids(config_files), workers=workers))


def main(argv=None) -> int:
    """``python -m maskedntk.studies.masked.predicted_map predict|figure ...`` (the workflow's jobs)."""
    import argparse
    import logging

    parser = argparse.ArgumentParser(prog="python -m maskedntk.studies.masked.predicted_map", description=__doc__)
    sub = parser.add_subparsers(dest="job", required=True)
    pr = sub.add_parser("predict", help="predict the map and write its table")
    pr.add_argument("--configs", nargs="+", required=True, help="config files, later merged over earlier")
    pr.add_argument("--out", required=True, help="output CSV")
    pr.add_argument("--workers", type=int, default=1, help="processes (default: 1)")
    fg = sub.add_parser("figure", help="draw the map beside the measured heatmaps")
    fg.add_argument("--map", required=True, help="the map's table")
    fg.add_argument("--bernoulli", required=True, help="runs.csv of the measured Bernoulli heatmap")
    fg.add_argument("--categorical", required=True, help="runs.csv of the measured categorical heatmap")
    fg.add_argument("--pdf", required=True)
    fg.add_argument("--png", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.job == "predict":
        import time

        t0 = time.perf_counter()
        map_job(args.configs, args.out, workers=args.workers)
        logging.info("predicted map: %s in %.1f s with %d workers", args.out, time.perf_counter() - t0, args.workers)
    else:
        from .figures.predicted_map import draw

        summary = draw(
            pd.read_csv(args.map), pd.read_csv(args.bernoulli), pd.read_csv(args.categorical), args.pdf, args.png
        )
        logging.info("shared cells, predicted / measured:\n%s", summary.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
