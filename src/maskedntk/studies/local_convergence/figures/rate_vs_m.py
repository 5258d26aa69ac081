"""Steps needed to go from L = level_hi to L = level_lo against m/m*: the theory says the
rate does not depend on m (flat for m > m*); m = m* is faster (linear convergence)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as F

from ..claims import _censored_interval, seed_interval
from .common import load


def render(inputs, pdf, png, settings) -> None:
    F.apply_style()
    cl = settings["claims"]
    runs = load(inputs, "curves_", "_runs")
    runs["interval"] = _censored_interval(runs, cl["level_hi"], cl["level_lo"])
    g = seed_interval(runs)
    ratios = list(g.columns)
    fig, ax = plt.subplots(figsize=(F.ONE_COLUMN, 2.5))
    for _, row in g.iterrows():
        ax.plot(ratios, row.values, color="0.6", lw=0.6, marker="o", ms=2)
    med = g.median()
    ax.plot(ratios, med.values, color=F.palette(1)[0], lw=1.6, marker="o", label="median over seeds")
    over = [r for r in ratios if r > 1]
    if over:
        ref = med[over[0]]
        band = cl["rate_band"]
        ax.fill_between(
            [min(over), max(over)],
            ref / band,
            ref * band,
            color="0.85",
            lw=0,
            label=rf"theory: flat in $m$ (band $\times{band:g}^{{\pm 1}}$)",
        )
        ax.hlines(ref, min(over), max(over), color="k", ls="--", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(ratios, [f"{r}" for r in ratios])
    ax.set_xlabel(r"width ratio $m / m^*$")
    e_hi, e_lo = int(round(np.log10(cl["level_hi"]))), int(round(np.log10(cl["level_lo"])))
    ax.set_ylabel(rf"steps from $L=10^{{{e_hi}}}$ to $L=10^{{{e_lo}}}$")
    if 1 in ratios:
        ax.annotate("$m=m^*$: linear rate", (1, med[1]), xytext=(1.15, med[1] * 0.55), fontsize=6)
    ax.set_title("Time to a loss level against width")
    ax.legend(frameon=False, fontsize=6, loc="upper left")
    F.save(fig, pdf, png, name=__name__)
