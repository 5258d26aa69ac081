"""Figure ``fig_bound_anatomy``: what the error term B1 of Theorem 3 is made of, beside the
error the runs actually reach (``heatmap_bernoulli`` experiment, Bernoulli masks).

Theorem 3, eq. (7) of arXiv 2112.02668v1:
E||y - u_k||^2 <= (1 - eta theta tau lambda0 / 4)^k ||y - u_0||^2 + B1, with

B1 = 64(1-xi)^2 n^3 d / (m lambda0^2)                      (width)
   + 68 eta tau (theta - xi^2) n^3 kappa^2 / (p lambda0)   (step variance)
   + (theta - xi^2) n kappa^2 / (6 tau^2 p)                 (mask variance)
   + (tau-1)^2 p C1 / (24 tau^2)                            (local drift)
   + 8 eta^2 (tau-1)^2 n^4 p C1 / lambda0^2                 (local drift, eta^2)
   + 4 eta (tau-1) p n C1,                                  (local drift, eta)
C1 = 4 theta^2 (1-xi) n kappa^2 / p,  theta = 1 - (1 - xi)^p.

For a few configurations (p, xi < 1) chosen from the table (:func:`select_cells`), one bar
stacks the six terms on a log axis: segment j spans [S_{j-1}, S_j] with S_j the cumulative
sum, the terms stacked from the smallest to the largest so that each one that matters is
visible (the top of the bar is B1).  Terms that are exactly 0 (the local-drift terms at
tau = 1) have no segment and are flagged.  The black marker is the measured plateau (mean of
L_k over the stationary window, the last half of the rounds run; mean +- s.e. over seeds); the number above each bar
is the ratio B1 / measured plateau.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, NullLocator

from maskedntk.core import figures as style
from maskedntk.core import numbers
from maskedntk.studies.masked.theory import B1_LABELS, B1_TERMS

from . import common

#: (p, xi) shown when present, in this order of preference
PREFERRED = ((1, 0.5), (4, 0.5), (10, 0.5), (4, 0.9))
#: at most this many bars
MAX_CELLS = 4
TERM_COLUMNS = tuple(f"b1_{t}" for t in B1_TERMS)


def _match(cells: pd.DataFrame, p, xi) -> pd.DataFrame:
    return cells[(cells["p"] == p) & np.isclose(cells["xi"].astype(float), xi)]


def select_cells(cells: pd.DataFrame, max_cells: int = MAX_CELLS) -> list[str]:
    """Cell ids of the configurations to show, from a :func:`common.cell_summary` table.

    Only cells with xi < 1 and a finite, positive B1 qualify.  The PREFERRED (p, xi) come
    first when present; the rest is filled from (p_min, xi_mid), (p_mid, xi_mid),
    (p_max, xi_mid), (p_mid, xi_high), (p_mid, xi_low), ... where xi_mid is the xi nearest
    0.5, xi_high (xi_low) the largest (smallest) xi < 1, and p_mid the p nearest the
    geometric mean of p_min and p_max.  Returned sorted by (xi, p)."""
    ok = cells[(cells["xi"].astype(float) < 1) & np.isfinite(cells["B1"].astype(float)) & (cells["B1"] > 0)]
    if ok.empty:
        return []
    ps = sorted(ok["p"].unique())
    xis = sorted(ok["xi"].astype(float).unique())
    p_min, p_max = ps[0], ps[-1]
    p_mid = min(ps, key=lambda v: abs(math.log(v) - 0.5 * math.log(p_min * p_max)))
    x_mid = min(xis, key=lambda v: abs(v - 0.5))
    x_lo, x_hi = xis[0], xis[-1]
    auto = [(p_min, x_mid), (p_mid, x_mid), (p_max, x_mid), (p_mid, x_hi), (p_mid, x_lo), (p_min, x_hi)]
    auto += [(p_max, x_hi), (p_min, x_lo), (p_max, x_lo)]
    chosen: list[str] = []
    for p, xi in (*PREFERRED, *auto):
        m = _match(ok, p, xi)
        if len(m) and m["cell"].iloc[0] not in chosen:
            chosen.append(m["cell"].iloc[0])
        if len(chosen) == max_cells:
            break
    sel = ok[ok["cell"].isin(chosen)].sort_values(["xi", "p"])
    return list(sel["cell"])


def ratio_label(B1: float, plateau: float) -> str:
    """The text above a bar: B1 / measured plateau."""
    if not (np.isfinite(plateau) and plateau > 0):
        return "no finite plateau"
    return r"$B_1/$plateau" + "\n= " + numbers.sci(B1 / plateau)


def anatomy_table(runs: pd.DataFrame, max_cells: int = MAX_CELLS) -> pd.DataFrame:
    """The chosen configurations, one row each: p, xi, tau, m, the six terms, B1, the measured
    plateau (mean, s.e., seed counts), ``ratio`` = B1 / mean plateau and the printed label."""
    cols = [c for c in (*TERM_COLUMNS, "B1") if c in runs.columns]
    cells = common.cell_summary(runs, values=("plateau",), constants=cols)
    for c in (*TERM_COLUMNS, "B1"):
        if c not in cells:
            cells[c] = math.nan
    chosen = select_cells(cells, max_cells)
    t = cells.set_index("cell").loc[chosen].reset_index()
    t["ratio"] = t["B1"] / t["plateau_mean"].where(t["plateau_mean"] > 0)
    t["ratio_label"] = [ratio_label(b, pl) for b, pl in zip(t["B1"], t["plateau_mean"], strict=True)]
    return t


def _tick_label(row, varying) -> str:
    parts = [rf"$p$ = {row['p']:g}", rf"$\xi$ = {row['xi']:g}"]
    if "tau" in varying:
        parts.append(rf"$\tau$ = {row['tau']:g}")
    if "m" in varying:
        parts.append(rf"$m$ = {row['m']:g}")
    return "\n".join(parts)


@common.draws_shown_level
def draw(runs: pd.DataFrame, pdf, png) -> pd.DataFrame:
    """Draw ``fig_bound_anatomy`` from the heatmap_bernoulli runs; save PDF and PNG.

    Returns :func:`anatomy_table` (what the bars and the printed ratios show)."""
    import matplotlib.pyplot as plt

    style.apply_style()
    table = anatomy_table(runs)
    colors = dict(zip(B1_TERMS, style.palette(len(B1_TERMS)), strict=True))
    fig, ax = plt.subplots(figsize=(style.TWO_COLUMNS, 2.75))
    ax.set_yscale("log")
    ax.set_ylabel(r"$B_1$ (cumulative sum of its terms)" + "\nand measured plateau of $L_k$")
    if table.empty:
        ax.text(0.5, 0.5, r"no Bernoulli cell with $\xi < 1$ and finite $B_1$", transform=ax.transAxes, ha="center")
        style.save(fig, pdf, png, name=__name__)
        return table

    terms = table[list(TERM_COLUMNS)].to_numpy(dtype=np.float64)
    positive = terms[np.isfinite(terms) & (terms > 0)]
    pl_lo = (table["plateau_mean"] - table["plateau_se"].fillna(0)).where(lambda s: s > 0, table["plateau_mean"])
    lows = [positive.min() if positive.size else 1.0, *pl_lo[pl_lo > 0]]
    floor = 10.0 ** math.floor(math.log10(min(lows)) - 0.5)
    top_e = math.log10(np.nanmax(table["B1"]))
    span = top_e - math.log10(floor)
    ax.set_ylim(floor, 10.0 ** (top_e + 0.22 * span))
    # labelled decades at exponents that are multiples of a step (10^0, 10^3, 10^6, ...)
    step = max(1, math.ceil(span / 7))
    exps = range(math.ceil(math.log10(floor) / step) * step, math.floor(top_e + 0.22 * span) + 1, step)
    ax.yaxis.set_major_locator(FixedLocator([10.0**e for e in exps]))
    ax.yaxis.set_minor_locator(NullLocator())

    width = 0.5
    zero_somewhere = {t: bool(np.any(terms[:, j] == 0)) for j, t in enumerate(B1_TERMS)}
    zero_everywhere = {t: bool(np.all(terms[:, j] == 0)) for j, t in enumerate(B1_TERMS)}
    starred = []
    for i, row in enumerate(terms):
        order = [j for j in np.argsort(row) if np.isfinite(row[j]) and row[j] > 0]
        bottom = floor
        cum = 0.0
        for j in order:
            cum += row[j]
            ax.bar(i, cum - bottom, bottom=bottom, width=width, color=colors[B1_TERMS[j]], lw=0.3, edgecolor="white")
            bottom = cum
        starred.append(any(row[j] == 0 for j in range(len(row)) if not zero_everywhere[B1_TERMS[j]]))
        r = table.iloc[i]
        ax.annotate(
            r["ratio_label"],
            (i, r["B1"]),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=6.5,
        )
        if np.isfinite(r["plateau_mean"]) and r["plateau_mean"] > 0:
            se = r["plateau_se"] if np.isfinite(r["plateau_se"]) else 0.0
            ax.hlines(r["plateau_mean"], i - 0.36, i + 0.36, color="k", lw=1.4, zorder=4)
            ax.errorbar(i, r["plateau_mean"], yerr=se, fmt="none", ecolor="k", elinewidth=0.8, capsize=2.5, zorder=5)
        if r["n_diverged"]:
            ax.annotate(
                f"{r['n_diverged']}/{r['n_seeds']} seeds diverged",
                (i, floor),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=6,
                color="0.2",
            )

    varying = [c for c in ("tau", "m") if table[c].nunique() > 1]
    labels = [_tick_label(r, varying) + ("*" if s else "") for (_, r), s in zip(table.iterrows(), starred, strict=True)]
    ax.set_xticks(range(len(table)), labels)
    ax.set_xlim(-0.6, len(table) - 0.4)
    ax.grid(axis="x", visible=False)
    fixed = [
        rf"$\{c}$ = {table[c].iloc[0]:g}" if c == "tau" else rf"${c}$ = {table[c].iloc[0]:g}" for c in ("tau", "m")
    ]
    fixed = [f for f, c in zip(fixed, ("tau", "m"), strict=True) if c not in varying]
    fixed += [f"$n$ = {table['n'].iloc[0]:g}", f"$d$ = {table['d'].iloc[0]:g}"]
    ax.set_title(r"$B_1$ of Theorem 3, term by term, against the measured plateau")
    ax.set_xlabel("configuration (" + ", ".join(fixed) + ")")

    handles, names = [], []
    for i, t in enumerate(B1_TERMS):
        lab = f"{i + 1}. " + B1_LABELS[t]
        if zero_everywhere[t]:
            lab += "  (= 0 here)"
        elif zero_somewhere[t]:
            lab += "  (= 0 at *)"
        handles.append(Patch(facecolor=colors[t], edgecolor="white", lw=0.3))
        names.append(lab)
    handles.append(
        Line2D([], [], color="k", lw=1.4, marker="|", markersize=6, markeredgewidth=0.8),
    )
    names.append("measured plateau\n(mean $\\pm$ s.e. over seeds)")
    fig.legend(
        handles,
        names,
        loc="outside right upper",
        title=r"terms of $B_1$ (order of eq. (7))",
        alignment="left",
        handlelength=1.4,
    )
    style.save(fig, pdf, png, name=__name__)
    return table
