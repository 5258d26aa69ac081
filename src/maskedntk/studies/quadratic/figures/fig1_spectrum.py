"""Fig. 1: the spectrum of Y = U^T U* U*^T U at finite d against the density of mu (Fig. 1 of the paper).

Histogram (probability density) of the m eigenvalues at d = spectrum.d, against rho(x)/alpha
(the density of mu normalised to a probability; the atoms of mu are shown as arrows if any)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as style

from .. import theory
from .common import load


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    style.apply_style()
    df = load(inputs["spectrum"])
    s = settings["spectrum"]
    a, astar = s["alpha"], s["alpha_star"]
    r1, r2 = theory.edges(a, astar)
    fig, ax = plt.subplots(figsize=(style.ONE_COLUMN, 2.3))
    col = style.palette(2)
    ax.hist(
        df["eigenvalue"],
        bins=s["bins"],
        density=True,
        color=col[0],
        alpha=0.45,
        edgecolor="white",
        lw=0.4,
        label=f"eigenvalues, d = {int(df['d'].iloc[0])} (m = {len(df)})",
    )
    x = np.linspace(r1, r2, 1200)[1:-1]
    mass = theory.continuous_mass(a, astar)
    ax.plot(x, theory.density(x, a, astar) / a, color="black", ls="--", lw=1.0, label=r"$\rho(x)/\alpha$, $d=\infty$")
    for x0, w in theory.atoms(a, astar).items():
        ax.annotate(f"atom {w / a:.2f}", (x0, 0), xytext=(x0, 1.0), arrowprops={"arrowstyle": "->"}, fontsize=6)
    ax.axvline(r1, color="0.5", lw=0.6, ls=":")
    ax.axvline(r2, color="0.5", lw=0.6, ls=":")
    ax.set_xlabel(r"eigenvalue $x$ of $U^\top U^* U^{*\top} U$")
    ax.set_ylabel("probability density")
    ax.set_title(f"Spectrum at initialisation: $\\alpha$ = {a:g}, $\\alpha^*$ = {astar:g}")
    ax.text(
        0.5,
        0.04,
        f"$r_1$ = {r1:.3f}, $r_2$ = {r2:.3f}; density mass {mass / a:.3f}",
        transform=ax.transAxes,
        ha="center",
        fontsize=6.5,
    )
    ax.set_xlim(0, 1)
    ax.legend(loc="upper center")
    style.save(fig, pdf, png, name=__name__)
