"""Cost per SGD step of each active-set identifier against m, one column per d: inner products
(query + update + rebuilds) at B = 1, and the identification wall time relative to dense, at
B = 1 and at the mini-batch size B > 1, all measured side by side in one run."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from maskedntk.core import figures as cf

from .. import metrics, theory
from . import gather

LABELS = {
    "dense": "dense (BLAS, all $m$)",
    "balltree": "sklearn BallTree (static)",
    "partition_tree": "partition tree, interpreted (numpy)",
    "compiled_tree": "partition tree, compiled (numba)",
    "compiled_static": "static tree + rebuilds, compiled",
}
STYLE = {"dense": "-", "balltree": "-.", "partition_tree": "--", "compiled_tree": "-", "compiled_static": ":"}


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    import matplotlib.pyplot as plt

    cf.apply_style()
    s = metrics.cost_summary(gather(inputs, "cost_"))
    c = float(settings["c_threshold"])
    ds = sorted(s["d"].unique())
    Bs = sorted(s["B"].unique())
    ids = [i for i in LABELS if i in set(s["identifier"])]
    col = dict(zip(ids, cf.palette(len(ids)), strict=True))
    rows = [("ip", 1)] + [("t", B) for B in Bs]
    fig, axes = plt.subplots(
        len(rows), len(ds), figsize=(cf.TWO_COLUMNS, 2.0 * len(rows) + 1.0), squeeze=False, sharey="row"
    )
    ms = np.array(sorted(s["m"].unique()), dtype=float)
    grid = np.geomspace(ms.min(), ms.max(), 100)
    k = np.array([theory.expected_active(int(m), theory.threshold(int(m), c)) for m in grid])
    for j, d in enumerate(ds):
        for i, (what, B) in enumerate(rows):
            ax = axes[i, j]
            h = s[(s["d"] == d) & (s["B"] == B)]
            for name in ids:
                g = h[h["identifier"] == name]
                if g.empty:
                    continue
                y = g["ip_total"] if what == "ip" else g["t_ratio"]
                ax.plot(g["m"], y, color=col[name], ls=STYLE[name], marker="o", ms=3, lw=1.3, label=LABELS[name])
            if what == "ip":
                ax.plot(grid, k, color="k", lw=1, ls=":", label=r"output size $m\,Q(b)$")
                ax.set_title(f"d = {d}", fontsize=9)
            else:
                ax.axhline(1.0, color="k", lw=0.8, ls=":")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            if i == len(rows) - 1:
                ax.set_xlabel("width $m$")
    axes[0, 0].set_ylabel("inner products / step\n(B = 1)")
    for i, (_, B) in enumerate(rows[1:], start=1):
        axes[i, 0].set_ylabel(f"time / dense time\n(B = {B})")
    handles, labels = [], []
    for ax in axes.ravel():
        for hh, ll in zip(*ax.get_legend_handles_labels(), strict=True):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    n_seeds = int(s["n_seeds"].min())
    fig.suptitle(
        f"Identification cost per SGD step, median of {n_seeds} seeds (query + update + rebuilds; initial build "
        "excluded)\nbelow the dotted line at 1 an identifier is faster than dense; all identifiers exact",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    cf.save(fig, pdf, png, name=__name__)
