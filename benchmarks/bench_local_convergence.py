"""Calibration check of the local-convergence study's job estimates
(maskedntk.studies.local_convergence.resources): every training job of a configuration run in
this process, its measured time beside the estimate, then GD and SGD steps at larger widths
(the S M^2 and S N M d terms) and a float64 matrix product (FLOP_S).

    python benchmarks/bench_local_convergence.py [CONFIG]     # default: config/local_convergence.yaml

Prints seconds measured / estimated (the estimate less START_S, the process start, which an
in-process run does not pay), the resident memory after the imports (BASE_MB) and the peak.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import torch
import yaml

from maskedntk.studies.local_convergence import engine, runs
from maskedntk.studies.local_convergence import resources as R
from maskedntk.studies.local_convergence.experiments import RUN_JOBS, job_settings, validate


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def step_seconds(S: int, m: int, r: int, d: int, steps: int, batch: int | None = None) -> float:
    rng = np.random.default_rng(0)
    W0, Ws = rng.standard_normal((S, m, d)), rng.standard_normal((S, r, d))
    seeds = list(range(S)) if batch else None
    kw = {"batch": batch, "sample_seeds": seeds, "n_checkpoints": 5, "stop_below": 0.0}
    return timed(lambda: engine.train(W0, Ws, eta=1e-4, steps=steps, **kw)) / steps


def main(path: str = "config/local_convergence.yaml") -> None:
    torch.set_num_threads(1)
    cfg = validate(yaml.safe_load(open(path))["local_convergence"])
    print(f"resident memory after imports: {peak_mb():.0f} MB (BASE_MB = {R.BASE_MB})")
    print(f"{'job':>16} {'measured s':>11} {'estimate s':>11} {'ratio':>6}")
    for experiment in RUN_JOBS:
        for ratio in cfg["local"]["ratios"] if experiment == "local" else [None]:
            share = job_settings(cfg, experiment) | ({} if ratio is None else {"ratio": ratio})
            fn = getattr(runs, f"run_{experiment}")
            dt = timed(lambda fn=fn, share=share, ratio=ratio: fn(share, ratio) if ratio else fn(share))
            est = R.train_seconds(experiment, share) - R.START_S
            name = experiment if ratio is None else f"local_r{ratio}"
            print(f"{name:>16} {dt:11.2f} {est:11.2f} {dt / est:6.2f}")
    S = len(cfg["seeds"])
    print(f"{'S':>3} {'M':>5} {'N':>5} {'d':>3} {'s/step':>10} {'model':>10} {'ratio':>6}")
    for m, N, steps in ((6, None, 400), (200, None, 40), (400, None, 20), (6, 4096, 40)):
        r, d = 3, 4
        M = m + r
        got = step_seconds(S, m, r, d, steps, N)
        model = R.STEP_S + R.PAIR_S * S * M * M + R.SAMPLE_S * S * (N or 0) * M * d
        print(f"{S:3d} {M:5d} {N or 0:5d} {d:3d} {got:10.2e} {model:10.2e} {got / model:6.2f}")
    a = np.random.default_rng(0).standard_normal((400, 400))
    flop = timed(lambda: [a @ a for _ in range(10)]) / (10 * 400**3)
    print(f"float64 multiply-add: {flop:.2e} s (FLOP_S = {R.FLOP_S:.1e})")
    print(f"peak resident memory: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:])
