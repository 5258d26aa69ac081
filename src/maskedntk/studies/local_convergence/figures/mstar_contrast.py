"""m = m* against m > m*: (a) log-linear axes (a straight line is linear convergence),
(b) log-log axes (a straight line of slope -3 is Xu & Du's T^-3)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as F

from ..rates import PREDICTED_BETA, power_rate_curve
from .common import FLOOR, clip, load, median_curve, ratio_colours, ratio_label


def render(inputs, pdf, png, settings) -> None:
    F.apply_style()
    tr = load(inputs, "curves_", "_traj")
    ratios = sorted(tr["ratio"].unique())
    col = ratio_colours(ratios)
    fig, axes = plt.subplots(1, 2, figsize=(F.TWO_COLUMNS, 2.5))
    for r in ratios:
        mc = median_curve(tr[tr["ratio"] == r], "step", "loss")
        for ax, x0 in zip(axes, (0, 1), strict=False):
            keep = mc["step"] >= x0  # log axis: no step 0
            ax.plot(mc["step"][keep], clip(mc["med"][keep]), color=col[r], marker="o", ms=1.5, label=ratio_label(r))
    mc = median_curve(tr[tr["ratio"] == 1], "step", "loss")
    ok = (mc["med"] > 1e-13) & (mc["med"] < 1e-3)
    tmax = tr["step"].max()
    if ok.sum() >= 2:
        k = np.polyfit(mc["step"][ok], np.log(mc["med"][ok]), 1)
        t = np.linspace(0, mc["step"][ok].max() * 1.5, 100)
        axes[0].plot(t, clip(np.exp(k[1] + k[0] * t)), "k--", lw=0.9, label=rf"fit $e^{{-ct}}$, $c={-k[0]:.3g}$")
    over = [r for r in ratios if r > 1]
    if over:
        mc = median_curve(tr[tr["ratio"] == over[0]], "step", "loss")
        anchor = mc[mc["step"] >= tmax / 10].iloc[0]
        t = np.geomspace(tmax / 20, tmax, 50)
        axes[1].plot(
            t,
            power_rate_curve(t, anchor["med"] * anchor["step"] ** PREDICTED_BETA),
            "k--",
            lw=0.9,
            label=r"slope $-3$ (Xu & Du, $m^*=1$)",
        )
    axes[0].set_xlim(0, tmax / 5)
    axes[0].text(tmax / 5 * 0.02, 3e-16, "float64 round-off", fontsize=5.5, color="0.3")
    axes[0].set_title("(a) log-linear: $m=m^*$ is a straight line (linear rate)")
    axes[1].set_xscale("log")
    axes[1].set_title("(b) log-log: $m>m^*$ decays polynomially")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 3, 3)
        ax.set_xlabel("GD step $t$")
        ax.set_ylabel("median population loss")
        ax.legend(frameon=False, fontsize=6)
    F.save(fig, pdf, png, name=__name__)
