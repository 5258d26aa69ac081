"""The ReLU variant (Appendix A.1; not the paper's model) beside the paper's |.| model, from
the same start near the teachers (random signs).  (a) Population loss against the GD step
(median over seeds, IQR).  (b) Final mass-weighted angle of the student neurons to the nearest
teacher, up to sign and with sign, per seed: Theorem 3 aligns the |.| model up to sign only;
Appendix A.1's linear term (independent teachers) makes the ReLU variant align with sign."""

from __future__ import annotations

import numpy as np

from maskedntk.core import figures as F

from .common import FLOOR, load, new, save

#: activation -> (label, colour index)
LABELS = {"abs": ("|.| model (paper, Def. 2)", 0), "relu": ("ReLU variant (App. A.1), step 4\u03b7", 1)}


def render(inputs, pdf, png, cfg):
    tr, runs = load(inputs, "traj"), load(inputs, "runs")
    pal = F.palette(4)
    fig, axes = new(2, height=2.7)
    ax = axes[0]
    for act, (label, c) in LABELS.items():
        g = tr[tr["activation"] == act].groupby("step")["loss"]
        med, lo, hi = (q.clip(lower=FLOOR) for q in (g.median(), g.quantile(0.25), g.quantile(0.75)))
        t = np.asarray(med.index, dtype=float) + 1.0
        ax.plot(t, med.values, color=pal[c], label=label)
        ax.fill_between(t, lo.values, hi.values, color=pal[c], alpha=0.2, lw=0)
    ax.set(xscale="log", yscale="log", xlabel="GD step t + 1", ylabel="population loss (median, IQR)")
    ax.set_title("(a) loss curves from the same start", fontsize=7)
    ax.legend(fontsize=5.5)
    ax = axes[1]
    seeds = sorted(runs["seed"].unique())
    x = np.arange(len(seeds))
    width = 0.2
    for j, (act, (_, c)) in enumerate(LABELS.items()):
        g = runs[runs["activation"] == act].set_index("seed").loc[seeds]
        short = "|.|" if act == "abs" else "ReLU variant"
        ax.bar(
            x + (2 * j - 1.5) * width, np.degrees(g["angle_final"]), width, color=pal[c], label=f"{short}: up to sign"
        )
        ax.bar(
            x + (2 * j - 0.5) * width,
            np.degrees(g["signed_angle_final"]),
            width,
            color=pal[c],
            alpha=0.45,
            hatch="///",
            label=f"{short}: with sign",
        )
    thr = np.degrees(cfg["claims"]["relu_sign_angle"])
    ax.axhline(thr, color="k", ls="--", lw=1, label="C9 bound (ReLU variant, with sign)")
    ax.set(xticks=x, xticklabels=[str(s) for s in seeds], xlabel="seed", yscale="log")
    ax.set_ylabel("final angle to nearest teacher (deg)")
    ax.set_title("(b) final angle (mass-weighted), up to sign / with sign", fontsize=7)
    ax.legend(fontsize=5.5, ncol=2, loc="upper left")
    ax.set_ylim(None, 20 * max(thr, np.degrees(runs["signed_angle_final"].max())))
    save(fig, pdf, png, __name__)
