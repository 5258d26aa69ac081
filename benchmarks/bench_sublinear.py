"""Cost of exact active-set identification, every identifier side by side in one run.

For each (d, m, B) every identifier runs the same SGD steps (mini-batches of B samples) from
the same initialisation, and its final weights are checked bit-identical to dense SGD's.  The
script prints, per identifier, the inner products and the identification wall time per step
(query + update medians over the steps, rebuilds amortised; the one-time initial build apart)
and their ratios to the dense identifier measured in the same run; then, per (d, B), the
crossover: the smallest measured m from which on the identifier is faster than dense up to
the largest m, or the ratio at the largest m.  The compiled kernels are compiled (or loaded
from numba's cache) first; that time is printed apart.  BLAS runs on one thread, like the
trees.

    python benchmarks/bench_sublinear.py                           # d in 2 4 8, m = 2^12 .. 2^20
    python benchmarks/bench_sublinear.py --ds 4 --log2m 12 16 --batches 1 --steps 50
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from maskedntk.studies.sublinear import engine, kernels, metrics, theory  # noqa: E402
from maskedntk.studies.sublinear.identifiers import make_identifier  # noqa: E402

DEFAULT = ("dense", "partition_tree", "compiled_tree", "compiled_static")


def measure(name: str, m: int, d: int, B: int, steps: int, seed: int) -> tuple[dict, np.ndarray]:
    b = theory.threshold(m)
    eta = 1.0 / theory.fire_probability(b)
    target = engine.make_target(d, 1.0, degrees=(2, 4), seed=seed)
    net = engine.init_network(m, d, b, seed)
    ident = make_identifier(name, b)
    engine.sgd(net, ident, target, steps=steps, eta=eta, seed=seed, stream=1, batch=B)
    c = ident.counters()
    row = dict(d=d, m=m, B=B, identifier=name, seed=seed, steps=steps)
    row.update(
        ip_total=(c["ip_query"] + c["ip_update"] + c["ip_rebuild"]) / steps,
        ip_query=c["ip_query"] / steps,
        t_ident=c["t_query_median"] + c["t_update_median"] + c["t_rebuild"] / steps,
        t_query=c["t_query_median"],
        t_step=0.0,
        ip_init=c["ip_init"],
        t_init=c["t_init"],
        mean_active=0.0,
    )
    return row, net.W


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ds", type=int, nargs="+", default=[2, 4, 8])
    p.add_argument("--log2m", type=int, nargs=2, default=[12, 20], metavar=("LO", "HI"))
    p.add_argument("--batches", type=int, nargs="+", default=[1, 16], help="mini-batch sizes B")
    p.add_argument("--identifiers", nargs="+", default=list(DEFAULT))
    p.add_argument("--steps", type=int, default=0, help="steps per run (default: 2^22 / m, between 8 and 60)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    print(f"compile (or load from numba's cache): {kernels.warm_up():.2f} s")
    names = ["dense", *[i for i in a.identifiers if i != "dense"]]
    rows = []
    for d in a.ds:
        for k in range(a.log2m[0], a.log2m[1] + 1):
            m = 2**k
            steps = a.steps or int(min(60, max(8, 2**22 // m)))
            for B in a.batches:
                ref = None
                for name in names:
                    if name in ("partition_tree", "compiled_static") and B > 1 and m > 2**18:
                        continue  # minutes per run: interpreted queries, or a rebuild every step
                    row, W = measure(name, m, d, B, steps, a.seed)
                    ref = W if ref is None else ref
                    row["identical"] = bool(np.array_equal(W, ref))
                    rows.append(row)
    s = metrics.cost_summary(pd.DataFrame(rows))
    print(
        f"\n{'d':>3} {'B':>3} {'m':>8} {'identifier':>16} {'ip/step':>10} {'ip ratio':>9} {'us/step':>10} "
        f"{'t ratio':>8} {'build ms':>9} exact"
    )
    for r in s.sort_values(["d", "B", "m", "identifier"]).itertuples():
        print(
            f"{r.d:>3} {r.B:>3} {r.m:>8} {r.identifier:>16} {r.ip_total:>10.0f} {r.ip_ratio:>9.3f} "
            f"{1e6 * r.t_ident:>10.1f} {r.t_ratio:>8.2f} {1e3 * r.t_init:>9.1f} {'yes' if r.identical else 'NO'}"
        )
    print("\ncrossover with dense (wall time per step):")
    print(f"{'d':>3} {'B':>3} {'identifier':>16}  first m faster than dense   ratio at largest m   trend")
    for r in metrics.crossover(s).itertuples():
        cross = f"none up to {r.m_max}" if np.isnan(r.m_cross) else f"{int(r.m_cross)}"
        print(f"{r.d:>3} {r.B:>3} {r.identifier:>16}  {cross:>25}   {r.ratio_max_m:>18.2f}   {r.trend:+.2f}")
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
