"""Experiment 1 (Theorem 5): T(eps) eps eta / (r w_max) against eps for every width m.
Theorem 5 bounds it by a constant C for every m and eps (C not given): drawn as the level
through the largest median, a bound that curves for every m must stay under as eps falls."""

from __future__ import annotations

import numpy as np

from ..claims import times
from .common import new, save, width_colours, width_label


def render(inputs, pdf, png, cfg):
    from .common import load

    df = load(inputs, "runs")
    r, w_max, eta = cfg["teacher"]["r"], cfg["teacher"]["w_max"], cfg["local"]["eta"]
    T = times(df, censor=False)
    eps = np.asarray(T.columns)
    fig, (ax,) = new(1, height=2.7)
    cols = width_colours(df["m"])
    top = 0.0
    for m, g in df.groupby("m"):
        y = T.loc[g.index] * eps[None, :] * eta / (r * w_max)
        top = max(top, float(y.median(axis=0).max()))
        med = y.median(axis=0)
        ax.plot(eps, med.values, marker="o", ms=3, color=cols[m], label=width_label(m, r))
        ax.fill_between(eps, y.quantile(0.25).values, y.quantile(0.75).values, color=cols[m], alpha=0.2, lw=0)
    ax.axhline(top, color="k", ls="--", lw=1, label="Thm 5: bounded by a constant")
    ax.set(xscale="log", yscale="log", xlabel=r"target loss $\epsilon$")
    ax.set_ylabel(r"$T(\epsilon)\,\epsilon\,\eta\,/\,(r\,w_{\max})$")
    ax.invert_xaxis()
    ax.set_title("Steps to reach L \u2264 \u03b5, scaled by \u03b5\u03b7 (median, IQR)", fontsize=7)
    ax.legend(fontsize=6, ncol=2)
    save(fig, pdf, png, __name__)
