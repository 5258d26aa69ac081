"""Alignment of every student neuron: (a) the mass-weighted squared angle A_t, (b) the far
mass F_t (output mass of neurons farther than delta from every teacher), (c) the final
angle-vs-mass scatter of every neuron (the theorem: each neuron is near a teacher or massless)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as F

from .common import load, median_curve, ratio_colours, ratio_label


def render(inputs, pdf, png, settings) -> None:
    F.apply_style()
    tr = load(inputs, "curves_", "_traj")
    tr = tr[tr["step"] > 0]  # log time axis
    ne = load(inputs, "curves_", "_neurons")
    ratios = sorted(tr["ratio"].unique())
    col = ratio_colours(ratios)
    delta = settings["delta"]
    fig, axes = plt.subplots(1, 3, figsize=(F.TWO_COLUMNS, 2.4))
    for r in ratios:
        s = tr[tr["ratio"] == r]
        for ax, y in ((axes[0], "align"), (axes[1], "far_mass")):
            mc = median_curve(s, "step", y)
            x = np.maximum(mc["step"], 1)
            ax.plot(x, np.maximum(mc["med"], 1e-32), color=col[r], label=ratio_label(r))
            ax.fill_between(x, np.maximum(mc["lo"], 1e-32), np.maximum(mc["hi"], 1e-32), color=col[r], alpha=0.2, lw=0)
    axes[0].set_yscale("log")
    axes[0].set_ylim(1e-14, 2)
    axes[0].set_ylabel(r"$A_t=\sum_i |a_i|\,\|w_i\|\,\theta_i^2 / \sum_k a^*_k$")
    axes[0].set_title("(a) alignment residual (theory: $\\to 0$)", fontsize=7.5)
    axes[1].set_ylabel(rf"far mass $F_t$ ($\theta_i > {delta:g}$ rad)")
    axes[1].set_title("(b) far mass (theory: $\\to 0$)", fontsize=7.5)
    axes[1].set_yscale("symlog", linthresh=1e-4)
    axes[1].set_ylim(0, 1)
    for ax in axes[:2]:
        ax.set_xscale("log")
        ax.set_xlabel("GD step $t$")
    axes[0].legend(frameon=False, fontsize=6)
    ax = axes[2]
    for r in ratios:
        s = ne[ne["ratio"] == r]
        ax.scatter(
            np.maximum(s["theta"], 1e-9),
            np.maximum(s["mu"], 1e-12),
            s=3,
            color=col[r],
            alpha=0.5,
            lw=0,
            label=ratio_label(r),
        )
    ax.axvline(delta, color="k", ls=":", lw=0.8)
    ax.text(delta * 1.3, 0.03, rf"$\delta={delta:g}$", fontsize=6, transform=ax.get_xaxis_transform())
    ax.text(1.3e-9, 0.03, r"$\theta_i \leq 10^{-9}$" + "\n(clipped)", fontsize=5.5, transform=ax.get_xaxis_transform())
    ax.legend(frameon=False, fontsize=6, loc="lower center", markerscale=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"final angle to nearest teacher $\theta_i$ (rad)")
    ax.set_ylabel(r"final mass $\mu_i = |a_i|\,\|w_i\|$")
    ax.set_title("(c) final neurons: aligned or massless", fontsize=7.5)
    fig.suptitle(
        r"Student neurons converge to teacher directions (curves experiment, all $\rho$, $d$, seeds)", fontsize=8
    )
    F.save(fig, pdf, png, name=__name__)
