"""Link to the core study: the same teacher data (n Gaussian samples) trained by GD on both
layers from near the teacher (this study) and by the masked-neuron algorithm of the core study
(NTK parameterisation, random init, fixed output layer), training loss against width."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from maskedntk.core import figures as F

from .common import load


def render(inputs, pdf, png, settings) -> None:
    F.apply_style()
    df = load(inputs, "link")
    li = settings["link"]
    algs = list(dict.fromkeys(df["algorithm"]))
    pal = F.palette(max(len(algs), 3))
    fig, ax = plt.subplots(figsize=(F.ONE_COLUMN + 0.6, 2.7))
    floor = 1e-18
    for i, a in enumerate(algs):
        s = df[df["algorithm"] == a].copy()
        s["rel_loss"] = np.maximum(s["rel_loss"], floor)
        g = s.groupby("m")["rel_loss"]
        ax.plot(g.median().index, g.median().values, marker="o", color=pal[i], label=a)
        ax.fill_between(
            g.median().index, g.quantile(0.25).values, g.quantile(0.75).values, color=pal[i], alpha=0.2, lw=0
        )
    ms = settings["m_star"]
    ax.axvspan(
        ms,
        ms * max(settings["ratios"]),
        color="0.9",
        lw=0,
        label=rf"mild: $m^* \leq m \leq {max(settings['ratios'])}m^*$",
    )
    ax.axvline(li["n"], color="0.4", ls=":", lw=0.8)
    ax.text(li["n"] * 1.05, 0.6, rf"$m=n={li['n']}$", fontsize=6, color="0.3", transform=ax.get_xaxis_transform())
    ax.set_xscale("log", base=2)
    ticks = sorted(df["m"].unique())
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.text(
        0.02,
        0.66,
        f"budget: local GD {li['steps']} steps;\ncore {li['core_rounds']} rounds x tau={li['core_tau']};\n"
        f"local losses floored at {floor:.0e}",
        transform=ax.transAxes,
        fontsize=5.5,
        color="0.3",
    )
    ax.set_yscale("log")
    ax.set_xlabel("width $m$")
    ax.set_ylabel(r"training loss $\|y-\hat y\|^2/\|y\|^2$ after budget")
    ax.set_title(rf"Same teacher data ($m^*={ms}$, $d={li['d']}$, $n={li['n']}$)")
    ax.legend(frameon=False, fontsize=5.5, loc="lower right")
    F.save(fig, pdf, png, name=__name__)
