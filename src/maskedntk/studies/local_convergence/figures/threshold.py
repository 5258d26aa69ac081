"""The threshold premise: (a) fraction of runs that converge against the initial loss, per
m/m*; (b) final against initial loss of every run."""

from __future__ import annotations

import matplotlib.pyplot as plt

from maskedntk.core import figures as F

from .common import FLOOR, clip, load, ratio_colours, ratio_label


def render(inputs, pdf, png, settings) -> None:
    F.apply_style()
    th = load(inputs, "threshold_")
    tol = settings["threshold"]["tol"]
    th["conv"] = (~th["diverged"]) & (th["L_final"] <= tol)
    ratios = sorted(th["ratio"].unique())
    col = ratio_colours(ratios)
    fig, axes = plt.subplots(1, 2, figsize=(F.TWO_COLUMNS, 2.5))
    ax = axes[0]
    for r in ratios:
        s = th[th["ratio"] == r].groupby("rho").agg(L0=("L0", "median"), frac=("conv", "mean"), n=("conv", "size"))
        ax.plot(s["L0"], s["frac"], marker="o", color=col[r], label=ratio_label(r))
    per = th.groupby(["ratio", "rho"])["L0"].median().reset_index()
    loc = per[per["rho"] <= settings["claims"]["local_rho_max"]]["L0"].max()
    ax.axvspan(th["L0"].min() / 2, loc, color="0.9", lw=0, label="local regime (claim C1)")
    ax.axhline(1.0, color="k", ls="--", lw=0.8, label="theory below threshold: all converge")
    ax.set_xscale("log")
    ax.set_ylim(-0.05, 1.08)
    ax.set_xlabel(r"initial loss $L_0$ (median per $\rho$)")
    ax.set_ylabel(rf"fraction converged ($L_T \leq {tol:g}$)")
    ax.set_title("(a) convergence against initial loss")
    ax.legend(frameon=False, fontsize=6, loc="lower left")
    ax = axes[1]
    for r in ratios:
        s = th[th["ratio"] == r]
        ax.scatter(s["L0"], clip(s["L_final"].fillna(10.0)), s=6, color=col[r], alpha=0.7, lw=0, label=ratio_label(r))
    ax.axhline(tol, color="k", ls=":", lw=0.8)
    ax.text(th["L0"].min(), tol * 2, "convergence tolerance", fontsize=6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 3, 30)
    ax.set_xlabel(r"initial loss $L_0$")
    ax.set_ylabel(r"final loss $L_T$")
    ax.set_title(rf"(b) every run ($T={settings['threshold']['steps']}$ steps; diverged runs at 10)")
    tc = settings["threshold"]
    fig.suptitle(
        rf"Threshold premise: $d={tc['d']}$, $\eta={tc['eta']:g}$, init distance $\rho \in$ {tc['rho']}", fontsize=8
    )
    F.save(fig, pdf, png, name=__name__)
