"""Loss curves L_t of GD on both layers (population loss), one panel per m/m*, with the
predicted forms overlaid: exp(-ct) fitted for m = m*, C t^-3 (Xu & Du) for m > m*."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as F

from ..rates import PREDICTED_BETA, linear_rate_curve, power_rate_curve
from .common import FLOOR, clip, load, median_curve, ratio_label


def render(inputs, pdf, png, settings) -> None:
    F.apply_style()
    tr = load(inputs, "curves_", "_traj")
    tr = tr[tr["step"] > 0]  # log time axis
    ratios = sorted(tr["ratio"].unique())
    rhos = sorted(tr["rho"].unique())
    pal = F.palette(max(len(rhos), 3))
    fig, axes = plt.subplots(1, len(ratios), figsize=(F.TWO_COLUMNS, 2.3), sharey=True, squeeze=False)
    for ax, r, letter in zip(axes[0], ratios, "abcdefgh", strict=False):
        sub = tr[tr["ratio"] == r]
        for i, rho in enumerate(rhos):
            s = sub[sub["rho"] == rho]
            for _, run in s.groupby(["seed", "d"]):
                ax.plot(run["step"], clip(run["loss"]), color=pal[i], lw=0.4, alpha=0.35)
            mc = median_curve(s, "step", "loss")
            ax.plot(mc["step"], clip(mc["med"]), color=pal[i], lw=1.4, label=rf"$\rho = {rho:g}$ (median)")
        # theory overlay, anchored on the median of the largest rho
        s = sub[sub["rho"] == rhos[-1]]
        mc = median_curve(s, "step", "loss")
        t = np.geomspace(1, mc["step"].max(), 200)
        if r == 1:
            ok = (mc["med"] > 1e-13) & (mc["med"] < 1e-3)
            if ok.sum() >= 2:
                k = np.polyfit(mc["step"][ok], np.log(mc["med"][ok]), 1)
                ax.plot(
                    t,
                    clip(linear_rate_curve(t, np.exp(k[1]), np.exp(k[0]))),
                    "k--",
                    lw=0.9,
                    label=rf"linear: $L_0\,\varrho^t$, $\varrho={np.exp(k[0]):.4f}$",
                )
        else:
            anchor = mc[mc["step"] >= mc["step"].max() / 10].iloc[0]
            C = anchor["med"] * anchor["step"] ** PREDICTED_BETA
            ax.plot(
                t[t >= anchor["step"] / 10],
                power_rate_curve(t[t >= anchor["step"] / 10], C),
                "k--",
                lw=0.9,
                label=r"$C\,t^{-3}$ (Xu & Du)",
            )
        ax.axhspan(FLOOR / 10, 1e-15, color="0.85", lw=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 3, 3)
        ax.set_title(f"({letter}) {ratio_label(r)}")
        ax.set_xlabel("GD step $t$")
        if r == 1:  # the upper right of the m = m* panel is empty (the loss is at round-off there)
            ax.legend(loc="upper right", fontsize=5.5, frameon=False)
        else:
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.1), fontsize=5.5, frameon=False)
    axes[0][0].set_ylabel(r"population loss $L(a_t, W_t)$")
    axes[0][-1].text(1.2, 2e-16, "float64 round-off of the closed form", fontsize=5.5, color="0.3")
    fig.suptitle(
        rf"Loss curves, $m^*={settings['m_star']}$, $\eta={settings['eta']:g}$ (thin: single runs over seeds and $d$)",
        fontsize=8,
    )
    F.save(fig, pdf, png, name=__name__)
