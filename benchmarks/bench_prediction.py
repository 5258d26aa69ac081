"""Benchmark of the plateau prediction (docs/masked/prediction.md): its cost beside the cost of
training the same cell, measured side by side in one run, and the wall and CPU time of the
predicted paper-scale map.

    python benchmarks/bench_prediction.py            # ratios at m = 1000 and 4000, then the map
    python benchmarks/bench_prediction.py --no-map   # the ratios only
    python benchmarks/bench_prediction.py --profile  # cProfile of the map's first seed, in-process

One thread each (torch and numpy's BLAS; set before numpy loads).  For a Bernoulli and a
categorical cell at m = 1000 and 4000 (n = 100, d = 128, tau = 5, K = 200, the default step
rule), prediction and training of seed 0 alternate ``--repeats`` times; the medians and their
ratio are printed.  Training runs the K rounds only (no extension to stationarity), so the
ratio is an upper bound of the ratio to training until stationary.  Then the predicted
paper-scale map (config/masked_paper.yaml's two heatmaps, m = 4000, 10 seeds) is timed with
``--workers`` processes, as ``snakemake predicted_map --cores 2`` runs it; its CPU time is this
process's plus its workers'.  The machine's load (``os.getloadavg``) is printed before and
after: on a shared machine the wall time depends on it, the CPU time much less.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from maskedntk.studies.masked.data import make_synthetic  # noqa: E402
from maskedntk.studies.masked.engine import train  # noqa: E402
from maskedntk.studies.masked.prediction import predict_plateau  # noqa: E402
from maskedntk.studies.masked.runner import resolve_cell_eta  # noqa: E402
from maskedntk.studies.masked.spec import TrainSpec  # noqa: E402
from maskedntk.studies.masked.stepsize import EtaRule  # noqa: E402

CELLS = {
    "bernoulli p=4 xi=0.5": dict(mask="bernoulli", p=4, xi=0.5),
    "categorical p=4": dict(mask="categorical", p=4, xi=None),
}
ROOT = Path(__file__).resolve().parents[1]


def ratios(repeats: int) -> None:
    ds = make_synthetic("teacher", 100, 128, seed=0)
    for m in (1000, 4000):
        for name, cell in CELLS.items():
            spec, _, _ = resolve_cell_eta(TrainSpec(m=m, tau=5, rounds=200, **cell), ds, EtaRule())
            t_pred, t_train = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                pred = predict_plateau(ds.X, ds.y, spec, seed=0)
                t_pred.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                res = train(ds.X, ds.y, spec, [0])
                t_train.append(time.perf_counter() - t0)
            tp, tt = statistics.median(t_pred), statistics.median(t_train)
            print(
                f"m={m} cell={name!r} predict_s={tp:.3f} train_s={tt:.2f} ratio={tp / tt:.3f} "
                f"predicted={pred.plateau_predicted:.4g} L_K={res.losses[0, -1]:.4g}",
                flush=True,
            )


def _grids():
    from maskedntk.studies.masked.predicted_map import read_grids

    return read_grids([ROOT / "config" / "masked.yaml", ROOT / "config" / "masked_paper.yaml"])


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def paper_map(workers: int) -> None:
    from maskedntk.studies.masked.predicted_map import predict_map

    grids = _grids()
    print(f"before the map: {_load()} on {os.cpu_count()} cores", flush=True)
    t0, c0 = time.perf_counter(), _cpu_seconds()
    table = predict_map(grids, workers=workers)
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    print(
        f"predicted paper-scale map: {len(table)} (cell, seed) predictions at m = {grids['m']}, "
        f"{workers} workers, wall {wall:.1f} s, CPU {cpu:.1f} s ({_load()})"
    )


def profile_map(top: int = 25) -> None:
    """cProfile of the map's Python entry point (predict_map) on its first seed, in this process."""
    import cProfile
    import pstats

    from maskedntk.studies.masked.predicted_map import predict_map

    grids = _grids()
    grids = {**grids, "seeds": grids["seeds"][:1]}
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    table = predict_map(grids, workers=1)
    prof.disable()
    print(
        f"profile of one seed of the map: {len(table)} predictions, wall {time.perf_counter() - t0:.1f} s ({_load()})"
    )
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="alternating repetitions per cell (default: 3)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the map (default: 2)")
    parser.add_argument("--no-map", action="store_true", help="skip the paper-scale map")
    parser.add_argument("--profile", action="store_true", help="only profile one seed of the map (cProfile)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.profile:
        profile_map()
        return
    print(f"start: {_load()} on {os.cpu_count()} cores", flush=True)
    ratios(args.repeats)
    if not args.no_map:
        paper_map(args.workers)


if __name__ == "__main__":
    main()
