"""Experiment 6 (Section 3.3, Appendix E.1, Algorithm 1): the fraction of runs that converge
(final L <= tol) after Algorithm 1, against the width m; the measured fraction whose every
teacher has a student within gamma; and Appendix E.1's coverage probability
prod_k [1 - (1 - p_gamma)^m], p_gamma = P(angle(w, w*_k) <= gamma) = 1 - I_{cos^2 gamma}(1/2, (d-1)/2)
for uniform directions (teachers treated as independent)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter
from scipy.special import betainc

from maskedntk.core import figures as F

from .common import load, new, save


def coverage(m, r: int, d: int, gamma: float):
    p = 1.0 - betainc(0.5, 0.5 * (d - 1), np.cos(gamma) ** 2)
    return (1.0 - (1.0 - p) ** np.asarray(m, dtype=float)) ** r


def render(inputs, pdf, png, cfg):
    df = load(inputs, "runs")
    r, ini = cfg["teacher"]["r"], cfg["initialisation"]
    g = df.groupby("m")
    pal = F.palette(4)
    fig, (ax,) = new(1, height=2.7)
    ax.plot(
        g["converged"].mean().index,
        g["converged"].mean(),
        "o-",
        color=pal[0],
        label=f"converged (L \u2264 {ini['tol']:g})",
    )
    cov = df.assign(cov=df["cover"] <= ini["gamma"]).groupby("m")["cov"].mean()
    ax.plot(
        cov.index, cov.values, "s-", ms=3, color=pal[1], label=f"measured: every teacher within {ini['gamma']:g} rad"
    )
    m = np.geomspace(df["m"].min(), df["m"].max(), 60)
    ax.plot(m, coverage(m, r, ini["d"], ini["gamma"]), "k--", lw=1, label="App. E.1 coverage probability")
    ax.set(xscale="log", xlabel="student neurons m", ylabel="fraction of seeds", ylim=(-0.05, 1.05))
    ax.set_xticks(sorted(df["m"].unique()))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_title(f"Algorithm 1 then GD (d = {ini['d']}, r = {r})", fontsize=7)
    ax.legend(fontsize=6)
    save(fig, pdf, png, __name__)
