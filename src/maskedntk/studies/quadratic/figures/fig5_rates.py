"""Fig. 5: convergence rates in t = eta k (Gaussian setup without 1/sqrt(d), as in the authors' Figure5.py).

(a) m > m*: t^2 L(t), flat when L ~ t^-2 (the paper's rate for m > m*);
(b) m = m*: L(t) against C exp(-4 mu t), mu the smallest non-zero eigenvalue of M* (one
    teacher per d shared by the seeds, as in the paper), C anchored at the last point of the
    fit window (the law is asymptotic)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as style

from .. import metrics
from .common import d_colours, load, seed_summary

#: the reference lines of panel (b) are drawn this factor above the data so both stay visible
OFFSET = 10.0


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    style.apply_style()
    r = settings["rates"]
    dims = r["dims"]
    cols = d_colours(dims)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(style.TWO_COLUMNS, 2.5))
    over = load(inputs["rates_over"])
    over = over[over["t"] > 0]
    for d in dims:
        sub = over[over["d"] == d]
        s = seed_summary(sub, "t", "loss")
        t = s["t"].to_numpy()
        p = np.mean([metrics.loglog_slope(g["t"], g["loss"], r["fit_over"]) for _, g in sub.groupby("seed")])
        label = f"d = {d} (m = {sub['m'].iloc[0]}, m* = {sub['m_star'].iloc[0]}): fitted exponent {p:.2f}"
        ax1.plot(t, t**2 * s["mean"], color=cols[d], label=label)
        ax1.fill_between(t, t**2 * s["lo"], t**2 * s["hi"], color=cols[d], alpha=0.18, lw=0)
    ax1.axvspan(*r["fit_over"], color="0.85", alpha=0.5, lw=0, label="fit window")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel(r"$t = \eta k$")
    ax1.set_ylabel(r"$t^2 \, \mathcal{L}(t)$")
    ax1.set_title(
        f"(a) m > m*  ($\\alpha$ = {r['over'][0]:g}, $\\alpha^*$ = {r['over'][1]:g}): flat = $t^{{-2}}$ law",
        fontsize=7.5,
    )
    ax1.legend(loc="lower right", fontsize=5.5)

    eq = load(inputs["rates_equal"])
    lo, hi = r["fit_equal_loss"]
    for d in dims:
        sub = eq[eq["d"] == d]
        s = seed_summary(sub, "t", "loss")
        t = s["t"].to_numpy()
        ax2.plot(t, s["mean"], color=cols[d], label=f"d = {d} (m = m* = {sub['m'].iloc[0]})")
        mu = float(sub["mu"].iloc[0])
        inwin = s[(s["mean"] <= hi) & (s["mean"] >= lo)]
        if len(inwin):
            # C anchored at the last point of the window: the law is asymptotic
            t0, L0 = float(inwin["t"].iloc[-1]), float(inwin["mean"].iloc[-1])
            tt = np.linspace(float(inwin["t"].iloc[0]), t0, 50)
            ax2.plot(
                tt,
                OFFSET * L0 * np.exp(-4 * mu * (tt - t0)),
                color=cols[d],
                ls="--",
                lw=0.9,
                label=f"$C e^{{-4\\mu t}}$ (x{OFFSET:g}), $\\mu$ = {mu:.3f}",
            )
    ax2.axhspan(lo, hi, color="0.85", alpha=0.4, lw=0, label="fit window (loss)")
    ax2.set_yscale("log")
    ax2.set_ylim(max(1e-16, lo / 100), None)
    ax2.set_xlabel(r"$t = \eta k$")
    ax2.set_ylabel(r"$\mathcal{L}(t)$")
    ax2.set_title(f"(b) m = m*  ($\\alpha$ = $\\alpha^*$ = {r['equal'][0]:g}): $e^{{-4\\mu t}}$ law", fontsize=7.5)
    ax2.legend(loc="lower left", fontsize=5.5, ncol=2)
    fig.suptitle(
        f"Rates, Gaussian setup: mean over {settings['seeds']} seeds (band: min-max), $\\eta$ = {r['eta']:g}",
        fontsize=8,
    )
    style.save(fig, pdf, png, name=__name__)
