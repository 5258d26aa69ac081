"""Fig. 6: the overlap gap delta(gamma) = chi(infinity) - chi(gamma) at d = infinity in the three
regimes, with the reference shapes gamma^-2, sqrt(gamma) e^{-2 gamma / alpha*} and
e^{-4 gamma / alpha*} (constants matched at the end of gap.fit_window)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as style

from .. import theory
from ..experiments import REGIMES
from .common import REGIME_SYMBOL, load

#: the reference curves are drawn this factor above the solution so that both stay visible
OFFSET = 5.0


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    style.apply_style()
    lim = load(inputs["limit"])
    lim = lim[lim["kind"] == "gap"]
    cols = style.palette(3)
    fig, ax = plt.subplots(figsize=(style.ONE_COLUMN * 1.35, 2.6))
    w0, w1 = settings["gap"]["fit_window"]
    for c, regime in zip(cols, REGIMES, strict=True):
        a, astar = settings["regimes"][regime]
        L = lim[lim["regime"] == regime]
        g = L["gamma"].to_numpy()
        delta = theory.limiting_overlap(a, astar) - L["overlap"].to_numpy()
        ok = delta > 0
        ax.plot(g[ok], delta[ok], color=c, label=f"{REGIME_SYMBOL[regime]} ($\\alpha$={a:g}, $\\alpha^*$={astar:g})")
        gg = g[(g >= w0 / 2) & (g > 0)]
        ref, lab = theory.overlap_gap_reference(gg, a, astar)
        anchor = np.argmin(np.abs(g - w1))
        scale = delta[anchor] / theory.overlap_gap_reference(np.array([g[anchor]]), a, astar)[0][0]
        ax.plot(gg, OFFSET * scale * ref, color=c, ls="--", lw=0.9, label=f"$\\propto$ {lab} (x{OFFSET:g})")
    ax.text(
        0.98,
        0.03,
        f"dashed: constant matched at $\\gamma$ = {w1:g}, drawn x{OFFSET:g}",
        transform=ax.transAxes,
        ha="right",
        fontsize=6,
        color="0.3",
    )
    ax.set_yscale("log")
    ax.set_ylim(1e-12, 2)
    ax.set_xlim(0, settings["gap"]["gamma_max"])
    ax.set_xlabel(r"$\gamma$")
    ax.set_ylabel(r"$\delta(\gamma) = \chi(\infty) - \chi(\gamma)$")
    ax.set_title(r"Overlap gap at $d=\infty$ (Prop. 5.1); dashed: reference rates", fontsize=7.5)
    ax.legend(loc="lower left", fontsize=5.8)
    style.save(fig, pdf, png, name=__name__)
