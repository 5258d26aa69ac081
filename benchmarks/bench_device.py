"""Seconds per global round of paper-scale cells (config/paper.yaml: n = 100, d = 128,
m = 4000) on this machine's CPU (one thread, the workflow's setting) and on a CUDA GPU when
there is one, measured side by side in one run.

    python benchmarks/bench_device.py [--rounds 20]

One line per cell and device:

    device=<cpu|cuda> cell=<mask p xi tau dtype> s_per_round=<x>

and, with a GPU, ``speedup=<cpu / cuda>`` per cell.  The engine runs a cell's seeds one after
another and a round's p subnetworks as one batched computation, so a GPU pays one kernel
launch per operation whatever p: this says how far that carries at the paper's scale.
"""

from __future__ import annotations

import argparse
import time

import torch

from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import train
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = make_synthetic("teacher", 100, 128, seed=0)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for mask, p, xi, tau in CELLS:
        spec = TrainSpec(m=4000, mask=mask, p=p, xi=xi, tau=tau, eta=0.3, dtype="auto")
        label = f"{mask} p={p} xi={spec.xi_eff:g} tau={tau} {spec.resolved_dtype}"
        times = {d: seconds_per_round(ds, spec.replace(device=d), args.rounds) for d in devices}
        for d, s in times.items():
            print(f"device={d} cell=[{label}] s_per_round={s:.5f}", flush=True)
        if "cuda" in times:
            print(f"speedup cell=[{label}] cpu/cuda={times['cpu'] / times['cuda']:.1f}", flush=True)


if __name__ == "__main__":
    main()
