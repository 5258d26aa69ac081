"""Experiment 3 (Theorem 3 and Claim 1).  (a) Every student neuron's angle (up to sign) to
its nearest teacher against its mass |w_i|^2, at the start and at the end of GD from near the
teachers (m > r); Theorem 3: at zero loss every neuron with mass > 0 sits at angle 0.
(b) Appendix A.2's ReLU student: zero ReLU loss while each neuron is at an angle > 0 from every
teacher; under |.| the same neurons are at angle 0 up to sign."""

from __future__ import annotations

import numpy as np

from maskedntk.core import figures as F

from .common import load, new, save, width_colours


def render(inputs, pdf, png, cfg):
    nd = load(inputs, "neurons")
    r = int(nd["m"].min())
    nd = nd[nd["m"] > r]
    c1 = load(inputs, "claim1")
    fig, axes = new(2, height=2.7)
    ax = axes[0]
    cols = width_colours(nd["m"])
    ax.scatter(nd["mass0"], np.degrees(nd["angle0"]), s=3, color="0.7", label="start (all m)")
    for m, g in nd.groupby("m"):
        ax.scatter(g["mass"], np.degrees(g["angle"]), s=3, color=cols[m], label=f"end, m = {m}")
    ax.axhline(0, color="k", ls="--", lw=1, label="Thm 3 (L = 0): angle 0")
    ax.set(xscale="log", xlabel=r"neuron mass $\|w_i\|^2$", ylabel="angle to nearest teacher (deg)")
    ax.set_title("(a) |.| model: neurons align with teachers", fontsize=7)
    ax.legend(fontsize=5.5, markerscale=2)
    ax = axes[1]
    pal = F.palette(4)
    x = np.arange(len(c1))
    ax.bar(x, np.degrees(c1["min_angle_relu"]), 0.5, color=pal[1], label="ReLU: min angle to a teacher")
    ax.plot(x, np.zeros(len(c1)), "D", ms=4, color=pal[0], clip_on=False, label="|.|: angle up to sign (= 0)")
    for i, row in c1.reset_index().iterrows():
        ax.text(i, np.degrees(row["min_angle_relu"]) + 2, f"L={abs(row['L_relu']):.0e}", ha="center", fontsize=5)
    ax.set(
        xticks=x,
        xticklabels=[str(s) for s in c1["seed"]],
        xlabel="seed (teacher with sum w* = 0)",
        ylabel="angle (deg)",
        ylim=(0, 1.3 * np.degrees(c1["min_angle_relu"].max()) + 5),
    )
    ax.set_title("(b) Claim 1: ReLU student at zero loss, L = ReLU loss", fontsize=7)
    ax.legend(fontsize=5.5, loc="upper left")
    save(fig, pdf, png, __name__)
