r"""Figure: the error neighbourhood over p x xi with Bernoulli masks (the paper's Fig. 2b),
beside Theorem 3's B1 and rate factor.

Notation (Liao & Kyrillidis, arXiv 2112.02668v1, sec. 3.1 and Theorem 3): p subnetworks per
round, each neuron in each subnetwork with probability xi (Bernoulli masks), tau local GD
steps with step eta, theta = 1 - (1 - xi)^p, lambda0 = lambda_min(H_inf(xi)).  The tracked
error is L_k = ||y - u_k||_2^2 with u_k = xi f(W_k, X).  Theorem 3, eq. (7):

    E[L_k] <= rho^k L_0 + B1,    rho = 1 - eta theta tau lambda0 / 4,

    B1 = 64(1-xi)^2 n^3 d / (m lambda0^2) + 68 eta tau (theta - xi^2) n^3 kappa^2 / (p lambda0)
       + (theta - xi^2) n kappa^2 / (6 tau^2 p) + (tau-1)^2 p C1 / (24 tau^2)
       + 8 eta^2 (tau-1)^2 n^4 p C1 / lambda0^2 + 4 eta (tau-1) p n C1,
    C1 = 4 theta^2 (1-xi) n kappa^2 / p.

Panels (rows p grow upwards, columns xi grow to the right; every cell is the mean over seeds):

(a) the measured plateau (mean of L_k over the stationary window, the last half of the rounds run), log colour;
(b) B1 (log colour; B1 = 0 exactly at xi = 1, painted grey and annotated '0');
(c) the per-round contraction of Theorem 3, shown as 1 - rho = eta theta tau lambda0 / 4 (log);
(d), (e) the plateau and B1 each divided by its value at a reference cell (boxed; p = 1,
    xi = 0.5 or the nearest cell where both are positive) on one diverging log scale, so that
    the direction in which measurement and bound move over the grid can be compared directly;
(f) the measured contraction 1 - rho_hat (rho_hat fitted on the transient of L_k - plateau),
    on the colour scale of (c).

The step is one constant for the grid by default (grid_lambda_max), so B1 and rho vary with theta and lambda0.
Cells where a seed diverged are hatched; a dot marks cells where a seed did not settle
(the stationarity check of :mod:`maskedntk.studies.masked.metrics` failed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskedntk.core import figures as style
from maskedntk.core.figures import plt

from . import common, grid_data, grids, notes

#: the reference cell of the normalised panels (p, xi); the nearest valid cell is used if absent
REFERENCE = (1, 0.5)


@common.draws_shown_level
def draw(runs: pd.DataFrame, pdf, png) -> None:
    """Draw the figure from the experiment's ``runs.csv`` table and save it as PDF and PNG."""
    style.apply_style()
    runs = common.runs_of_mask(runs, "bernoulli")
    rows, cols = "p", "xi"
    plateau = grid_data.cell_grid(runs, "plateau", rows, cols)
    b1 = grid_data.cell_grid(runs, "B1", rows, cols)
    theta_rate = 1.0 - grid_data.cell_grid(runs, "rate_thm3", rows, cols)
    measured_rate = 1.0 - grid_data.cell_grid(runs, "rate_empirical", rows, cols)
    flags = grid_data.cell_flags(runs, rows, cols)
    try:
        ref = grid_data.reference_cell([plateau, b1], REFERENCE)
        plateau_n, b1_n = grid_data.normalise(plateau, ref), grid_data.normalise(b1, ref)
    except ValueError:  # no cell with a positive plateau and B1 (e.g. only xi = 1 was run)
        ref, plateau_n, b1_n = None, plateau * np.nan, b1 * np.nan

    nr, nc = plateau.shape
    has_pred = "plateau_predicted" in runs and np.isfinite(runs["plateau_predicted"].astype(float)).any()
    n_rows = 3 if has_pred else 2
    fig = plt.figure(figsize=(style.TWO_COLUMNS, 1.45 + n_rows * (0.75 + 0.19 * max(nr, 3))))
    axes = fig.subplots(n_rows, 3)
    (ax_a, ax_b, ax_c), (ax_d, ax_e, ax_f) = axes[0], axes[1]
    seq = style.sequential_cmap("viridis")
    div = style.sequential_cmap("vlag")
    kw = dict(xlabel=r"$\xi$", ylabel=r"$p$", fontsize=_annot_size(nc), xtick_size=_tick_size(nc))
    cb = dict(location="bottom")

    # colour range from the cells with B1 > 0 (xi < 1); full GD at xi = 1 reaches rounding level
    s_plateau = grids.zero_log_norm(grid_data.where_or_all(plateau, b1 > 0), max_decades=4, also=[plateau])
    sm = grids.draw_grid(ax_a, plateau, s_plateau, seq, flags=flags, **kw)
    grids.colorbar(fig, sm, ax_a, r"plateau of $L_k=\|y-u_k\|_2^2$", scale=s_plateau, **cb)
    ax_a.set_title("(a) measured plateau")

    s_b1 = grids.zero_log_norm(b1)
    sm = grids.draw_grid(ax_b, b1, s_b1, seq, **kw)
    grids.colorbar(fig, sm, ax_b, r"$B_1$ (grey: exactly 0)", scale=s_b1, **cb)
    ax_b.set_title(r"(b) $B_1$ of Theorem 3")

    s_rate = grids.zero_log_norm(theta_rate, measured_rate)
    sm = grids.draw_grid(ax_c, theta_rate, s_rate, seq, **kw)
    grids.colorbar(fig, sm, ax_c, r"$1-\rho$, Theorem 3 (contraction per round)", scale=s_rate, **cb)
    ax_c.set_title(r"(c) Thm 3 rate: $1-\rho=\eta\theta\tau\lambda_0/4$")
    sm = grids.draw_grid(ax_f, measured_rate, s_rate, seq, flags=flags, **kw)
    grids.colorbar(fig, sm, ax_f, r"$1-\hat\rho$, measured (same scale as (c))", scale=s_rate, **cb)
    ax_f.set_title(r"(f) measured rate: $1-\hat\rho$")

    # the colour range follows the cells where B1 > 0 (xi < 1): at xi = 1 B1 is 0 and the
    # plateau is at rounding level, which would wash out every other cell
    s_ratio = grids.ratio_norm(grid_data.where_or_all(plateau_n, b1_n > 0), b1_n, max_decades=5, also=[plateau_n])
    sm = grids.draw_grid(ax_d, plateau_n, s_ratio, div, flags=flags, ref=ref, **kw)
    ax_d.set_title("(d) plateau / plateau(ref)")
    grids.draw_grid(ax_e, b1_n, s_ratio, div, ref=ref, **kw)
    ax_e.set_title(r"(e) $B_1$ / $B_1$(ref)")
    grids.colorbar(
        fig,
        sm,
        [ax_d, ax_e],
        "ratio to the reference cell (boxed), (d) and (e)",
        scale=s_ratio,
        location="bottom",
        aspect=45,
    )

    if has_pred:  # this project's prediction from the initialisation (docs/masked/prediction.md)
        ax_g, ax_h, ax_i = axes[2]
        predicted = grid_data.cell_grid(runs, "plateau_predicted", rows, cols)
        sm = grids.draw_grid(ax_g, predicted, s_plateau, seq, **kw)
        grids.colorbar(fig, sm, ax_g, "predicted plateau (same scale as (a))", scale=s_plateau, **cb)
        ax_g.set_title("(g) predicted plateau")
        measured_only = grid_data.cell_grid(runs.loc[common.as_bool(runs["stationary"])], "plateau", rows, cols)
        ratio = (predicted / measured_only).reindex_like(predicted)
        s_pr = grids.ratio_norm(ratio, max_decades=0.7, min_decades=0.5)
        sm = grids.draw_grid(ax_h, ratio, s_pr, div, **kw)
        grids.colorbar(fig, sm, ax_h, "predicted / measured (stationary seeds)", scale=s_pr, **cb)
        ax_h.set_title("(h) prediction / measurement")
        pred_rate = 1.0 - grid_data.cell_grid(runs, "rate_predicted", rows, cols)
        sm = grids.draw_grid(ax_i, pred_rate, s_rate, seq, **kw)
        grids.colorbar(fig, sm, ax_i, r"$1-\rho$, predicted (same scale as (c))", scale=s_rate, **cb)
        ax_i.set_title(r"(i) predicted rate $1-\rho_{pred}$")

    handles = grids.mark_handles(
        zero=bool((b1.to_numpy() == 0).any() or (plateau.to_numpy() == 0).any()),
        diverged=flags.any_diverged,
        unconverged=flags.any_unconverged,
        missing=flags.any_missing,
        ref=None if ref is None else rf"reference cell $p={ref[0]:g}$, $\xi={ref[1]:g}$",
    )
    grids.legend_and_note(fig, handles, _note(runs))
    style.save(fig, pdf, png, name=__name__)


def _annot_size(ncols: int) -> float:
    return float(np.clip(5.0 * 10 / max(ncols, 1), 5.0, 6.5))


def _tick_size(ncols: int) -> float:
    return float(np.clip(6.0 * 10 / max(ncols, 1), 6.0, 7.0))


def _note(runs: pd.DataFrame) -> str:
    return (
        notes.settings_text(runs, "Bernoulli masks", ("tau", "n", "d", "m"))
        + "\nPlateau: mean of $L_k$ over the stationary window (last half of the rounds run; "
        "runs extend to max_rounds until stationary).  "
        r"$\hat\rho$: contraction of $L_k-$plateau per round, fitted on the transient."
        + (
            "\n(g)-(i): this project's prediction from the initialisation alone (docs/masked/prediction.md).  "
            if "plateau_predicted" in runs
            else "\n"
        )
        + r"Theorem 3 is a worst-case bound: $B_1$ exceeds the measured plateau by orders of magnitude."
        "\nColours beyond a colour bar's range are clipped (arrow ends); "
        + notes.full_gd_text(runs[runs["xi"] == 1], r"$\xi = 1$")
    )
