"""Experiment 7 (Theorem 7): final population loss of SGD with N fresh samples per step
against N, with population GD from the same start (N = infinity) as the level Theorem 7
promises once N is large enough; diverged runs are counted above their N."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from maskedntk.core import figures as F

from .common import band, load, new, save


def render(inputs, pdf, png, cfg):
    df = load(inputs, "runs")
    fin = df[np.isfinite(df["N"])]
    pal = F.palette(4)
    fig, (ax,) = new(1, height=2.7)
    band(ax, "N", fin, "L_final", pal[0], "SGD, N fresh samples / step")
    gd = df[~np.isfinite(df["N"])]["L_final"].median()
    ax.axhline(gd, color=pal[2], lw=1, label="population GD (N = \u221e): Thm 7's limit")
    for N, g in fin.groupby("N"):
        k = int(g["diverged"].sum())
        if k:
            y = g.loc[~g["diverged"], "L_final"].median() if k < len(g) else gd
            ax.annotate(
                f"{k}/{len(g)} diverged\n(median of the rest)",
                (N, y),
                fontsize=5.5,
                ha="left",
                xytext=(6, -4),
                textcoords="offset points",
                color=pal[3],
            )
    ax.set(xscale="log", yscale="log", xlabel="samples per step N", ylabel="final population loss")
    ax.set_xticks(sorted(fin["N"].unique()))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_title("SGD with N fresh samples per step (median, IQR)", fontsize=7)
    ax.legend(fontsize=6, loc="center right")
    save(fig, pdf, png, __name__)
