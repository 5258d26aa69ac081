r"""Figure: the error neighbourhood over p x tau with categorical masks (independent subnetwork
training, the paper's Fig. 2c), beside the error term of Theorem 7.

Notation (Liao & Kyrillidis, arXiv 2112.02668v1, Theorem 7): every neuron belongs to exactly
one of the p subnetworks, chosen uniformly, so xi = 1/p; each subnetwork runs tau local GD
steps; lambda0 = lambda_min(H_inf(1/p)) per cell.  With L_k = ||y - u_k||_2^2 and u_k the
average of the p subnetworks' outputs,

    E[L_k] <= (1/2 + 1/2 (1 - eta lambda0 / 2)^tau)^k C^2 n + O( tau (p-1)^2 n^3 d / (lambda0^2 m) ).

Panels (rows p grow upwards, columns tau grow to the right; cells are means over seeds):

(a) the measured plateau (mean of L_k over the stationary window, the last half of the rounds run), log colour;
(b) the order of Theorem 7's error term, tau (p-1)^2 n^3 d / (lambda0^2 m), without its
    unknown constant (log colour; exactly 0 at p = 1, painted grey and annotated '0');
(c), (d) both divided by their value at a reference cell (boxed; p = 2, tau = 1 or the
    nearest cell where both are positive) on one diverging log scale, so the directions in
    which measurement and theory move over the grid can be compared directly.

At p = 1 the method is full-batch GD with tau steps per round, whose L_k usually falls to
rounding level; such cells are clipped at the low end of the colour bar (the note under the
figure says what the p = 1 cells actually reached).  Cells where a seed
diverged are hatched; a dot marks cells where a seed did not settle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskedntk.core import figures as style
from maskedntk.core.figures import plt

from . import common, grid_data, grids, notes

#: the reference cell of the normalised panels (p, tau)
REFERENCE = (2, 1)


@common.draws_shown_level
def draw(runs: pd.DataFrame, pdf, png) -> None:
    """Draw the figure from the experiment's ``runs.csv`` table and save it as PDF and PNG."""
    style.apply_style()
    runs = common.runs_of_mask(runs, "categorical")
    rows, cols = "p", "tau"
    plateau = grid_data.cell_grid(runs, "plateau", rows, cols)
    error = grid_data.cell_grid(runs, "thm7_error", rows, cols)
    flags = grid_data.cell_flags(runs, rows, cols)
    try:
        ref = grid_data.reference_cell([plateau, error], REFERENCE)
        plateau_n, error_n = grid_data.normalise(plateau, ref), grid_data.normalise(error, ref)
    except ValueError:  # e.g. only p = 1 was run: the Theorem 7 term is 0 everywhere
        ref, plateau_n, error_n = None, plateau * np.nan, error * np.nan

    nr, nc = plateau.shape
    width = style.TWO_COLUMNS
    height = 1.3 + 2 * (0.85 + 0.2 * max(nr, 3))
    fig = plt.figure(figsize=(width, height))
    (ax_a, ax_b), (ax_c, ax_d) = fig.subplots(2, 2)
    fs = float(np.clip(6.0 * 10 / max(nc, 1), 5.0, 7.0))
    seq = style.sequential_cmap("viridis")
    div = style.sequential_cmap("vlag")
    kw = dict(xlabel=r"$\tau$ (local steps)", ylabel=r"$p$ (subnetworks)", fontsize=fs)
    cb = dict(location="bottom", aspect=40)

    # colour range from the cells with p > 1; full GD at p = 1 reaches rounding level
    s_plateau = grids.zero_log_norm(grid_data.where_or_all(plateau, error > 0), max_decades=4, also=[plateau])
    sm = grids.draw_grid(ax_a, plateau, s_plateau, seq, flags=flags, **kw)
    grids.colorbar(fig, sm, ax_a, r"plateau of $L_k=\|y-u_k\|_2^2$", scale=s_plateau, **cb)
    ax_a.set_title("(a) measured plateau")

    s_err = grids.zero_log_norm(error)
    sm = grids.draw_grid(ax_b, error, s_err, seq, **kw)
    grids.colorbar(fig, sm, ax_b, r"$\tau(p-1)^2n^3d/(\lambda_0^2m)$ (grey: exactly 0)", scale=s_err, **cb)
    ax_b.set_title("(b) Theorem 7 error term (order)")

    # the colour range follows the cells where the theory term is positive (p > 1): at p = 1
    # the term is 0 and the plateau is at rounding level, which would wash out every other cell
    s_ratio = grids.ratio_norm(grid_data.where_or_all(plateau_n, error_n > 0), error_n, max_decades=5, also=[plateau_n])
    sm = grids.draw_grid(ax_c, plateau_n, s_ratio, div, flags=flags, ref=ref, **kw)
    ax_c.set_title("(c) plateau / plateau(ref)")
    grids.draw_grid(ax_d, error_n, s_ratio, div, ref=ref, **kw)
    ax_d.set_title("(d) Theorem 7 term / term(ref)")
    grids.colorbar(fig, sm, [ax_c, ax_d], "ratio to the reference cell (boxed), (c) and (d)", scale=s_ratio, **cb)

    handles = grids.mark_handles(
        zero=bool((error.to_numpy() == 0).any() or (plateau.to_numpy() == 0).any()),
        diverged=flags.any_diverged,
        unconverged=flags.any_unconverged,
        missing=flags.any_missing,
        ref=None if ref is None else rf"reference cell $p={ref[0]:g}$, $\tau={ref[1]:g}$",
    )
    grids.legend_and_note(fig, handles, _note(runs))
    style.save(fig, pdf, png, name=__name__)


def _note(runs: pd.DataFrame) -> str:
    return (
        notes.settings_text(runs, r"Categorical masks ($\xi = 1/p$)")
        + r"  $\lambda_0 = \lambda_{\min}(H^\infty(1/p))$."
        + f"\n{notes.PLATEAU_TEXT}  "
        "Theorem 7 is a worst-case $O(\\cdot)$ bound without constants: compare directions, not values."
        "\nColours beyond a colour bar's range are clipped (arrow ends); "
        + notes.full_gd_text(runs[runs["p"] == 1], "$p = 1$")
    )
