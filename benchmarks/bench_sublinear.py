"""Cost of exact active-set identification, measured side by side in one run.

For each (d, m) every identifier runs the same SGD steps from the same initialisation (the
iterates are checked bit-identical to dense SGD); the script prints, per identifier, the inner
products and the identification wall time per step (median over steps; rebuilds amortised;
the one-time initial build apart) and their ratios to the dense identifier measured in the
same run, then the fitted exponent of each in m and, from a power-law fit of the time ratio,
the width where the identifier would break even with dense (an extrapolation).

    python benchmarks/bench_sublinear.py                 # d in 2 4 8 16, m = 2^10 .. 2^15
    python benchmarks/bench_sublinear.py --ds 4 --log2m 10 17 --steps 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from maskedntk.studies.sublinear import engine, theory
from maskedntk.studies.sublinear.identifiers import IDENTIFIERS, make_identifier


def measure(m: int, d: int, steps: int, seed: int):
    b = theory.threshold(m)
    eta = 1.0 / theory.fire_probability(b)
    target = engine.make_target(d, 1.0, seed=seed)
    out, ref = {}, None
    for name in IDENTIFIERS:
        net = engine.init_network(m, d, b, seed)
        ident = make_identifier(name, b)
        engine.sgd(net, ident, target, steps=steps, eta=eta, seed=seed, stream=1)
        c = ident.counters()
        if name == "dense":
            ref = net.W.copy()
        out[name] = dict(
            ip=(c["ip_query"] + c["ip_update"] + c["ip_rebuild"]) / steps,
            t=c["t_query_median"] + c["t_update_median"] + c["t_rebuild"] / steps,
            build=c["t_init"],
            exact=bool(np.array_equal(net.W, ref)),
        )
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ds", type=int, nargs="+", default=[2, 4, 8, 16])
    p.add_argument("--log2m", type=int, nargs=2, default=[10, 15], metavar=("LO", "HI"))
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    ms = [2**k for k in range(a.log2m[0], a.log2m[1] + 1)]
    t0 = time.perf_counter()
    print(
        f"{'d':>3} {'m':>7} {'identifier':>15} {'ip/step':>9} {'ip ratio':>9} {'us/step':>9} {'t ratio':>8} "
        f"{'build ms':>9} exact"
    )
    fits = []
    for d in a.ds:
        res = {m: measure(m, d, a.steps, a.seed) for m in ms}
        for m in ms:
            dn = res[m]["dense"]
            for name in IDENTIFIERS:
                r = res[m][name]
                print(
                    f"{d:>3} {m:>7} {name:>15} {r['ip']:>9.0f} {r['ip'] / dn['ip']:>9.3f} {1e6 * r['t']:>9.1f} "
                    f"{r['t'] / dn['t']:>8.2f} {1e3 * r['build']:>9.1f} {'yes' if r['exact'] else 'NO'}"
                )
        for name in IDENTIFIERS:
            lm = np.log([float(m) for m in ms])
            e_ip = np.polyfit(lm, np.log([res[m][name]["ip"] for m in ms]), 1)[0]
            e_t = np.polyfit(lm, np.log([res[m][name]["t"] for m in ms]), 1)[0]
            ratio = np.log([res[m][name]["t"] / res[m]["dense"]["t"] for m in ms])
            s, c = np.polyfit(lm, ratio, 1)
            if name == "dense":
                cross = "-"
            elif e_ip >= 0.95:
                cross = "none: inner products not sublinear"
            elif s < 0:
                cross = f"2^{(-c / s) / np.log(2):.1f} (extrapolated)"
            else:
                cross = "none: time ratio not falling"
            fits.append((d, name, e_ip, e_t, cross))
    print("\nexponents in m (log-log fit over the measured m) and break-even width against dense (wall time):")
    print(f"{'d':>3} {'identifier':>15} {'ip exponent':>12} {'time exponent':>14}  break-even m")
    for d, name, e_ip, e_t, cross in fits:
        print(f"{d:>3} {name:>15} {e_ip:>12.2f} {e_t:>14.2f}  {cross}")
    print(
        "\ntheory: exact half-space reporting query ~ m^(1-1/floor(d/2)) + k: "
        + ", ".join(f"d={d}: {theory.halfspace_query_exponent(d):.2f}" for d in a.ds if d >= 4)
    )
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
