"""Experiment 8 (Figure 1): d = 2, trajectories of the student neurons (grey), their end
points (red) and the teacher directions (blue lines, both signs: |.| is even), for three
starts: a large Gaussian scale, a small Gaussian scale, and near the teachers."""

from __future__ import annotations

import numpy as np

from .common import load, new, save

TITLES = {
    "large_scale": "(a) large initial scale",
    "small_scale": "(b) small initial scale",
    "local": "(c) near the teachers",
}


def render(inputs, pdf, png, cfg):
    tr, runs = load(inputs, "traj"), load(inputs, "runs")
    seed = int(runs["seed"].min())
    tr = tr[tr["seed"] == seed]
    fig, axes = new(3, height=2.6)
    teach = tr[tr["regime"] == "teacher"]
    for ax, (regime, title) in zip(axes, TITLES.items(), strict=True):
        g = tr[tr["regime"] == regime]
        lim = 1.1 * max(np.abs(g[["x", "y"]].to_numpy()).max(), np.abs(teach[["x", "y"]].to_numpy()).max())
        for _, w in teach.iterrows():
            u = np.array([w["x"], w["y"]]) / np.hypot(w["x"], w["y"])
            ax.plot([-lim * u[0], lim * u[0]], [-lim * u[1], lim * u[1]], color="tab:blue", lw=1)
        for _, n in g.groupby("neuron"):
            n = n.sort_values("step")
            ax.plot(n["x"], n["y"], color="0.3", lw=0.7)
            ax.plot(n["x"].iloc[-1], n["y"].iloc[-1], "o", color="tab:red", ms=2.5)
        L = runs[(runs["seed"] == seed) & (runs["regime"] == regime)]["L_final"].iloc[0]
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"{title}\nfinal L = {L:.1e}", fontsize=7)
    axes[0].plot([], [], color="tab:blue", label="teacher directions")
    axes[0].plot([], [], color="0.3", label="student trajectories")
    axes[0].plot([], [], "o", color="tab:red", ms=2.5, label="end points")
    fig.legend(loc="outside lower center", ncol=3, fontsize=6)
    save(fig, pdf, png, __name__)
