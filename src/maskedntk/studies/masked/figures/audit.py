r"""Figure: the paper's aggregation against the authors' code's, over p x xi (docs/masked/mathematics.md sec. 6).

Notation (Liao & Kyrillidis, arXiv 2112.02668v1, Algorithm 1): in round k each of p
subnetworks holds neuron r with probability xi and runs tau local GD steps from W_k; with
X_{k,r} = sum_l m^l_{k,r} the number of subnetworks holding neuron r, the paper aggregates

    w_{k+1,r} = w_{k,r} + (1 / X_{k,r}) sum_l Delta w^l_{k,r}   if X_{k,r} >= 1,
    w_{k+1,r} = w_{k,r}                                           if X_{k,r} = 0   (paper),

whereas the authors' TMLR-era code resets W to zero before summing, so an unheld neuron gets
w_{k+1,r} = 0 (zero_unheld).  With the ReLU and sigma'(0) = 0 (autograd's convention, used in
this experiment) a zeroed neuron has zero output and zero gradient for ever: it is dead.  A
neuron is unheld with probability (1 - xi)^p per round, so under zeroing nearly every neuron
dies within a few rounds when xi is small and p is small, u_k -> 0 and L_k = ||y - u_k||_2^2
-> ||y||_2^2.  That is a real property of that aggregation, not a plotting artefact.

Panels:

(a), (b) the measured plateau (mean of L_k over the stationary window, the last half of the rounds run, mean over seeds)
    under each aggregation, rows p (growing upwards) and columns xi, on one log colour scale;
(c) their ratio zero_unheld / paper per cell (diverging log scale centred at 1);
(d) the fraction of dead neurons (inactive on every sample) against the round k, mean over
    seeds, for a few cells, solid for the paper's aggregation and dashed for zeroing;
(e) L_k for the same cells (mean over seeds), with ||y||_2^2 (the error of u = 0) when the
    table shows it (a round with every neuron dead has L_k = ||y||_2^2 exactly).

Cells where a seed diverged are hatched; a dot marks cells where a seed did not settle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from maskedntk.core import figures as style
from maskedntk.core.figures import plt

from . import common, grid_data, grids, notes

AGGREGATIONS = ("paper", "zero_unheld")
LABELS = {"paper": r"paper (unheld keep $w_{k,r}$)", "zero_unheld": r"authors' code (unheld $\to 0$)"}
LINESTYLES = {"paper": "-", "zero_unheld": "--"}
#: cells (p, xi) of the dead-neuron panels; the nearest present cells are used
CURVE_CELLS = ((1, 0.5), (4, 0.5), (10, 0.1))


@common.draws_shown_level
def draw(runs: pd.DataFrame, trajectories: pd.DataFrame, pdf, png) -> None:
    """Draw the figure from the audit experiment's ``runs.csv`` and ``trajectories.parquet``."""
    style.apply_style()
    aggs = [a for a in AGGREGATIONS if (runs["aggregation"] == a).any()]
    if not aggs:
        raise ValueError("the audit table has no 'paper' or 'zero_unheld' runs")
    rows, cols = "p", "xi"
    pv = sorted(runs[rows].dropna().unique())
    xv = sorted(round(float(x), 10) for x in runs[cols].dropna().unique())
    sub = {a: runs.loc[runs["aggregation"] == a] for a in AGGREGATIONS}
    plateau = {
        a: grid_data.cell_grid(sub[a], "plateau", rows, cols, row_values=pv, col_values=xv) for a in AGGREGATIONS
    }
    flags = {a: grid_data.cell_flags(sub[a], rows, cols, row_values=pv, col_values=xv) for a in AGGREGATIONS}
    ratio = plateau["zero_unheld"] / plateau["paper"]
    both = grid_data.CellFlags(
        diverged=flags["paper"].diverged | flags["zero_unheld"].diverged,
        all_diverged=flags["paper"].all_diverged | flags["zero_unheld"].all_diverged,
        unconverged=flags["paper"].unconverged | flags["zero_unheld"].unconverged,
        missing=flags["paper"].missing | flags["zero_unheld"].missing,
    )

    fig = plt.figure(figsize=(style.TWO_COLUMNS, 2.6 + 0.2 * len(pv) + 2.0))
    # nested grids: the heatmaps' colour bars must not shift the line panels' columns
    gs = fig.add_gridspec(2, 1, height_ratios=[1.4 + 0.2 * len(pv), 1.9])
    top, bottom = gs[0].subgridspec(1, 3), gs[1].subgridspec(1, 2)
    ax_a, ax_b, ax_c = (fig.add_subplot(top[0, i]) for i in range(3))
    ax_d, ax_e = fig.add_subplot(bottom[0, 0]), fig.add_subplot(bottom[0, 1])
    seq = style.sequential_cmap("viridis")
    div = style.sequential_cmap("vlag")
    fs = float(np.clip(6.5 * 5 / max(len(xv), 1), 4.8, 6.5))
    kw = dict(xlabel=r"$\xi$", ylabel=r"$p$", fontsize=fs)
    cb = dict(location="bottom")

    s_plateau = grids.zero_log_norm(plateau["paper"], plateau["zero_unheld"], max_decades=4)
    sm = grids.draw_grid(ax_a, plateau["paper"], s_plateau, seq, flags=flags["paper"], **kw)
    ax_a.set_title("(a) plateau, paper")
    grids.draw_grid(ax_b, plateau["zero_unheld"], s_plateau, seq, flags=flags["zero_unheld"], **kw)
    ax_b.set_title("(b) plateau, zeroing")
    grids.colorbar(
        fig,
        sm,
        [ax_a, ax_b],
        r"plateau of $L_k=\|y-u_k\|_2^2$, (a) and (b)",
        scale=s_plateau,
        location="bottom",
        aspect=45,
    )
    s_ratio = grids.ratio_norm(ratio, max_decades=3)
    sm = grids.draw_grid(ax_c, ratio, s_ratio, div, flags=both, **kw)
    ax_c.set_title("(c) ratio zeroing / paper")
    grids.colorbar(fig, sm, ax_c, "plateau ratio, zeroing / paper", scale=s_ratio, **cb)

    cells = _curve_cells(pv, xv)
    colors = style.palette(len(cells))
    traj = trajectories
    ynorm = _norm_y_squared(traj.loc[traj["cell"].isin(runs.loc[runs["aggregation"] == "zero_unheld", "cell"])])
    for (p, xi), c in zip(cells, colors, strict=True):
        for a in aggs:
            ids = grid_data.select(sub[a], p=p, xi=float(xi))["cell"].unique()
            t = traj.loc[traj["cell"].isin(ids)]
            if t.empty:
                continue
            g = t.groupby("round")
            ax_d.plot(g["dead"].mean().index, g["dead"].mean().to_numpy(), ls=LINESTYLES[a], color=c, lw=1.1)
            L = g["L"].apply(lambda s: np.nanmean(s.where(np.isfinite(s))) if np.isfinite(s).any() else np.nan)
            ax_e.plot(L.index, L.to_numpy(), ls=LINESTYLES[a], color=c, lw=1.1)
    ax_d.set_ylim(-0.03, 1.03)
    ax_d.set_ylabel("fraction of dead neurons")
    ax_d.set_title("(d) neurons inactive on every sample")
    ax_e.set_yscale("log")
    ax_e.set_ylabel(r"$L_k = \|y-u_k\|_2^2$ (mean over seeds)")
    ax_e.set_title(r"(e) training error $L_k$")
    if ynorm is not None:
        ax_e.axhline(ynorm, color="0.35", lw=0.8, ls=(0, (1, 1.5)), zorder=0)
        ax_e.annotate(
            r"$\|y\|_2^2$ (all neurons dead)",
            (1.0, ynorm),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=6,
            color="0.3",
        )
    for ax in (ax_d, ax_e):
        ax.set_xlabel(r"round $k$")
        ax.set_xlim(left=0)

    handles = [
        Line2D([], [], color=c, lw=1.4, label=rf"$p={p:g}$, $\xi={xi:g}$")
        for (p, xi), c in zip(cells, colors, strict=True)
    ]
    handles += [Line2D([], [], color="0.3", ls=LINESTYLES[a], lw=1.1, label=LABELS[a]) for a in AGGREGATIONS]
    handles += grids.mark_handles(
        diverged=both.any_diverged, unconverged=both.any_unconverged, missing=both.any_missing
    )
    grids.legend_and_note(fig, handles, _note(runs), ncols=max(len(cells), 3))
    style.save(fig, pdf, png, name=__name__)


def _curve_cells(pv, xv) -> list[tuple]:
    """The cells of :data:`CURVE_CELLS` snapped to the nearest present (p, xi), without repeats."""
    out = []
    for p, xi in CURVE_CELLS:
        cell = (min(pv, key=lambda v: (abs(v - p), v)), min(xv, key=lambda v: (abs(v - xi), v)))
        if cell not in out:
            out.append(cell)
    return out


def _norm_y_squared(traj: pd.DataFrame) -> float | None:
    """||y||_2^2, read off rounds where every neuron is dead (then u_k = 0 and L_k = ||y||^2);
    None when no such round exists or the values disagree."""
    if traj.empty or "dead" not in traj:
        return None
    L = traj.loc[traj["dead"] >= 1.0, "L"].to_numpy(dtype=float)
    L = L[np.isfinite(L)]
    if L.size == 0 or not np.allclose(L, L[0], rtol=1e-6):
        return None
    return float(np.median(L))


def _note(runs: pd.DataFrame) -> str:
    sigma = rf", $\sigma'(0)$ = {notes.values_text(runs, 'relu_grad_at_zero')}"
    return (
        notes.settings_text(runs, "Bernoulli masks", ("tau", "n", "d", "m"), extra=sigma) + "\n"
        "Zeroing (the authors' TensorFlow code) kills every neuron that no subnetwork held "
        r"(probability $(1-\xi)^p$ per round);"
        "\n"
        r"dead neurons never revive, so $u_k \to 0$ and $L_k \to \|y\|_2^2$.  "
        "Plateau: mean of $L_k$ over the stationary window (last half of the rounds run; "
        "runs extend to max_rounds until stationary)."
    )
