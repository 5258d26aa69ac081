"""Mean active count during SGD relative to its initial prediction m Q(b), per target norm M."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from maskedntk.core import figures as cf

from . import gather


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    import matplotlib.pyplot as plt

    cf.apply_style()
    tr = gather(inputs, "train_")
    ratio = float(settings["claims"]["persist_ratio"])
    tr = tr.assign(pred=tr["m"] * tr["p"])
    Ms = sorted(tr["M"].unique())
    col = cf.palette(len(Ms))
    fig, axes = plt.subplots(1, 2, figsize=(cf.TWO_COLUMNS, 2.7), sharey=True)
    for ax, which, title in (
        (axes[0], "test_active", "(a) on fixed test inputs"),
        (axes[1], "train_active", "(b) on the training samples (window mean)"),
    ):
        for c, M in zip(col, Ms, strict=True):
            g = tr[tr["M"] == M].assign(r=lambda h, w=which: h[w] / h["pred"])
            g = g[np.isfinite(g["r"])]
            s = g.groupby("step")["r"].agg(["median", "min", "max"])
            x = np.maximum(s.index.to_numpy(), 0.8)
            ax.plot(x, s["median"], color=c, lw=1.4, marker="o", ms=2.5, label=f"M = {M:g}, m = {int(g['m'].iloc[0])}")
            ax.fill_between(x, s["min"], s["max"], color=c, alpha=0.2, lw=0)
        ax.axhline(1.0, color="k", lw=1, ls="--", label=r"theory at init, $m\,Q(b)$")
        ax.axhline(ratio, color="0.4", lw=1, ls=":", label=f"claim threshold x{ratio:g}")
        ax.set_xscale("log")
        ax.set_xlabel("SGD step $t$ (0 drawn at 0.8)")
        ax.set_title(title, fontsize=9)
    d = int(tr["d"].iloc[0])
    axes[0].set_ylabel(r"active count / $m\,Q(b)$")
    axes[0].legend(fontsize=7, loc="lower right", ncol=2, title=f"d={d}; band: seeds min-max", title_fontsize=7)
    top = max(ratio * 1.15, float(np.nanmax(tr[["test_active", "train_active"]].max(axis=1) / tr["pred"])) * 1.05)
    axes[0].set_ylim(0, top)
    fig.tight_layout()
    cf.save(fig, pdf, png, name=__name__)
