"""Benchmark of the plateau prediction (docs/masked/prediction.md): seconds per (cell, seed)
beside the seconds of training the same cell, measured side by side in one run.

    python benchmarks/bench_prediction.py            # default-config cells, 1 torch thread

Prints, for a Bernoulli and a categorical cell at m = 1000 and 4000 (n = 100, d = 128,
tau = 5, K = 200, the default step rule), the prediction's wall time, the training's wall
time for one seed, and their ratio."""

from __future__ import annotations

import time

import torch

from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import train
from maskedntk.studies.masked.prediction import predict_plateau
from maskedntk.studies.masked.runner import resolve_cell_eta
from maskedntk.studies.masked.spec import TrainSpec
from maskedntk.studies.masked.stepsize import EtaRule

CELLS = {
    "bernoulli p=4 xi=0.5": dict(mask="bernoulli", p=4, xi=0.5),
    "categorical p=4": dict(mask="categorical", p=4, xi=None),
}


def main() -> None:
    torch.set_num_threads(1)
    ds = make_synthetic("teacher", 100, 128, seed=0)
    for m in (1000, 4000):
        for name, cell in CELLS.items():
            spec, _, _ = resolve_cell_eta(TrainSpec(m=m, tau=5, rounds=200, **cell), ds, EtaRule())
            t0 = time.perf_counter()
            pred = predict_plateau(ds.X, ds.y, spec, seed=0)
            t_pred = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = train(ds.X, ds.y, spec, [0])
            t_train = time.perf_counter() - t0
            print(
                f"m={m} cell={name!r} predict_s={t_pred:.2f} train_s={t_train:.2f} "
                f"ratio={t_pred / t_train:.2f} predicted={pred.plateau_predicted:.4g} "
                f"L_K={res.losses[0, -1]:.4g}"
            )


if __name__ == "__main__":
    main()
