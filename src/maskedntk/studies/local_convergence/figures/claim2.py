"""Experiment 4 (Section 4, Claim 2): L(delta) for two students at +-delta with Claim 2's norms
and for one student at angle delta; Theta(delta^3) and Theta(delta^2) reference slopes."""

from __future__ import annotations

import numpy as np

from maskedntk.core import figures as F

from .common import load, new, save


def render(inputs, pdf, png, cfg):
    df = load(inputs, "runs").sort_values("delta")
    fig, (ax,) = new(1, height=2.7)
    pal = F.palette(4)
    ax.plot(df["delta"], df["L_one"], "o", ms=2.5, color=pal[0], label="one student (exact param.)")
    ax.plot(df["delta"], df["L_two"], "s", ms=2.5, color=pal[1], label="two students (Claim 2)")
    d = np.geomspace(df["delta"].min(), df["delta"].max(), 50)
    for col, p, c in (("L_one", 2, pal[0]), ("L_two", 3, pal[1])):
        k = np.median(df[col] / df["delta"] ** p)
        ax.plot(d, k * d**p, color=c, ls="--", lw=1, label=rf"$\Theta(\delta^{p})$ (Section 4)")
    ax.set(xscale="log", yscale="log", xlabel=r"angle $\delta$ to the teacher (rad)", ylabel=r"loss $L$")
    ax.set_title("Loss near a global minimum: exact vs over-parameterised", fontsize=7)
    ax.legend(fontsize=6)
    save(fig, pdf, png, __name__)
