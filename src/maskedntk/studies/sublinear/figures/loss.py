"""Test loss against SGD steps for targets of several coefficient norms M, with the theory's
rate eps ~ M / sqrt(T) (constant fitted once), and the steps to reach eps against M with the
M^2 reference."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from maskedntk.core import figures as cf

from .. import metrics
from . import gather


def _label(g, M: float) -> str:
    """'M = 2 (m = 4096)', with a mark when the width is below the constant M^2/eps^2 asked."""
    meets = bool(g["meets_width"].all())
    return f"M = {M:g} (m = {int(g['m'].iloc[0])})" + ("" if meets else r", $m$ capped")


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    import matplotlib.pyplot as plt

    cf.apply_style()
    tr = gather(inputs, "train_")
    eps = float(settings["training"]["eps"])
    Ms = sorted(tr["M"].unique())
    col = cf.palette(len(Ms))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(cf.TWO_COLUMNS, 3.4))
    tmax = tr["step"].max()
    # one constant for every M: the envelope C M / sqrt(t) through the smallest M's median final loss
    fin = tr[tr["step"] == tmax].groupby("M")["test_loss"].median()
    C = fin.loc[Ms[0]] * np.sqrt(tmax) / Ms[0]
    for c, M in zip(col, Ms, strict=True):
        g = tr[tr["M"] == M]
        s = g.groupby("step")["test_loss"].agg(["median", "min", "max"])
        x = np.maximum(s.index.to_numpy(), 0.8)
        ax1.plot(x, s["median"], color=c, lw=1.4, label=_label(g, M))
        ax1.fill_between(x, s["min"], s["max"], color=c, alpha=0.2, lw=0)
        t = np.geomspace(max(1.0, tmax / 100), tmax, 50)
        ax1.plot(t, C * M / np.sqrt(t), color=c, lw=1, ls="--")
    ax1.plot([], [], color="k", lw=1, ls="--", label=r"theory $C\,M/\sqrt{t}$ (one $C$)")
    ax1.axhline(eps, color="0.4", lw=1, ls=":", label=rf"$\epsilon$ = {eps:g}")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("SGD step $t$ (0 drawn at 0.8)")
    ax1.set_ylabel(r"test loss $\frac{1}{2}\,\mathrm{mean}(f-y)^2$")
    d = int(tr["d"].iloc[0])
    ax1.set_title(f"(a) test loss, d={d} (band: seeds)", fontsize=9)
    ax1.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)

    T = metrics.steps_to_eps(tr[tr["meets_width"].astype(bool)], eps)
    for seed, g in T.groupby("seed"):
        ax2.plot(
            g["M"],
            g["T_eps"],
            color="0.6",
            lw=0.8,
            marker="o",
            ms=3,
            label="one seed" if seed == T["seed"].min() else None,
        )
    med = T.groupby("M")["T_eps"].median()
    ax2.plot(med.index, med.values, color="k", lw=1.5, marker="s", ms=4, label="median over seeds")
    ok = med[np.isfinite(med) & (med > 0)]
    if len(ok):
        M0, T0 = float(ok.index[0]), float(ok.iloc[0])
        Mg = np.geomspace(M0, max(Ms), 20)
        ax2.plot(
            Mg, T0 * (Mg / M0) ** 2, color=cf.palette(2)[1], lw=1.2, ls="--", label=r"theory $T_\epsilon\propto M^2$"
        )
        ax2.plot(Mg, T0 * (Mg / M0), color="0.5", lw=1, ls=":", label=r"$\propto M$ (reference)")
    ax2.set_xscale("log", base=2)
    ax2.set_yscale("log")
    ax2.set_xlabel("target coefficient norm $M$")
    ax2.set_ylabel(rf"steps to test loss $\leq$ {eps:g}")
    ax2.set_title(r"(b) $T_\epsilon$ against $M$ (runs with $m \geq$ const $M^2/\epsilon^2$)", fontsize=9)
    ax2.legend(
        fontsize=7, loc="upper left", title=r"(seeds already below $\epsilon$ at $t=0$ left out)", title_fontsize=6
    )
    fig.tight_layout()
    cf.save(fig, pdf, png, name=__name__)
