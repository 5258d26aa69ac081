"""Seconds per global round of paper-scale cells (config/masked_paper.yaml: n = 100, d = 128,
m = 4000) on this machine's CPU (one thread, the workflow's setting) and on a CUDA GPU when
there is one, measured side by side in one run.

    python benchmarks/bench_device.py [--rounds 20]

One line per cell and device:

    device=<cpu|cuda> cell=<mask p xi tau dtype> s_per_round=<x>

and, with a GPU, ``speedup=<cpu / cuda>`` per cell (one seed per call).  Then the batched
path (engine.train_many): a whole row of the paper's Bernoulli heatmap (10 cells of one p,
``--seeds`` seeds each) in one call, seconds per round of the row and per run-round:

    device=<cpu|cuda> row=[p=<p> cells=10 seeds=<S>] s_per_round=<x> s_per_run_round=<x / 10 S>

A round of a batched row launches the kernels of its batches (one per width class on a
GPU) instead of one set per run, which is what a launch-bound GPU needs.
"""

from __future__ import annotations

import argparse
import time

import torch

from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import train, train_many
from maskedntk.studies.masked.spec import TrainSpec

#: (mask, p, xi, tau): the cheapest and the costliest rows of the paper's heatmaps, and a middle one
CELLS = [
    ("bernoulli", 1, 0.1, 5),
    ("bernoulli", 5, 0.5, 5),
    ("bernoulli", 10, 0.9, 5),
    ("bernoulli", 10, 1.0, 5),
    ("categorical", 10, None, 10),
]


def seconds_per_round(ds, spec: TrainSpec, rounds: int) -> float:
    train(ds.X, ds.y, spec.replace(rounds=2), [0])  # warm-up (kernels, workspace)
    if spec.device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    train(ds.X, ds.y, spec.replace(rounds=rounds), [0])
    if spec.device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / rounds


def row_seconds_per_round(ds, p: int, seeds: int, device: str, rounds: int) -> float:
    """Seconds per round of the paper's Bernoulli heatmap row p (xi = 0.1..1.0, tau = 5), all
    cells and seeds in one train_many call (dtype auto: the xi = 1 cell in float64)."""
    specs = [
        TrainSpec(m=4000, p=p, xi=xi / 10, tau=5, eta=0.05, dtype="auto", device=device, rounds=rounds)
        for xi in range(1, 11)
    ]
    jobs = [(s, list(range(seeds))) for s in specs]
    train_many(ds.X, ds.y, [(s.replace(rounds=2), sd) for s, sd in jobs])  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    train_many(ds.X, ds.y, jobs)
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / rounds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seeds", type=int, default=10, help="seeds per cell of the batched row")
    ap.add_argument("--rows", type=int, nargs="+", default=[1, 5, 10], help="the p of the batched rows")
    ap.add_argument("--skip-cells", action="store_true", help="time only the batched rows")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = make_synthetic("teacher", 100, 128, seed=0)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for mask, p, xi, tau in [] if args.skip_cells else CELLS:
        spec = TrainSpec(m=4000, mask=mask, p=p, xi=xi, tau=tau, eta=0.3, dtype="auto")
        label = f"{mask} p={p} xi={spec.xi_eff:g} tau={tau} {spec.resolved_dtype}"
        times = {d: seconds_per_round(ds, spec.replace(device=d), args.rounds) for d in devices}
        for d, s in times.items():
            print(f"device={d} cell=[{label}] s_per_round={s:.5f}", flush=True)
        if "cuda" in times:
            print(f"speedup cell=[{label}] cpu/cuda={times['cpu'] / times['cuda']:.1f}", flush=True)

    for p in args.rows:
        for d in devices:
            t = row_seconds_per_round(ds, p, args.seeds, d, args.rounds)
            label = f"p={p} cells=10 seeds={args.seeds}"
            print(f"device={d} row=[{label}] s_per_round={t:.5f} s_per_run_round={t / 10 / args.seeds:.6f}", flush=True)


if __name__ == "__main__":
    main()
