"""fig_prediction: the plateau predicted from the initialisation alone against the measured one.

(a) every stationary cell with xi_eff < 1 of every experiment (mean over its stationary seeds;
at xi_eff = 1 both plateaus are float64 rounding, :func:`accuracy.comparable`), log-log,
coloured by experiment (an experiment re-run under a compared protocol keeps its colour with
an open marker), with the diagonal, the +-25% band and the factor-1.5 lines; (b) the
relative error plateau_predicted / plateau - 1 of every stationary run, per experiment and
mask type, with the median absolute error written beside each box.  The prediction is this
project's (docs/masked/prediction.md): no constant is fitted to any run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from maskedntk.core import figures as style
from maskedntk.core.figures import plt

from ..accuracy import comparable
from ..protocols import split


def _cells(runs: pd.DataFrame) -> pd.DataFrame:
    ok = runs[comparable(runs)]
    return (
        ok.groupby(["experiment", "cell", "mask"], sort=False)[["plateau", "plateau_predicted", "m"]]
        .mean()
        .reset_index()
    )


def draw(runs: pd.DataFrame, pdf, png) -> pd.DataFrame:
    """Draw from the joined runs.csv; returns the accuracy table (per experiment and mask)."""
    style.apply_style()
    if "plateau_predicted" not in runs:
        raise ValueError("runs.csv has no plateau_predicted column: the predict rule did not run")
    cells = _cells(runs)
    if cells.empty:
        raise ValueError("no stationary run with a prediction to draw")
    runs = runs[comparable(runs)]
    runs = runs.assign(
        rel=runs["plateau_predicted"] / runs["plateau"] - 1.0, base=runs["experiment"].map(lambda e: split(e)[0])
    )
    bases = list(dict.fromkeys(runs["base"]))
    colors = dict(zip(bases, style.palette(len(bases)), strict=True))

    fig = plt.figure(figsize=(style.TWO_COLUMNS, 3.3))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.05, 1.0]})
    lo = float(np.nanmin(cells[["plateau", "plateau_predicted"]].to_numpy())) / 1.5
    hi = float(np.nanmax(cells[["plateau", "plateau_predicted"]].to_numpy())) * 1.5
    grid = np.geomspace(lo, hi, 50)
    ax.fill_between(grid, 0.75 * grid, 1.25 * grid, color="0.85", lw=0, label=r"$\pm 25\%$")
    ax.plot(grid, grid, color="0.3", lw=0.8, label="prediction = measurement")
    for f in (1.5, 1 / 1.5):
        ax.plot(grid, f * grid, color="0.5", lw=0.6, ls=":")
    for e, g in cells.groupby("experiment", sort=False):
        base, prot = split(e)
        ax.scatter(
            g["plateau"],
            g["plateau_predicted"],
            s=9,
            marker="o" if (g["mask"] == "bernoulli").all() else "s",
            facecolors="none" if prot else colors[base],
            edgecolors=colors[base],
            linewidths=0.6,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured plateau (stationary window mean)")
    ax.set_ylabel("predicted plateau (from the initialisation)")
    ax.set_title(r"(a) every stationary cell with $\xi < 1$ (mean over seeds)")
    handles = [Line2D([], [], ls="", marker="o", color=colors[b], ms=3.5, label=b) for b in bases]
    handles += [
        Line2D([], [], ls="", marker="o", mfc="none", mec="0.3", ms=3.5, label="compared protocol"),
        Line2D([], [], ls="", marker="s", mfc="0.3", mec="0.3", ms=3.5, label="categorical masks"),
        Line2D([], [], ls=":", color="0.5", label="factor 1.5"),
    ]
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], *handles], fontsize=5.5, loc="upper left")

    table = []
    groups = list(runs.groupby(["base", "mask"], sort=False))
    for i, ((base, mask), g) in enumerate(groups):
        rel = g["rel"].to_numpy(float)
        bx.boxplot(rel, positions=[i], widths=0.6, vert=True, showfliers=True, flierprops={"markersize": 2})
        med = float(np.median(np.abs(rel)))
        within = float(np.mean(np.abs(np.log(1 + rel)) <= np.log(1.5)))
        bx.text(i, 1.02, f"{100 * med:.0f}%", transform=bx.get_xaxis_transform(), ha="center", fontsize=5.5)
        table.append(
            {"experiment": base, "mask": mask, "runs": len(rel), "median_abs_rel_error": med, "within_1.5x": within}
        )
    bx.axhspan(-0.25, 0.25, color="0.85", lw=0)
    bx.axhline(0, color="0.3", lw=0.8)
    bx.set_xticks(range(len(groups)), [f"{b}\n{m[:4]}." for (b, m), _ in groups], fontsize=5.5, rotation=30)
    bx.set_ylabel("predicted / measured - 1 (per run)")
    bx.set_title("(b) relative error; median |error| on top", pad=12)
    style.save(fig, pdf, png, name=__name__)
    return pd.DataFrame(table)
