"""Cost per SGD step of each active-set identifier against m, one column per d: inner products
(query + update + amortised build) and identification wall time, dense beside the trees."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from maskedntk.core import figures as cf

from .. import metrics, theory
from . import gather

#: the extrapolation of the time ratio is drawn up to this width
X_MAX = 2.0**28
#: the time ratio is extrapolated only for identifiers whose inner products grow with an
#: exponent below this (a method doing >= m inner products cannot overtake dense for large m)
SUBLINEAR_EXPONENT = 0.95


def crossover(m, ratio, x_max):
    """Fit log ratio = a + s log m; return (m where the fit crosses 1 or None, xs, ys) with the
    fitted line from the largest measured m up to min(crossing, x_max)."""
    ok = (m > 0) & (ratio > 0) & np.isfinite(ratio)
    if ok.sum() < 2:
        return None, np.array([]), np.array([])
    s, a = np.polyfit(np.log(m[ok]), np.log(ratio[ok]), 1)
    m_star = float(np.exp(-a / s)) if s < 0 else None
    hi = x_max if m_star is None else min(x_max, m_star)
    xs = np.geomspace(m[ok].max(), max(hi, m[ok].max()), 30)
    return (m_star if m_star is not None and m_star <= x_max else None), xs, np.exp(a + s * np.log(xs))


LABELS = {
    "dense": "dense (all $m$)",
    "balltree": "sklearn BallTree (static, norm shells)",
    "partition_tree": "partition tree (dynamic, paper's scheme)",
}


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    import matplotlib.pyplot as plt

    cf.apply_style()
    cost = gather(inputs, "cost_")
    s = metrics.cost_summary(cost)
    c = float(settings["c_threshold"])
    ds = sorted(s["d"].unique())
    ids = [i for i in ("dense", "balltree", "partition_tree") if i in set(s["identifier"])]
    col = dict(zip(ids, cf.palette(len(ids)), strict=True))
    fig, axes = plt.subplots(2, len(ds), figsize=(cf.TWO_COLUMNS, 4.9), squeeze=False)
    ms = np.array(sorted(s["m"].unique()), dtype=float)
    grid = np.geomspace(ms.min(), ms.max(), 100)
    k = np.array([theory.expected_active(int(m), theory.threshold(int(m), c)) for m in grid])
    for j, d in enumerate(ds):
        a1, a2 = axes[0, j], axes[1, j]
        h = s[s["d"] == d]
        for i in ids:
            g = h[h["identifier"] == i]
            a1.plot(g["m"], g["ip_total"], color=col[i], marker="o", ms=3, lw=1.3, label=LABELS[i])
            a2.plot(g["m"], g["t_ratio"], color=col[i], marker="o", ms=3, lw=1.3, label=LABELS[i])
            ip_exp = metrics.loglog_slope(g["m"], g["ip_total"])
            if i != "dense" and ip_exp < SUBLINEAR_EXPONENT:
                m_star, xs, ys = crossover(g["m"].to_numpy(float), g["t_ratio"].to_numpy(float), X_MAX)
                a2.plot(xs, ys, color=col[i], lw=0.9, ls="--")
                if m_star is not None:
                    a2.annotate(
                        "1 at\n" + rf"$m\approx 2^{{{np.log2(m_star):.0f}}}$",
                        (m_star, 1.0),
                        xytext=(-4, 8 if i == "partition_tree" else 26),
                        textcoords="offset points",
                        fontsize=6,
                        color=col[i],
                        ha="right",
                    )
        a1.plot(grid, k, color="k", lw=1, ls=":", label=r"output size $m\,Q(b)$")
        a2.axhline(1.0, color="k", lw=0.8, ls=":")
        if d >= 4:
            e = theory.halfspace_query_exponent(d)
            ref = h[(h["identifier"] == "dense")]["ip_total"].iloc[0] * (grid / ms.min()) ** e
            a1.plot(grid, ref, color="0.5", lw=1, ls="--", label=r"HSR shape $m^{1-1/\lfloor d/2\rfloor}$")
        a1.set_title(f"d = {d}", fontsize=9)
        for a in (a1, a2):
            a.set_xscale("log", base=2)
            a.set_yscale("log")
        a1.set_xlabel("width $m$")
        a2.set_xlabel("width $m$")
        a2.set_xlim(ms.min() / 1.5, X_MAX)
    axes[0, 0].set_ylabel("inner products / step")
    axes[1, 0].set_ylabel("wall time / dense wall time")
    axes[1, 0].plot(
        [], [], color="0.3", lw=0.9, ls="--", label="time-ratio fit, extrapolated (if inner products sublinear)"
    )
    h1, l1 = axes[0, -1].get_legend_handles_labels()
    h1b, l1b = axes[1, 0].get_legend_handles_labels()
    h1, l1 = h1 + [h1b[-1]], l1 + [l1b[-1]]
    if len(ds) > 1 and 4 > ds[0]:
        h0, l0 = axes[0, 0].get_legend_handles_labels()
        extra = [(hh, ll) for hh, ll in zip(h1, l1, strict=True) if ll not in l0]
        h1, l1 = h0 + [e[0] for e in extra], l0 + [e[1] for e in extra]
    fig.legend(h1, l1, loc="lower center", ncol=2, fontsize=7, frameon=False)
    n_seeds = int(s["n_seeds"].min())
    fig.suptitle(
        f"Cost per SGD step (median of {n_seeds} seeds; query + update + rebuilds; initial build excluded); "
        "all identifiers exact",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.11, 1, 0.97))
    cf.save(fig, pdf, png, name=__name__)
