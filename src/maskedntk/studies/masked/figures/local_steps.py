r"""Figure: the error neighbourhood against the number of local steps tau, for several p, beside
the tau-dependence of Theorem 3's B1 and of Corollary 6's error order.

Notation (Liao & Kyrillidis, arXiv 2112.02668v1): Bernoulli masks with selection probability
xi, p subnetworks, tau local GD steps per round, theta = 1 - (1 - xi)^p, C1 = 4 theta^2 (1-xi)
n kappa^2 / p, L_k = ||y - u_k||_2^2.  B1 (Theorem 3, eq. (7)) depends on tau through

    68 eta tau (theta - xi^2) n^3 kappa^2 / (p lambda0) + (theta - xi^2) n kappa^2 / (6 tau^2 p)
    + (tau-1)^2 p C1 / (24 tau^2) + 8 eta^2 (tau-1)^2 n^4 p C1 / lambda0^2 + 4 eta (tau-1) p n C1

(the local-drift terms vanish at tau = 1), and Corollary 6 gives the order (derived form; the
paper prints (theta - xi)/p for the middle term, a misprint: docs/masked/mathematics.md sec. 3.5)

    O( (1-xi)^2 / (n K) + (theta - xi^2)/p + (tau-1)^2 theta^2 (1-xi) / tau^2 ).

Panels:

(a) the measured plateau (mean of L_k over the stationary window, the last half of the rounds
    run) against tau, one colour
    per p, mean +- standard error over the seeds (diverged seeds left out and marked x, on the
    upper edge when every seed diverged; an open marker means a seed failed the stationarity
    check);
(b) B1 against tau per p on its own log axis (B1 is orders of magnitude above the plateau);
(c) all three divided by their value at the smallest tau (tau = 1): plateau (solid), B1
    (dashed) and the Corollary 6 order (dotted), on one log axis, so the growth the bounds
    predict with tau can be compared honestly with the measured change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from maskedntk.core import figures as style
from maskedntk.core.figures import plt

from . import common, grid_data, grids, notes


@common.draws_shown_level
def draw(runs: pd.DataFrame, pdf, png) -> None:
    """Draw the figure from the experiment's ``runs.csv`` table and save it as PDF and PNG."""
    style.apply_style()
    runs = common.runs_of_mask(runs, "bernoulli")
    stats = grid_data.seed_summary(runs, "plateau", ["p", "tau"])
    b1 = grid_data.cell_grid(runs, "B1", "p", "tau")
    cor6 = grid_data.cell_grid(runs, "cor6_order", "p", "tau")
    ps = sorted(stats["p"].unique())
    colors = dict(zip(ps, style.palette(len(ps)), strict=True))
    taus = sorted(stats["tau"].unique())
    predicted = grid_data.cell_grid(runs, "plateau_predicted", "p", "tau") if "plateau_predicted" in runs else None

    fig = plt.figure(figsize=(style.TWO_COLUMNS, 2.55))
    ax_a, ax_b, ax_c = fig.subplots(1, 3)
    any_div = any_unconv = False
    for p in ps:
        c = colors[p]
        s = stats.loc[stats["p"] == p].sort_values("tau")
        t = s["tau"].to_numpy(dtype=float)
        mean, se = s["mean"].to_numpy(dtype=float), s["se"].to_numpy(dtype=float)
        unconv = s["unconverged"].to_numpy() > 0
        div = s["diverged"].to_numpy() > 0
        any_div |= bool(div.any())
        any_unconv |= bool(unconv.any())
        ax_a.errorbar(t, mean, yerr=np.nan_to_num(se), color=c, lw=1.1, ms=0, capsize=1.8, elinewidth=0.7)
        ax_a.plot(t[~unconv], mean[~unconv], "o", color=c, ms=3.2, zorder=3)
        ax_a.plot(t[unconv], mean[unconv], "o", mfc="white", mec=c, mew=0.9, ms=3.2, zorder=3)
        if div.any():
            y = np.where(np.isfinite(mean), mean, np.nan)
            ax_a.plot(t[div & np.isfinite(y)], y[div & np.isfinite(y)], "x", color="black", ms=4, mew=0.8, zorder=4)
            none = div & ~np.isfinite(y)
            # no finite seed: an x on the upper edge of the panel, in the colour of p
            ax_a.plot(
                t[none],
                np.full(none.sum(), 1.0),
                "x",
                color=c,
                ms=4,
                mew=0.9,
                transform=_xblend(ax_a),
                clip_on=False,
                in_layout=False,
            )

        if predicted is not None:  # this project's prediction from the initialisation (mean over seeds)
            ax_a.plot(
                taus,
                predicted.loc[p].reindex(taus).to_numpy(dtype=float),
                "-.",
                marker="D",
                mfc="none",
                color=c,
                ms=2.6,
                lw=0.9,
                zorder=2,
            )
        b = b1.loc[p].reindex(taus).to_numpy(dtype=float)
        ax_b.plot(taus, _positive(b), "--", marker="s", color=c, ms=2.6, lw=1.1)

        for vals, ls, mk in (
            (pd.Series(mean, index=t).reindex(np.asarray(taus, dtype=float)).to_numpy(), "-", "o"),
            (b, "--", "s"),
            (cor6.loc[p].reindex(taus).to_numpy(dtype=float), ":", "^"),
        ):
            base = vals[0]
            if np.isfinite(base) and base > 0:
                ax_c.plot(taus, _positive(vals / base), ls=ls, marker=mk, color=c, ms=2.6, lw=1.1)

    ax_a.set_yscale("log" if _spans_decade(stats["mean"]) else "linear")
    ax_a.set_title(r"(a) measured plateau of $L_k$")
    ax_a.set_ylabel(r"plateau of $\|y-u_k\|_2^2$")
    ax_b.set_yscale("log")
    ax_b.set_title(r"(b) $B_1$ of Theorem 3")
    ax_b.set_ylabel(r"$B_1$")
    ax_c.set_yscale("log")
    ax_c.axhline(1.0, color="0.5", lw=0.6, zorder=0)
    ax_c.set_title(rf"(c) relative to $\tau = {taus[0]:g}$")
    ax_c.set_ylabel(rf"value / value at $\tau = {taus[0]:g}$")
    for ax in (ax_a, ax_b, ax_c):
        ax.set_xlabel(r"$\tau$ (local steps per round)")
        ax.set_xticks(taus, [f"{t:g}" for t in taus])
        ax.set_xlim(taus[0] - 0.04 * (taus[-1] - taus[0] + 1), taus[-1] + 0.04 * (taus[-1] - taus[0] + 1))

    handles = [Line2D([], [], color=colors[p], lw=1.4, label=rf"$p = {p:g}$") for p in ps]
    handles += [
        Line2D([], [], color="0.3", ls="-", marker="o", ms=3, label="measured plateau"),
        *(
            [Line2D([], [], color="0.3", ls="-.", marker="D", mfc="none", ms=2.6, label="predicted (initialisation)")]
            if predicted is not None
            else []
        ),
        Line2D([], [], color="0.3", ls="--", marker="s", ms=2.6, label=r"$B_1$ (Thm 3)"),
        Line2D([], [], color="0.3", ls=":", marker="^", ms=2.6, label="Cor. 6 order"),
    ]
    if any_unconv:
        handles.append(Line2D([], [], ls="", marker="o", mfc="white", mec="0.3", ms=3.2, label="a seed not stationary"))
    if any_div:
        handles.append(Line2D([], [], ls="", marker="x", color="black", ms=4, label="a seed diverged"))
    grids.legend_and_note(fig, handles, _note(runs), ncols=min(len(handles), 8))
    style.save(fig, pdf, png, name=__name__)


def _positive(a):
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a) & (a > 0), a, np.nan)


def _spans_decade(values) -> bool:
    v = _positive(values)
    v = v[np.isfinite(v)]
    return bool(v.size and v.max() / v.min() > 10)


def _xblend(ax):
    from matplotlib.transforms import blended_transform_factory

    return blended_transform_factory(ax.transData, ax.transAxes)


def _note(runs: pd.DataFrame) -> str:
    return (
        notes.settings_text(runs, "Bernoulli masks", ("xi", "n", "d", "m"), spread=r" $\pm$ s.e.")
        + f"\n{notes.PLATEAU_TEXT}  "
        "The bounds are worst case and lie orders of "
        "magnitude above it,\n"
        r"so (c) compares how each changes with $\tau$ (Cor. 6 is an $O(\cdot)$ without constants; "
        r"$B_1$ also grows through $\eta\tau$)."
    )
