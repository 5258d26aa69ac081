"""Figure ``fig_width``: the error neighbourhood against the width m (``width`` experiment),
Bernoulli and categorical masks, beside the m-dependent terms of the bounds.

Measured: the plateau of L_k = ||y - u_k||_2^2 (mean of L_k over the stationary window (the last half of the
rounds), mean +- s.e. over seeds per m; a filled marker when every seed passed the
stationarity check, an open one when some seed was still drifting.

Theory, the terms that depend on m:
* Bernoulli masks, the first term of B1 (Theorem 3, eq. (7) of arXiv 2112.02668v1):
  64 (1 - xi)^2 n^3 d / (m lambda0^2);
* categorical masks, the error term of Theorem 7: O(tau (p - 1)^2 n^3 d / (lambda0^2 m))
  (drawn with constant 1; lambda0 of H_inf with xi = 1/p).
Both fall as m^{-1}.  They are 1e7-1e10 times the measurements, so (a) draws them in a strip
above a broken axis, and (b) compares the m-dependence: every curve divided by its value at
the smallest m, with the fitted log-log slope of the measured plateau (least squares over the
m with a finite plateau, +- its s.e.) printed beside the theory's slope -1.  The whole B1 of
Theorem 3 is also shown in (b): its dominant terms do not depend on m.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from maskedntk.core import figures as style

from . import common

#: per-cell theory columns carried from runs.csv
THEORY = ("b1_width", "thm7_error", "B1", "lambda0")


def series_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per cell with the plateau statistics, the theory columns and ``series``, a
    label of the configuration apart from m (mask, xi, p, tau); sorted by series and m."""
    values = ("plateau", "plateau_predicted") if "plateau_predicted" in runs else ("plateau",)
    cells = common.cell_summary(runs, values=values, constants=[c for c in THEORY if c in runs.columns])
    for c in THEORY:
        if c not in cells:
            cells[c] = math.nan
    cells["m_term"] = np.where(cells["mask"] == "categorical", cells["thm7_error"], cells["b1_width"])
    cells["series"] = [_series_label(r) for _, r in cells.iterrows()]
    return cells.sort_values(["mask", "xi", "p", "tau", "m"]).reset_index(drop=True)


def _series_label(r) -> str:
    if r["mask"] == "categorical":
        return rf"categorical, $p$ = {r['p']:g} ($\xi = 1/p$), $\tau$ = {r['tau']:g}"
    return rf"Bernoulli, $\xi$ = {r['xi']:g}, $p$ = {r['p']:g}, $\tau$ = {r['tau']:g}"


def _term_label(mask: str) -> str:
    if mask == "categorical":
        return r"categorical $\tau(p-1)^2 n^3 d/(\lambda_0^2 m)$"
    return r"Bernoulli $64(1-\xi)^2 n^3 d/(m\lambda_0^2)$"


def _measured(ax, g, col, scale=1.0, line=True):
    """Error bars of the measured plateau (divided by ``scale``; joined by a line if
    ``line``), filled/open markers, and crosses for cells with diverged seeds."""
    m = g["m"].to_numpy(float)
    y = g["plateau_mean"].to_numpy(float) / scale
    se = g["plateau_se"].fillna(0).to_numpy(float) / scale
    ls = "-" if line else "none"
    ax.errorbar(m, y, yerr=se, color=col, ls=ls, lw=1.1, elinewidth=0.8, capsize=2, zorder=3)
    conv = (g["n_stationary"] == g["n_seeds"]).to_numpy()
    ax.plot(m[conv], y[conv], "o", color=col, ms=4, zorder=4)
    ax.plot(m[~conv], y[~conv], "o", mfc="white", mec=col, mew=1.0, ms=4, zorder=4)
    div = (g["n_diverged"] > 0).to_numpy() & np.isfinite(y)
    ax.plot(m[div], y[div], "x", color="k", ms=5, mew=1.0, zorder=5)


@common.draws_shown_level
def draw(runs: pd.DataFrame, pdf, png) -> pd.DataFrame:
    """Draw ``fig_width`` from the width experiment's runs; save PDF and PNG.  Returns the
    per-cell table (:func:`series_table`) with the fitted slope per series in ``slope``."""
    import matplotlib.pyplot as plt

    style.apply_style()
    cells = series_table(runs)
    series = list(dict.fromkeys(cells["series"]))
    pal = style.palette(max(len(series), 2))
    colors = {s: pal[i] for i, s in enumerate(series)}

    fig = plt.figure(figsize=(style.TWO_COLUMNS, 3.0))
    gs = fig.add_gridspec(1, 2)
    terms = cells["m_term"].to_numpy(float)
    has_terms = bool(np.any(np.isfinite(terms) & (terms > 0)))
    if has_terms:
        ax_top, ax = common.broken_log_axes(fig, gs[0])
    else:
        ax_top, ax = None, fig.add_subplot(gs[0])
    ax_n = fig.add_subplot(gs[1])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax_n.set_xscale("log")
    ax_n.set_yscale("log")

    cells["slope"] = math.nan
    cells["slope_se"] = math.nan
    slope_text = []
    theory_n = []  # (colour, m, m-term / m-term at the reference m) per series
    any_open = any_div = False
    for s in series:
        g = cells[cells["series"] == s]
        col = colors[s]
        _measured(ax, g, col)
        any_open |= bool((g["n_stationary"] < g["n_seeds"]).any())
        any_div |= bool((g["n_diverged"] > 0).any())
        m = g["m"].to_numpy(float)
        mask = g["mask"].iloc[0]
        term = g["m_term"].to_numpy(float)
        if ax_top is not None and np.any(np.isfinite(term) & (term > 0)):
            ax_top.plot(m, term, "--", color=col, lw=1.1, marker=".", ms=3)
        if "plateau_predicted_mean" in g:  # this project's prediction from the initialisation
            ax.plot(
                m, g["plateau_predicted_mean"].to_numpy(float), "-.", color=col, lw=0.9, marker="D", mfc="none", ms=2.6
            )

        # (b): every curve of the series divided by its value at the reference m, the smallest
        # m with a finite measured plateau (the smallest m when there is none)
        y = g["plateau_mean"].to_numpy(float)
        fin = np.flatnonzero(np.isfinite(y) & (y > 0))
        ref = fin[0] if fin.size else 0
        if fin.size:
            _measured(ax_n, g, col, scale=y[ref], line=False)
        slope, se = common.loglog_slope(m, y)
        cells.loc[g.index, "slope"] = slope
        cells.loc[g.index, "slope_se"] = se
        if np.isfinite(slope):
            mm = np.array([m[fin].min(), m[fin].max()])
            ax_n.plot(mm, (mm / m[ref]) ** slope, "-", color=col, lw=0.8, zorder=2)
            pm = "" if not np.isfinite(se) else rf" \pm {se:.2f}"
            slope_text.append((col, f"{mask.capitalize()}: fitted slope ${slope:.2f}{pm}$"))
        if np.isfinite(term[ref]) and term[ref] > 0:
            theory_n.append((col, m, term / term[ref]))
        if mask == "bernoulli":
            B1 = g["B1"].to_numpy(float)
            if np.isfinite(B1[ref]) and B1[ref] > 0:
                ax_n.plot(m, B1 / B1[ref], ":", color="0.45", lw=1.4, zorder=2.5)
        # cells where every seed diverged: a cross at the bottom edge of (a)
        for mv in m[g["plateau_count"].to_numpy() == 0]:
            ax.plot(mv, 0.03, "x", color=col, ms=6, mew=1.4, transform=ax.get_xaxis_transform(), clip_on=False)
            ax.annotate(
                "all seeds\ndiverged",
                (mv, 0.03),
                xycoords=("data", "axes fraction"),
                xytext=(4, 0),
                textcoords="offset points",
                fontsize=6,
                color=col,
                va="bottom",
            )
            any_div = True

    # the normalised m-terms: one black line when they coincide (all exactly m_ref / m with the
    # same m_ref), else one dashed line per series in its colour
    curves = {(tuple(mv), tuple(np.round(v, 12))) for _, mv, v in theory_n}
    for col, mv, v in theory_n:
        ax_n.plot(mv, v, "--", color="0.2" if len(curves) == 1 else col, lw=1.1, zorder=2)
    ms = np.sort(cells["m"].unique().astype(float))
    for a in (ax, ax_n):
        a.set_xticks(ms, [f"{v:g}" for v in ms])
        a.xaxis.set_minor_locator(plt.NullLocator())
        a.set_xlim(ms[0] / 1.25, ms[-1] * 1.25)
        a.set_xlabel(r"width $m$")
    ax.set_ylabel(r"plateau of $L_k$")
    common.decade_ylim(ax)
    ax_n.set_ylabel(r"value at $m$ / value at the smallest $m$")
    common.decade_ylim(ax_n)
    for i, (col, text) in enumerate(slope_text):
        ax_n.text(
            0.03, 0.04 + 0.07 * (len(slope_text) - 1 - i), text, transform=ax_n.transAxes, fontsize=6.5, color=col
        )
    ax_n.text(0.03, 0.04 + 0.07 * len(slope_text), "theory: slope $-1$", transform=ax_n.transAxes, fontsize=6.5)
    ax_n.set_title(r"(b) normalised to the smallest $m$")
    if ax_top is not None:
        t = terms[np.isfinite(terms) & (terms > 0)]
        common.decade_ticks(ax_top, t.min(), t.max(), max_ticks=3, head=0.45)
        common.break_marks(ax_top, ax)
        ax_top.text(
            0.99,
            0.95,
            "bound terms (axis broken)",
            transform=ax_top.transAxes,
            ha="right",
            va="top",
            fontsize=6.5,
            color="0.25",
        )
        ax_top.set_title(r"(a) plateau and bound terms")
    else:
        ax.set_title(r"(a) plateau against $m$")

    handles = [Line2D([], [], color=colors[s], lw=1.4, marker="o", ms=4) for s in series]
    labels = list(series)
    if "plateau_predicted_mean" in cells:
        handles.append(Line2D([], [], color="0.3", ls="-.", marker="D", mfc="none", ms=2.6))
        labels.append("predicted from the initialisation (this project)")
    handles += [
        Line2D([], [], color="0.2", lw=1.1, marker="o", ms=4),
        Line2D([], [], color="0.2", ls="--", lw=1.1),
        Line2D([], [], color="0.45", ls=":", lw=1.4),
        Line2D([], [], color="0.2", lw=0.8),
    ]
    kinds = sorted(cells["mask"].unique(), key=lambda k: k != "bernoulli")
    labels += [
        "measured plateau (mean $\\pm$ s.e. over seeds)",
        "$m$-term of the bound (in (b): $\\propto 1/m$):\n" + "; ".join(_term_label(k) for k in kinds),
        r"in (b): all of $B_1$ (Bernoulli, Theorem 3)",
        "in (b): power law fitted to the measured plateau",
    ]
    if any_open:
        handles.append(Line2D([], [], ls="none", marker="o", mfc="white", mec="0.2", ms=4))
        labels.append("open marker: some seed not stationary")
    if any_div:
        handles.append(Line2D([], [], ls="none", marker="x", color="k", ms=5))
        labels.append("seeds diverged (mean of the rest)")
    fig.legend(handles, labels, loc="outside lower center", ncol=2, columnspacing=1.5, handlelength=2.2)
    style.save(fig, pdf, png, name=__name__)
    return cells
