"""Experiment 5 (Section 4 and Theorem 5): loss curves for m = r (linear convergence) and
m > r (polynomial), with the fitted forms and reference slopes T^-1 (Theorem 5's O(1/T)
bound) and T^-3 (Xu & Du 2023, another model: one ReLU teacher neuron)."""

from __future__ import annotations

import numpy as np

from .common import FLOOR, load, new, save, width_colours, width_label


def render(inputs, pdf, png, cfg):
    df = load(inputs, "traj")
    r = int(df["m"].min())
    cols = width_colours(df["m"])
    fig, axes = new(2, height=2.7)
    for m, g in df.groupby("m"):
        med = g.groupby("step")["loss"].median().clip(lower=FLOOR)
        t = np.asarray(med.index, dtype=float)
        for ax in axes:
            ax.plot(np.maximum(t, 1), med.values, color=cols[m], label=width_label(m, r))
    # (a) log-linear: m = r is a straight line (linear convergence)
    ex = df[df["m"] == r].groupby("step")["loss"].median()
    ok = (ex > 1e-13) & (ex < 1e-4)
    if ok.sum() >= 2:
        c = np.polyfit(ex.index[ok], np.log(ex[ok]), 1)
        tt = np.asarray(ex.index[ok], dtype=float)
        axes[0].plot(tt, np.exp(np.polyval(c, tt)), "k--", lw=1, label=rf"fit $e^{{-{-c[0]:.3g}\,t}}$ ($m=r$)")
    axes[0].set(yscale="log", xlabel="GD step t", ylabel="population loss L (median)")
    axes[0].set_xlim(0, 1.2 * (ex.index[ok].max() if ok.any() else df["step"].max()))
    axes[0].set_title("(a) linear axis: m = r is linear", fontsize=7)
    # (b) log-log: m > r follows a power law
    over = df[df["m"] > r].groupby("step")["loss"].median()
    tt = np.asarray(over.index, dtype=float)
    tt = tt[tt >= 10]
    L10 = over.loc[tt[0]]
    axes[1].plot(tt, L10 * (tt / tt[0]) ** -1.0, "k--", lw=1, label=r"$T^{-1}$ (Thm 5 bound)")
    axes[1].plot(tt, L10 * (tt / tt[0]) ** -3.0, "k:", lw=1, label=r"$T^{-3}$ (Xu & Du 2023, 1 ReLU neuron)")
    axes[1].set(xscale="log", yscale="log", xlabel="GD step t", ylim=(FLOOR, None))
    axes[1].set_title("(b) log-log: m > r is polynomial", fontsize=7)
    for ax in axes:
        ax.legend(fontsize=5.5)
    save(fig, pdf, png, __name__)
