"""Experiment 2 (Theorem 4): the smallest ||grad L||_F / L along each GD run, against r and
against w_max, with Theorem 4's kappa = Theta(r^-1/2 w_max^-1/2) drawn through the first point."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from maskedntk.core import figures as F

from .common import band, load, new, save


def render(inputs, pdf, png, cfg):
    df = load(inputs, "runs")
    df = df[~df["diverged"]]
    fig, axes = new(2, height=2.6)
    for ax, (x, other, lab) in zip(axes, (("r", "w_max", "r"), ("w_max", "r", r"w_{\max}")), strict=True):
        pal = F.palette(max(df[other].nunique(), 4))
        for i, (val, g) in enumerate(df.groupby(other)):
            name = r"w_{\max}" if other == "w_max" else "r"
            band(ax, x, g, "min_ratio", pal[i], rf"${name} = {val:g}$")
            med = g.groupby(x)["min_ratio"].median()
            xs = np.asarray(med.index, dtype=float)
            ax.plot(xs, med.iloc[0] * (xs / xs[0]) ** -0.5, color=pal[i], ls=":", lw=1)
        ax.plot([], [], color="k", ls=":", lw=1, label=rf"Thm 4: $\propto {lab}^{{-1/2}}$")
        ax.set(xscale="log", yscale="log", xlabel=rf"${lab}$", ylabel=r"$\min_t \|\nabla L\|_F / L$")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(sorted(df[x].unique()))
        ax.legend(fontsize=6)
    axes[0].set_title("(a) against the number of teachers", fontsize=7)
    axes[1].set_title(
        "(b) against the teacher norm scale (dotted = data:\nexactly $w_{\\max}^{-1/2}$ by homogeneity)", fontsize=7
    )
    save(fig, pdf, png, __name__)
