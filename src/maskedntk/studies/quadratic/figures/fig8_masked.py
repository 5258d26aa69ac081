"""Fig. 8 (beyond the paper): masked training of the quadratic network (p Bernoulli(xi)
subnetworks, tau local steps per round, aggregation by neuron) against full-batch population GD.

(a) population risk against gamma = eta tau k / d (local steps) for each tau at xi = masked.xi,
with each scheme's plateau (mean over the last quarter) dotted; (b) overlap, with the d = infinity
overlap of Prop. 5.1; (c) the plateau against xi at tau = masked.xi_sweep_tau (median, min-max over
seeds), with full GD's final risk: the neighbourhood of the population optimum (risk 0)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as style

from .. import metrics, theory
from .common import load, plot_seeds


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    style.apply_style()
    c = settings["masked"]
    df = load(inputs["masked"])
    d, m, ms = (int(df[k].iloc[0]) for k in ("d", "m", "m_star"))
    main = df[(df["tau"] == 0) | ((df["xi"] == c["xi"]) & df["tau"].isin(c["taus"]))]
    taus = sorted(main["tau"].unique())
    cols = dict(zip(taus, ["black", *style.palette(len(taus) - 1)], strict=True))
    fig, (ax1, ax2, ax3) = plt.subplots(
        1, 3, figsize=(style.TWO_COLUMNS, 2.5), gridspec_kw={"width_ratios": [1.2, 1.2, 1]}
    )
    for tau in taus:
        sub = main[(main["tau"] == tau) & (main["gamma"] > 0)]
        lab = "full GD (population)" if tau == 0 else f"masked, $\\tau$ = {tau}"
        plot_seeds(ax1, sub, "gamma", "loss", cols[tau], lab)
        plot_seeds(ax2, sub, "gamma", "overlap", cols[tau], lab)
        if tau > 0:
            level = float(metrics.plateau(sub, "loss").median())
            ax1.axhline(level, color=cols[tau], ls=":", lw=0.8)
    g = np.geomspace(1e-3, c["gamma_max"], 200)
    L = theory.solve_limit(m / d, ms / d, np.concatenate([[0], g]))
    ax2.plot(g, L.overlap[1:], color="0.4", ls="--", lw=1.0, label=r"$d=\infty$ (Prop. 5.1)")
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_xlabel(r"$\gamma = \eta \tau k / d$ (local steps)")
    ax1.set_yscale("log")
    ax1.set_ylabel(r"population risk $\mathcal{L}(W_k)$")
    ax1.set_title("(a) population risk (optimum: 0)", fontsize=7.5)
    ax1.text(
        0.02,
        0.03,
        "dotted: plateaus\n(last quarter)",
        transform=ax1.transAxes,
        fontsize=6,
    )
    ax2.set_ylabel(r"overlap $\chi$")
    ax2.set_title("(b) overlap", fontsize=7.5)
    ax2.legend(fontsize=5.5, loc="lower right")
    full_final = float(metrics.final_values(df[df["tau"] == 0], by=("seed",), x="round")["loss"].median())
    sweep = df[(df["tau"] == c["xi_sweep_tau"])]
    xs, med, lo, hi = [], [], [], []
    for xi, g in sweep.groupby("xi"):
        pl = metrics.plateau(g, "loss")
        xs.append(xi)
        med.append(pl.median())
        lo.append(pl.min())
        hi.append(pl.max())
    med, lo, hi = map(np.asarray, (med, lo, hi))
    ax3.errorbar(
        xs,
        med,
        yerr=[med - lo, hi - med],
        marker="o",
        ms=3,
        lw=0.9,
        color=style.palette(4)[3],
        label=f"masked plateau, $\\tau$ = {c['xi_sweep_tau']}",
    )
    ax3.axhline(full_final, color="black", ls="--", lw=0.9, label="full GD, final risk")
    ax3.set_yscale("log")
    ax3.set_xlabel(r"mask probability $\xi$")
    ax3.set_ylabel("plateau risk")
    ax3.set_title("(c) neighbourhood vs $\\xi$", fontsize=7.5)
    ax3.legend(fontsize=5.5, loc="upper right")
    fig.suptitle(
        f"Masked training, orthonormal setup: d = {d}, m = {m}, m* = {ms}, p = {c['p']}, "
        f"$\\xi$ = {c['xi']:g} in (a-b), "
        f"$\\eta$ = {c['eta']:g}; mean over {settings['seeds']} seeds (band: min-max)",
        fontsize=8,
    )
    style.save(fig, pdf, png, name=__name__)
