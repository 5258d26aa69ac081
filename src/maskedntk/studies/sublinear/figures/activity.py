"""Active count per input at initialisation against m, with m Q(b), the bound m^{4/5} and the
binomial 5-95% band."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from maskedntk.core import figures as cf

from .. import metrics, theory
from . import gather


def render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    import matplotlib.pyplot as plt

    cf.apply_style()
    act = gather(inputs, "activity")
    c = float(settings["c_threshold"])
    d = int(act["d"].iloc[0])
    r = metrics.activity_ratio(act)
    ms = np.array(sorted(act["m"].unique()), dtype=float)
    grid = np.geomspace(ms.min(), ms.max(), 200)
    b_grid = np.sqrt(c * np.log(grid))
    pred = np.array([theory.expected_active(int(m), b) for m, b in zip(grid, b_grid, strict=True)])
    col = cf.palette(4)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(cf.TWO_COLUMNS, 2.8))
    ax1.plot(grid, grid, color="0.6", lw=1, ls=":", label="all neurons, $m$")
    ax1.plot(grid, grid ** (1 - c / 2), color=col[1], lw=1.2, ls="--", label=r"bound $m^{1-c/2}=m^{4/5}$")
    ax1.plot(grid, pred, color=col[0], lw=1.5, label=r"theory $m\,Q(b)$")
    for seed, g in r.groupby("seed"):
        ax1.scatter(
            g["m"],
            g["mean_active"],
            s=14,
            color="k",
            zorder=3,
            label="measured: mean over inputs, one dot per seed" if seed == r["seed"].min() else None,
        )
    ax1.set_xscale("log", base=2)
    ax1.set_yscale("log")
    ax1.set_xlabel("width $m$")
    ax1.set_ylabel(r"active neurons per input $|S_{\rm fire}(x)|$")
    ax1.set_title(f"(a) active count at init, $b=\\sqrt{{{c:g}\\ln m}}$, d={d}", fontsize=9)
    ax1.legend(fontsize=7, loc="upper left")

    frac_pred = pred / grid
    lo = np.array([theory.active_quantiles(int(m), b, 0.05) for m, b in zip(grid, b_grid, strict=True)]) / grid
    hi = np.array([theory.active_quantiles(int(m), b, 0.95) for m, b in zip(grid, b_grid, strict=True)]) / grid
    ax2.fill_between(grid, lo, hi, color=col[0], alpha=0.2, lw=0, label="Binomial$(m,Q(b))$ 5-95%")
    ax2.plot(grid, frac_pred, color=col[0], lw=1.5, label=r"theory $Q(b)$")
    ax2.plot(grid, grid ** (-c / 2), color=col[1], lw=1.2, ls="--", label=r"bound $e^{-b^2/2}=m^{-1/5}$")
    q = act.assign(frac=act["active"] / act["m"]).groupby("m")["frac"]
    qs = q.quantile([0.05, 0.5, 0.95]).unstack()
    ax2.errorbar(
        qs.index,
        qs[0.5],
        yerr=[qs[0.5] - qs[0.05], qs[0.95] - qs[0.5]],
        fmt="o",
        ms=3.5,
        color="k",
        capsize=2,
        lw=1,
        label="measured median, 5-95% over inputs x seeds",
    )
    ax2.set_xscale("log", base=2)
    ax2.set_yscale("log")
    ax2.set_xlabel("width $m$")
    ax2.set_ylabel(r"active fraction $|S_{\rm fire}(x)|/m$")
    ax2.set_title("(b) active fraction and its spread", fontsize=9)
    ax2.legend(fontsize=6.5, loc="center right", bbox_to_anchor=(1.0, 0.62))
    fig.tight_layout()
    cf.save(fig, pdf, png, name=__name__)
