"""What a configuration of the masked study costs on this machine, before running it.

    python benchmarks/bench_config_cost.py                                  # config/config.yaml
    python benchmarks/bench_config_cost.py --configfile config/paper.yaml  # merged over it, as Snakemake does
    python benchmarks/bench_config_cost.py --configfile config/paper.yaml --rounds-factor 1.4

Every cell of the configuration is trained for ``--timed-rounds`` rounds of one seed, one
thread (the workflow's setting), with the cell's own step and dtype, and its seconds per
round are measured; the prediction (docs/masked/prediction.md) of one seed is timed on a
sample of ``--predict-sample`` cells of the paper's conventions (the authors' conventions
are not predicted).  The estimate is

    training   = sum over cells of seeds x K x rounds_factor x seconds per round
    prediction = (cells predicted) x seeds x (mean seconds of a sampled prediction)

with K the cell's ``rounds`` and ``rounds_factor`` the mean of rounds_run / K that a run of
the same protocol measured (the extension until stationary; runs.csv has rounds_run; 1.0 is
a lower bound).  Printed: one line per experiment and a total, in single-core seconds, and the
wall time on --cores cores if the work divided evenly (it does not quite: the longest job
bounds it from below).
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from pathlib import Path

import torch
import yaml

from maskedntk.studies.masked.cellconfig import load_data, parse_cell
from maskedntk.studies.masked.engine import train
from maskedntk.studies.masked.experiments import _merge, expand_config
from maskedntk.studies.masked.prediction import _check_supported, predict_plateau
from maskedntk.studies.masked.runner import resolve_cell_eta

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configfile", nargs="*", default=[], help="files merged over config/config.yaml, in order")
    ap.add_argument("--timed-rounds", type=int, default=4, help="rounds timed per cell (after one warm-up round)")
    ap.add_argument("--rounds-factor", type=float, default=1.0, help="mean rounds_run / K of a measured run")
    ap.add_argument("--predict-sample", type=int, default=6, help="cells whose prediction is timed")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for f in args.configfile:
        config = _merge(config, yaml.safe_load(Path(f).read_text()))
    cells = expand_config(config)
    data_cache = {}
    train_s: dict[str, float] = defaultdict(float)
    n_cells: dict[str, int] = defaultdict(int)
    predictable = []
    for experiment, grid in cells.items():
        for cell_id, cell in grid.items():
            parsed = parse_cell(cell)
            key = repr(sorted(parsed.data.items()))
            if key not in data_cache:
                data_cache[key] = load_data(parsed.data)
            ds = data_cache[key]
            spec, _, _ = resolve_cell_eta(parsed.spec, ds, parsed.eta)
            spec = spec.replace(trace=False, max_rounds=None)
            train(ds.X, ds.y, spec.replace(rounds=1), [0])
            t0 = time.perf_counter()
            train(ds.X, ds.y, spec.replace(rounds=args.timed_rounds), [0])
            per_round = (time.perf_counter() - t0) / args.timed_rounds
            train_s[experiment] += per_round * len(parsed.seeds) * spec.rounds * args.rounds_factor
            n_cells[experiment] += 1
            try:  # the cells the predictor covers (the predict job gives the others NaN)
                _check_supported(spec, ds.y.reshape(ds.n, -1))
                predictable.append((experiment, cell_id, spec, ds, len(parsed.seeds)))
            except ValueError:
                pass
    sample = random.Random(0).sample(predictable, min(args.predict_sample, len(predictable)))
    pred_times = []
    for experiment, cell_id, spec, ds, _ in sample:
        t0 = time.perf_counter()
        predict_plateau(ds.X, ds.y, spec, seed=0, rounds=int(spec.rounds * args.rounds_factor))
        pred_times.append(time.perf_counter() - t0)
        print(f"# prediction {experiment}/{cell_id}: {pred_times[-1]:.2f} s", flush=True)
    mean_pred = sum(pred_times) / max(1, len(pred_times))
    pred_s: dict[str, float] = defaultdict(float)
    for experiment, _, _, _, seeds in predictable:
        pred_s[experiment] += seeds * mean_pred
    for experiment in cells:
        print(
            f"experiment={experiment} cells={n_cells[experiment]} train_core_s={train_s[experiment]:.0f} "
            f"predict_core_s={pred_s[experiment]:.0f}"
        )
    total = sum(train_s.values()) + sum(pred_s.values())
    print(
        f"total cells={sum(n_cells.values())} train_core_s={sum(train_s.values()):.0f} "
        f"predict_core_s={sum(pred_s.values()):.0f} core_s={total:.0f} "
        f"wall_min_on_{args.cores}_cores={total / args.cores / 60:.1f} rounds_factor={args.rounds_factor}"
    )


if __name__ == "__main__":
    main()
