"""fig_predicted_map: the paper's two heatmaps at the paper's scale, predicted from the
initialisation alone (:mod:`..predicted_map`), beside the measured default-scale heatmaps.

(a) predicted plateau over p x xi, Bernoulli masks (mean over the map's seeds), log colour;
(b) on the cells the map shares with the measured default heatmap: predicted (paper scale) /
    measured (default scale), mean over seeds each, on a log scale symmetric about 1;
(c), (d) the same for categorical masks over p x tau.
The ratio mixes two effects: the prediction's error and the change of scale (the map's width
and seeds against the default run's); the width and seeds of both are written under the panels.
Cells at xi_eff = 1 (plain GD: both plateaus are float64 rounding) are left blank in the ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskedntk.core import figures as style
from maskedntk.core.figures import plt

from ..accuracy import comparable
from . import grid_data, grids, notes

PANELS = (("bernoulli", "xi", r"$\xi$"), ("categorical", "tau", r"$\tau$"))


def _measured(runs: pd.DataFrame) -> pd.DataFrame:
    """The measured runs whose plateau is comparable (stationary, finite, xi_eff < 1)."""
    keep = runs["stationary"].astype(bool) & ~runs["diverged"].astype(bool) & (runs["xi"].astype(float) < 1.0)
    if "plateau_predicted" in runs:
        keep &= comparable(runs) | ~np.isfinite(runs["plateau_predicted"].astype(float))
    return runs[keep]


def _scale(df: pd.DataFrame) -> str:
    return f"m = {notes.values_text(df, 'm')}, {df['seed'].nunique()} seeds"


def draw(table: pd.DataFrame, bernoulli: pd.DataFrame, categorical: pd.DataFrame, pdf, png) -> pd.DataFrame:
    """Draw from the map's table and the measured runs.csv of both heatmaps; returns, per mask,
    the shared cells' count and the median and range of predicted / measured."""
    style.apply_style()
    fig = plt.figure(figsize=(style.TWO_COLUMNS, 6.6))
    axes = fig.subplots(2, 2)
    cmap = style.sequential_cmap()
    summary = []
    for row, ((mask, col, col_label), measured) in enumerate(zip(PANELS, (bernoulli, categorical), strict=True)):
        pred = table[table["mask"] == mask]
        meas = _measured(measured[measured["mask"] == mask])
        grid = grid_data.cell_grid(pred, "plateau_predicted", "p", col)
        grid = grid.where(grid > 1e-12, 0.0)  # xi_eff = 1: rounding level, shown as 0
        scale = grids.zero_log_norm(grid.to_numpy(), max_decades=4)
        ax = axes[row, 0]
        sm = grids.draw_grid(ax, grid, scale, cmap, fontsize=4.6, xlabel=col_label, ylabel="p")
        grids.colorbar(fig, sm, [ax], "predicted plateau", scale=scale)
        ax.set_title(f"({'ac'[row]}) predicted, {mask} masks\n{_scale(pred)}", fontsize=7)

        m_grid = grid_data.cell_grid(
            meas, "plateau", "p", col, row_values=list(grid.index), col_values=list(grid.columns)
        )
        ratio = grid.where(grid > 0) / m_grid
        rscale = grids.ratio_norm(ratio.to_numpy(), max_decades=1.0, min_decades=0.3)
        bx = axes[row, 1]
        sm = grids.draw_grid(bx, ratio, rscale, plt.get_cmap("RdBu_r"), fontsize=4.6, xlabel=col_label, ylabel="p")
        grids.colorbar(fig, sm, [bx], "predicted / measured", scale=rscale)
        scale_m = _scale(meas) if len(meas) else "no measured run"
        bx.set_title(f"({'bd'[row]}) predicted / measured (measured: {scale_m})", fontsize=7)
        r = ratio.to_numpy().ravel()
        r = r[np.isfinite(r)]
        summary.append(
            {
                "mask": mask,
                "shared_cells": r.size,
                "median_ratio": float(np.median(r)) if r.size else np.nan,
                "min_ratio": float(r.min()) if r.size else np.nan,
                "max_ratio": float(r.max()) if r.size else np.nan,
            }
        )
    grids.legend_and_note(
        fig,
        [],
        "'–' in (b), (d): no stationary measured run there, or xi_eff = 1 (plain GD, both plateaus float64 rounding)\n"
        "the ratio mixes the prediction's error with the change of width and seeds between the two runs",
    )
    style.save(fig, pdf, png, name=__name__)
    return pd.DataFrame(summary)
