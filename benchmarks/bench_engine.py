"""Seconds per global round: the engine against a naive loop over subnetworks, side by side.

The naive baseline does what the authors' code does (github JLiao980706/MaskedNTK-TMLR,
docs/masked/mathematics.md sec. 6), in PyTorch: for every subnetwork it gathers the held neurons' weights
into a fresh parameter, builds an SGD optimizer, runs tau autograd steps, and scatters the
result back; the aggregation is the paper's (1/X_{k,r} over the holders, unheld neurons kept).
The engine is maskedntk.studies.masked.engine.train.  Both use float32, all cores, the same data, initial
weights and masks, and compute the same numbers (checked at the start of every run: the
relative difference of the losses after the timed rounds is printed on stderr).

For each scale, one line exactly of the form (shown wrapped here)

    scale=<name> naive_s_per_round=<x> engine_s_per_round=<y> speedup=<x/y>
    engine_gflops=<g> sgemm_gflops=<s> efficiency=<g/s> peak_rss_mb=<r>

where engine_gflops counts the matrix products the algorithm needs (TrainResult.flops: the
products on held neurons; padding rows and unheld neurons the engine computes are not
counted) for one seed per call, sgemm_gflops is the best rate of a 2048^3 float32 torch.mm
on this machine with the same threads, measured in the same run, efficiency their ratio, and
peak_rss_mb the engine process's peak resident memory.  Then, per scale, the seeds-batched
speed-up: ``--seeds`` seeds in one call (batched) against the same seeds one call each (one
after another, as the engine ran them before batching), with the engine's efficiency in both
modes:

    batched scale=<name> seeds=<S> one_by_one_s_per_round=<x> batched_s_per_round=<y>
    speedup=<x/y> efficiency_one_by_one=<e1> efficiency_batched=<e2>

and last, per scale, both figures side by side:

    summary scale=<name> threads=<t> efficiency=<g/s> seeds_batched_speedup=<x/y>

Each measurement runs in its own child process, the modes alternating, and the best of
``--repeats`` is kept (these machines are noisy); the first line gives the threads and the
load average at the start.  ``--threads 1`` is the workflow's setting (one thread per job);
with it, ``--clock cpu`` times every measurement (SGEMM included) in the process's CPU
seconds, so that other work on a shared machine is not counted.

Usage:  python benchmarks/bench_engine.py [--scales heatmap width default_cell] [--repeats 2] [--seeds 5]
        python benchmarks/bench_engine.py --rows          # a default heatmap row: cells batched or not
        python benchmarks/bench_engine.py --row-job heatmap_bernoulli p~4   # one training job
            of config/masked.yaml as the workflow runs it (one thread): CPU and wall seconds and
            the rounds run; with PYTHONPATH=<a checkout of an older commit>/src it times that
            commit's engine with the same script (before/after)
        python benchmarks/bench_engine.py --selection     # gather vs masked crossover
        python benchmarks/bench_engine.py --dtype         # float64 vs float32 (dtype: auto)
        python benchmarks/bench_engine.py --levers --scales default_cell --threads 1
            # the CPU engine's compiled passes (engine.FUSED) against its tensor operations
        python benchmarks/bench_engine.py --profile --scales default_cell --threads 1
            # where a round's time goes (torch.profiler), tensor operations, then compiled
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import resource
import sys
import time

SCALES = {
    # name: (n, d, m, p, tau, xi, timed rounds engine, timed rounds naive)
    "heatmap": dict(n=1000, d=2048, m=500, p=10, tau=5, xi=0.5, rounds=8, naive_rounds=3),
    "width": dict(n=100, d=2048, m=1000, p=10, tau=3, xi=0.8, rounds=40, naive_rounds=5),
    # opt-in (--scales default_cell): a cell of config/masked.yaml's Bernoulli heatmap, to put
    # the engine's share of the default reproduce_all beside what the naive loop would need
    "default_cell": dict(n=100, d=128, m=1000, p=10, tau=5, xi=0.5, rounds=100, naive_rounds=10),
}
DEFAULT_SCALES = ["heatmap", "width"]
#: --clock: wall seconds, or the process's CPU seconds (with one thread, a shared machine's
#: other work then does not count; with several, waiting threads would)
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
ETA = 0.02


def _setup(cfg):
    import numpy as np
    import torch

    from maskedntk.studies.masked.data import make_synthetic
    from maskedntk.studies.masked.spec import TrainSpec

    torch.set_num_threads(cfg.get("threads") or os.cpu_count())
    ds = make_synthetic("teacher", cfg["n"], cfg["d"], seed=0)
    spec = TrainSpec(
        m=cfg["m"], p=cfg["p"], tau=cfg["tau"], xi=cfg["xi"], eta=ETA, rounds=cfg["rounds"], dtype="float32"
    )
    return np, torch, ds, spec


def naive_train(X, y, spec, seed, rounds):
    """The authors' style: a Python loop over subnetworks, one parameter and optimizer each."""
    import numpy as np
    import torch

    from maskedntk.studies.masked.engine import init_params
    from maskedntk.studies.masked.masks import sample_masks

    W0, a0 = init_params(spec, seed, X.shape[1], 1)
    W = torch.tensor(W0.T, dtype=torch.float32)  # d x m, as in the authors' code
    a = torch.tensor(a0, dtype=torch.float32)  # m x 1
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)
    scale = 1.0 / math.sqrt(spec.m)
    losses = []
    for k in range(rounds):
        masks = sample_masks(spec.mask, seed, k, spec.p, spec.m, spec.xi)
        new_W = W.clone()
        counts = masks.sum(axis=0)
        delta = torch.zeros_like(W)
        for sub in range(spec.p):
            idx = torch.from_numpy(np.flatnonzero(masks[sub]))
            W_l = torch.nn.Parameter(W[:, idx].clone())
            a_l = a[idx]
            opt = torch.optim.SGD([W_l], lr=spec.eta)
            for _ in range(spec.tau):
                opt.zero_grad()
                f = torch.relu(Xt @ W_l) @ a_l * scale
                loss = 0.5 * ((f - yt) ** 2).sum()
                loss.backward()
                opt.step()
            delta[:, idx] += W_l.detach() - W[:, idx]
        held = torch.from_numpy(counts > 0)
        inv = torch.from_numpy(1.0 / np.maximum(counts, 1)).to(torch.float32)
        new_W[:, held] = W[:, held] + delta[:, held] * inv[held]
        W = new_W
        f = torch.relu(Xt @ W) @ a * scale
        losses.append(float(((yt - spec.xi_eff * f) ** 2).sum()))
    return losses


def _child(kind, cfg, queue):
    np, torch, ds, spec = _setup(cfg)
    from maskedntk.studies.masked import engine
    from maskedntk.studies.masked.engine import train

    clock = CLOCKS[cfg.get("clock", "wall")]

    if "fused" in cfg:  # --levers (absent: the engine's default, also for an older checkout)
        engine.FUSED["cpu"] = cfg["fused"]
    if kind == "engine":
        train(ds.X, ds.y, spec.replace(rounds=1), [0])  # warm-up
        t0 = clock()
        res = train(ds.X, ds.y, spec, [0])
        dt = (clock() - t0) / spec.rounds
        out = {"s_per_round": dt, "flops_per_round": res.flops / spec.rounds, "losses": res.losses[0, 1:].tolist()}
    elif kind in ("one_by_one", "batched"):
        seeds = list(range(cfg["seeds"]))
        train(ds.X, ds.y, spec.replace(rounds=1), seeds)  # warm-up
        t0 = clock()
        if kind == "batched":
            flops = train(ds.X, ds.y, spec, seeds).flops
        else:
            flops = sum(train(ds.X, ds.y, spec, [s]).flops for s in seeds)
        dt = (clock() - t0) / spec.rounds
        out = {"s_per_round": dt, "flops_per_round": flops / spec.rounds}
    elif kind == "naive":
        naive_train(ds.X, ds.y, spec, 0, 1)  # warm-up
        t0 = clock()
        losses = naive_train(ds.X, ds.y, spec, 0, cfg["naive_rounds"])
        out = {"s_per_round": (clock() - t0) / cfg["naive_rounds"], "losses": losses}
    else:  # sgemm
        A = torch.randn(2048, 2048)
        B = torch.randn(2048, 2048)
        A @ B
        best = min(_timed(lambda: A @ B, clock) for _ in range(8))
        out = {"gflops": 2 * 2048**3 / best / 1e9}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    queue.put(out)


def _timed(f, clock=time.perf_counter):
    t0 = clock()
    f()
    return clock() - t0


def _run(kind, cfg):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_child, args=(kind, cfg, q))
    proc.start()
    out = q.get()
    proc.join()
    return out


def bench_scale(name, repeats, seeds, threads=None, clock="wall"):
    """The engine against the naive loop and SGEMM, then seeds batched against one by one;
    returns (efficiency, seeds-batched speed-up)."""
    cfg = dict(SCALES[name], seeds=seeds, threads=threads, clock=clock)
    engine, naive = [], []
    for _ in range(repeats):
        naive.append(_run("naive", cfg))
        engine.append(_run("engine", cfg))
    sgemm = max(_run("sgemm", cfg)["gflops"] for _ in range(2))
    e = min(engine, key=lambda r: r["s_per_round"])
    nv = min(naive, key=lambda r: r["s_per_round"])
    k = min(len(nv["losses"]), len(e["losses"]))
    rel = max(abs(a - b) / abs(b) for a, b in zip(nv["losses"][:k], e["losses"][:k], strict=True))
    print(f"# {name}: engine vs naive, max relative difference of L_k over {k} rounds = {rel:.2e}", file=sys.stderr)
    gflops = e["flops_per_round"] / e["s_per_round"] / 1e9
    print(
        f"scale={name} naive_s_per_round={nv['s_per_round']:.4f} engine_s_per_round={e['s_per_round']:.4f} "
        f"speedup={nv['s_per_round'] / e['s_per_round']:.2f} engine_gflops={gflops:.1f} "
        f"sgemm_gflops={sgemm:.1f} efficiency={gflops / sgemm:.2f} peak_rss_mb={e['peak_rss_mb']:.0f}",
        flush=True,
    )
    modes = {"one_by_one": [], "batched": []}
    for _ in range(repeats):
        for mode, got in modes.items():
            got.append(_run(mode, cfg))
    best = {mode: min(got, key=lambda r: r["s_per_round"]) for mode, got in modes.items()}
    eff = {mode: b["flops_per_round"] / b["s_per_round"] / 1e9 / sgemm for mode, b in best.items()}
    one, bat = best["one_by_one"]["s_per_round"], best["batched"]["s_per_round"]
    print(
        f"batched scale={name} seeds={cfg['seeds']} one_by_one_s_per_round={one:.4f} batched_s_per_round={bat:.4f} "
        f"speedup={one / bat:.2f} efficiency_one_by_one={eff['one_by_one']:.2f} "
        f"efficiency_batched={eff['batched']:.2f}",
        flush=True,
    )
    return gflops / sgemm, one / bat


def bench_levers(name, repeats, threads=None, clock="wall"):
    """Seconds per round and efficiency of the CPU engine with its compiled passes
    (engine.FUSED) and with the tensor operations instead, alternating, best of ``repeats``."""
    cfg = dict(SCALES[name], threads=threads, clock=clock)
    got = {True: [], False: []}
    for _ in range(repeats):
        for fused, runs in got.items():
            runs.append(_run("engine", dict(cfg, fused=fused)))
    sgemm = max(_run("sgemm", cfg)["gflops"] for _ in range(2))
    best = {f: min(runs, key=lambda r: r["s_per_round"]) for f, runs in got.items()}
    eff = {f: b["flops_per_round"] / b["s_per_round"] / 1e9 / sgemm for f, b in best.items()}
    t_ops, t_fused = best[False]["s_per_round"], best[True]["s_per_round"]
    print(
        f"levers scale={name} tensor_ops_s_per_round={t_ops:.4f} fused_s_per_round={t_fused:.4f} "
        f"speedup={t_ops / t_fused:.2f} efficiency_tensor_ops={eff[False]:.2f} efficiency_fused={eff[True]:.2f} "
        f"sgemm_gflops={sgemm:.1f}",
        flush=True,
    )


def profile_scale(name, threads=None, fused=True):
    """torch.profiler's table of one scale's rounds (operators by their own CPU time); with the
    compiled passes, their share is the time outside the listed operators."""
    from torch.profiler import ProfilerActivity, profile

    cfg = dict(SCALES[name], threads=threads)
    np, torch, ds, spec = _setup(cfg)
    from maskedntk.studies.masked import engine
    from maskedntk.studies.masked.engine import train

    engine.FUSED["cpu"] = fused
    train(ds.X, ds.y, spec.replace(rounds=1), [0])  # warm-up (and compile)
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        train(ds.X, ds.y, spec, [0])
    total = time.perf_counter() - t0
    print(f"profile scale={name} fused={fused} rounds={spec.rounds} seconds={total:.3f}")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def _selection_child(cfg, queue):
    np, torch, ds, spec = _setup(cfg)
    from maskedntk.studies.masked.engine import train

    out = {}
    for xi in (0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95):
        for sel in ("gather", "masked"):
            s = spec.replace(xi=xi, selection=sel, rounds=cfg["rounds"])
            train(ds.X, ds.y, s.replace(rounds=1), [0])
            t0 = time.perf_counter()
            train(ds.X, ds.y, s, [0])
            out[(xi, sel)] = (time.perf_counter() - t0) / s.rounds
    queue.put(out)


def bench_selection():
    """Seconds per round of gather vs masked selection over xi (sets GATHER_MAX_FRACTION)."""
    for name in ("width", "heatmap"):
        cfg = dict(SCALES[name], rounds=10 if name == "width" else 3)
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        proc = ctx.Process(target=_selection_child, args=(cfg, q))
        proc.start()
        out = q.get()
        proc.join()
        for xi in sorted({x for x, _ in out}):
            g, mk = out[(xi, "gather")], out[(xi, "masked")]
            print(f"selection scale={name} xi={xi:g} gather_s={g:.4f} masked_s={mk:.4f} gather/masked={g / mk:.2f}")


#: default-config cells (n = 100, d = 128, m = 1000, one thread) for --dtype: (mask, p, xi, tau)
DTYPE_CELLS = [
    ("bernoulli", 1, 0.1, 5),
    ("bernoulli", 5, 0.5, 5),
    ("bernoulli", 10, 0.9, 5),
    ("categorical", 4, None, 5),
    ("categorical", 10, None, 10),
]


def bench_dtype(repeats: int):
    """Seconds for 100 rounds of one seed, float64 against float32, one thread (the
    workflow's setting), default-config cells; float32 and float64 alternate, best kept."""
    import torch

    from maskedntk.studies.masked.data import make_synthetic
    from maskedntk.studies.masked.engine import train
    from maskedntk.studies.masked.spec import TrainSpec

    torch.set_num_threads(1)
    ds = make_synthetic("teacher", 100, 128, seed=0)
    for mask, p, xi, tau in DTYPE_CELLS:
        best = {}
        for _ in range(repeats):
            for dt in ("float64", "float32"):
                spec = TrainSpec(m=1000, p=p, tau=tau, xi=xi, mask=mask, eta=0.3, rounds=100, dtype=dt)
                t0 = time.perf_counter()
                train(ds.X, ds.y, spec, [0])
                best[dt] = min(best.get(dt, math.inf), time.perf_counter() - t0)
        print(
            f"dtype mask={mask} p={p} xi={xi if xi is not None else 1 / p:g} tau={tau} "
            f"float64_s={best['float64']:.3f} float32_s={best['float32']:.3f} "
            f"ratio={best['float64'] / best['float32']:.2f}",
            flush=True,
        )


#: a row of config/masked.yaml's Bernoulli heatmap (p = 4, tau = 5, xi = 0.1..1.0, 5 seeds), dtype auto
ROW = dict(n=100, d=128, m=1000, p=4, tau=5, xis=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], rounds=20)


def _rows_child(mode, queue):
    import torch

    from maskedntk.studies.masked.data import make_synthetic
    from maskedntk.studies.masked.engine import train, train_many
    from maskedntk.studies.masked.spec import TrainSpec

    torch.set_num_threads(1)  # the workflow's setting: one thread per job
    ds = make_synthetic("teacher", ROW["n"], ROW["d"], seed=0)
    specs = [
        TrainSpec(m=ROW["m"], p=ROW["p"], tau=ROW["tau"], xi=xi, eta=0.02, rounds=ROW["rounds"], dtype="auto")
        for xi in ROW["xis"]
    ]
    seeds = list(range(5))
    train(ds.X, ds.y, specs[0].replace(rounds=1), [0])  # warm-up
    t0 = time.perf_counter()
    if mode == "runs":  # every seed of every cell alone (the engine before batching)
        for spec in specs:
            for s in seeds:
                train(ds.X, ds.y, spec, [s])
    elif mode == "seeds":  # each cell's seeds batched
        for spec in specs:
            train(ds.X, ds.y, spec, seeds)
    else:  # the row's cells and seeds batched (as on a GPU: MIX_CELLS)
        from maskedntk.studies.masked import engine

        engine.MIX_CELLS["cpu"] = True
        train_many(ds.X, ds.y, [(spec, seeds) for spec in specs])
    queue.put(time.perf_counter() - t0)


def bench_rows(repeats: int):
    """Seconds for ROW['rounds'] rounds of one default heatmap row (10 cells x 5 seeds), one
    thread: runs one at a time, seeds batched, cells and seeds batched."""
    best = {}
    for _ in range(repeats):
        for mode in ("runs", "seeds", "cells"):
            ctx = mp.get_context("spawn")
            q = ctx.Queue()
            proc = ctx.Process(target=_rows_child, args=(mode, q))
            proc.start()
            best[mode] = min(best.get(mode, math.inf), q.get())
            proc.join()
    print(
        f"row p={ROW['p']} tau={ROW['tau']} cells={len(ROW['xis'])} seeds=5 rounds={ROW['rounds']} "
        f"runs_s={best['runs']:.2f} seeds_batched_s={best['seeds']:.2f} cells_batched_s={best['cells']:.2f} "
        f"speedup_seeds={best['runs'] / best['seeds']:.2f} speedup_cells={best['runs'] / best['cells']:.2f}",
        flush=True,
    )


def bench_row_job(experiment: str, row: str, config: str):
    """One training job (the cells of one grid row) as the workflow runs it."""
    import json
    import tempfile
    from pathlib import Path

    import yaml

    from maskedntk.studies.masked import jobs
    from maskedntk.studies.masked.experiments import expand_config

    cells = expand_config(yaml.safe_load(Path(config).read_text())["masked"])[experiment]
    sel = {c: v for c, v in cells.items() if c.split("/")[0] == row}
    if not sel:
        raise SystemExit(f"row {row!r}: no such row in {experiment} (rows: {sorted({c.split('/')[0] for c in cells})})")
    out = Path(tempfile.mkdtemp(prefix="bench_row_job"))
    data_file = out / "data.npz"
    jobs.make_data_job(next(iter(sel.values()))["data"], data_file)
    keys = ("experiment", "data", "train", "eta", "seeds")
    params = {c: {k: v[k] for k in keys if k in v} | {"data_file": str(data_file)} for c, v in sel.items()}
    c0, t0 = time.process_time(), time.perf_counter()
    jobs.train_cells_job(params, row, out / "train", 1)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    rounds = sum(
        sum(json.loads((jobs.cell_folder(out / "train", row, c) / "record.json").read_text())["rounds_run"])
        for c in sel
    )
    print(
        f"row_job {experiment}/{row} cells={len(sel)} cpu_s={cpu:.1f} wall_s={wall:.1f} run_rounds={rounds}", flush=True
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", nargs="+", default=DEFAULT_SCALES, choices=list(SCALES))
    ap.add_argument("--repeats", type=int, default=2, help="alternating repeats per implementation (best kept)")
    ap.add_argument("--selection", action="store_true", help="measure the gather/masked crossover instead")
    ap.add_argument("--dtype", action="store_true", help="measure float64 against float32 (dtype: auto) instead")
    ap.add_argument("--seeds", type=int, default=5, help="seeds of the batched-against-one-by-one comparison")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores; SGEMM too)")
    ap.add_argument("--rows", action="store_true", help="time a default heatmap row, cells batched or not, instead")
    ap.add_argument("--row-job", nargs=2, metavar=("EXPERIMENT", "ROW"), help="time one training job instead")
    ap.add_argument("--config", default="config/masked.yaml", help="the configuration of --row-job")
    ap.add_argument("--levers", action="store_true", help="compiled passes against tensor operations instead")
    ap.add_argument("--profile", action="store_true", help="torch.profiler tables, tensor operations and compiled")
    ap.add_argument("--clock", choices=list(CLOCKS), default="wall", help="wall or CPU seconds (cpu: with --threads 1)")
    args = ap.parse_args()
    if args.row_job:
        bench_row_job(*args.row_job, args.config)
        return
    if args.rows:
        bench_rows(args.repeats)
        return
    if args.selection:
        bench_selection()
        return
    if args.dtype:
        bench_dtype(args.repeats)
        return
    threads = args.threads or os.cpu_count()
    print(
        f"# threads={threads} clock={args.clock} load_average_1min={os.getloadavg()[0]:.2f} cpus={os.cpu_count()}",
        flush=True,
    )
    if args.profile:
        for name in args.scales:
            for fused in (False, True):
                profile_scale(name, args.threads, fused)
        return
    if args.levers:
        for name in args.scales:
            bench_levers(name, args.repeats, args.threads, args.clock)
        return
    summary = {name: bench_scale(name, args.repeats, args.seeds, args.threads, args.clock) for name in args.scales}
    for name, (eff, speedup) in summary.items():
        print(f"summary scale={name} threads={threads} efficiency={eff:.2f} seeds_batched_speedup={speedup:.2f}")


if __name__ == "__main__":
    main()
