"""Fig. 7 (beyond the paper): GD on the empirical risk with n = ratio d^2 samples beside the
population flow from the same teachers and initialisations, orthonormal setup.

(a) population risk L(W_k) of the iterates against gamma; (b) overlap, with the d = infinity
overlap of Prop. 5.1; (c) at gamma_max: population risk (test) and empirical risk (train)
against n / d^2, with the population flow's final risk as a horizontal line."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as style

from .. import theory
from .common import load, plot_seeds


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    style.apply_style()
    e = settings["empirical"]
    df = load(inputs["empirical"])
    d, m, ms = (int(df[k].iloc[0]) for k in ("d", "m", "m_star"))
    ratios = sorted(r for r in df["n_over_d2"].unique() if np.isfinite(r))
    cols = dict(zip(ratios, style.sequential_cmap("crest")(np.linspace(0.15, 0.95, len(ratios))), strict=True))
    fig, axes = plt.subplots(1, 3, figsize=(style.TWO_COLUMNS, 2.4))
    pop = df[~np.isfinite(df["n_over_d2"])]
    for ax, q in zip(axes[:2], ("loss", "overlap"), strict=True):
        for r in ratios:
            sub = df[(df["n_over_d2"] == r) & (df["gamma"] > 0)]
            plot_seeds(ax, sub, "gamma", q, cols[r], f"n = {r:g} d$^2$ = {int(sub['n'].iloc[0])}", band=False)
        plot_seeds(ax, pop[pop["gamma"] > 0], "gamma", q, "black", f"population GD (d = {d})", band=False)
        ax.set_xscale("log")
        ax.set_xlabel(r"$\gamma = \eta k / d$")
    g = np.geomspace(1e-3, e["gamma_max"], 200)
    L = theory.solve_limit(m / d, ms / d, np.concatenate([[0], g]))
    axes[1].plot(g, L.overlap[1:], color="0.4", ls="--", lw=1.0, label=r"$d=\infty$ (Prop. 5.1)")
    axes[0].set_yscale("log")
    axes[0].set_ylabel(r"population risk $\mathcal{L}(W_k)$")
    axes[0].set_title("(a) test (population) risk", fontsize=7.5)
    axes[1].set_ylabel(r"overlap $\chi$")
    axes[1].set_title("(b) overlap", fontsize=7.5)
    axes[0].legend(*axes[1].get_legend_handles_labels(), fontsize=5.3, loc="lower left")
    ax = axes[2]
    fin = df[df["step"] == df["step"].max()]
    emp = fin[np.isfinite(fin["n_over_d2"])]
    for q, mk, lab in (("loss", "o", "population risk (test)"), ("train", "s", "empirical risk (train)")):
        s = emp.groupby("n_over_d2")[q].agg(["median", "min", "max"]).reset_index()
        ax.errorbar(
            s["n_over_d2"],
            s["median"],
            yerr=[s["median"] - s["min"], s["max"] - s["median"]],
            marker=mk,
            ms=3,
            lw=0.9,
            label=lab,
        )
    ax.axhline(
        float(pop.loc[pop["step"] == pop["step"].max(), "loss"].median()),
        color="black",
        ls="--",
        lw=0.9,
        label="population GD",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ratios, [f"{r:g}" for r in ratios], rotation=45)
    ax.minorticks_off()
    ax.set_xlabel(r"$n / d^2$")
    ax.set_ylabel(f"risk at $\\gamma$ = {e['gamma_max']:g}")
    ax.set_title("(c) final risks (median, min-max)", fontsize=7.5)
    ax.legend(fontsize=5.5)
    fig.suptitle(
        f"Empirical risk with n samples, orthonormal setup: d = {d}, m = {m}, m* = {ms}, "
        f"$\\eta$ = {e['eta']:g}, mean over {settings['seeds']} seeds",
        fontsize=8,
    )
    style.save(fig, pdf, png, name=__name__)
