"""Figure ``fig_dynamics``: the loss of Algorithm 1 (Bernoulli masks) round by round and local
step by local step, beside Theorem 3 (the ``dynamics`` experiment: one cell per xi, fixed p, tau).

(a) The training error L_k = ||y - u_k||_2^2, u_k = xi f(W_k, X), against the global round k:
    mean over seeds with a min-max band, and two overlays per xi built from the cell's eta,
    theta = 1 - (1 - xi)^p, tau, lambda0 = lambda_min(H_inf(xi)) and the mean L_0:

    * Theorem 3, eq. (7) of arXiv 2112.02668v1:
      E||y - u_k||^2 <= (1 - eta theta tau lambda0 / 4)^k ||y - u_0||^2 + B1
      (B1 of :func:`maskedntk.studies.masked.theory.b1_terms`; 1e8-1e16 in this project's configurations,
      so for xi < 1 the curve is drawn in a separate log strip above a broken axis; at
      xi = 1, B1 = 0 and it is drawn with the measurements);
    * the rate-only envelope (1 - eta theta tau lambda0 / 4)^k L_0 + (measured plateau):
      Theorem 3's contraction with the measured neighbourhood in place of B1.

(b) The paper's Fig. 2a view: the loss through every local step, at x = k tau + t for local
    step t of round k.  The trace is L_surrogate(k, t) = (1/p) sum_l ||y - f_l(W^l_{k,t}, X)||^2
    (t = 0 right after the masks of round k are sampled); L_{k+1} (after aggregation) and
    L_surrogate(k + 1, 0) share x = (k + 1) tau with L_surrogate(k, tau), so the aggregation
    step and the resampling of the masks show as vertical jumps; dots mark L_{k+1}.  Mean over
    seeds, xi < 1, the first ~125 local steps as in the paper.  Numbers 1-3 mark the three
    phases of one round (local decrease; aggregation, labelled "drop" or "rise" from the data;
    the rise at resampling).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from maskedntk.core import figures as style
from maskedntk.core import numbers

from .. import theory
from . import common

#: local steps shown in panel (b), as in the paper's Fig. 2a
STEPS_SHOWN = 125
#: decades below the smallest xi < 1 curve that panel (a) shows before clipping
DECADES_BELOW = 3.0


def _theory_rate(c) -> float:
    """(1 - eta theta tau lambda0 / 4) of the cell (NaN if a quantity is missing)."""
    try:
        return theory.rate_factor_thm3(float(c["eta"]), float(c["theta"]), int(c["tau"]), float(c["lambda0"]))
    except (TypeError, ValueError, KeyError):
        return math.nan


def _curve(k, L0, rate, floor) -> np.ndarray | None:
    """rate^k L0 + floor, or None when it cannot be drawn (missing values, rate outside (0, 1])."""
    if not all(np.isfinite([L0, rate, floor])) or not 0 < rate <= 1:
        return None
    return theory.theorem3_bound(k, L0, rate, floor)


def _seed_paths(traj: pd.DataFrame, trace: pd.DataFrame, tau: int, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """x and one row per seed of the loss traced through local steps over ``rounds`` rounds:
    per round k the points (k tau, L_k), (k tau + t, L_surrogate(k, t)) for t = 0..tau, and
    finally ((rounds) tau, L_rounds)."""
    xs = []
    for k in range(rounds):
        xs += [k * tau] + [k * tau + t for t in range(tau + 1)]
    xs.append(rounds * tau)
    paths = []
    for seed, tr in trace.groupby("seed"):
        S = np.full((rounds, tau + 1), np.nan)
        tr = tr[(tr["round"] < rounds) & (tr["step"] <= tau)]
        S[tr["round"].to_numpy(int), tr["step"].to_numpy(int)] = tr["L_surrogate"].to_numpy(float)
        L = np.full(rounds + 1, np.nan)
        t = traj[(traj["seed"] == seed) & (traj["round"] <= rounds)]
        L[t["round"].to_numpy(int)] = t["L"].to_numpy(float)
        ys = []
        for k in range(rounds):
            ys += [L[k], *S[k]]
        ys.append(L[rounds])
        paths.append(ys)
    P = np.asarray(paths, dtype=np.float64).reshape(len(paths), len(xs))
    P[~np.isfinite(P) | (P <= 0)] = np.nan
    return np.asarray(xs, dtype=np.float64), P


def _nanstat(P: np.ndarray, fn) -> np.ndarray:
    out = np.full(P.shape[1], np.nan)
    ok = np.isfinite(P).any(axis=0)
    out[ok] = fn(P[:, ok], axis=0)
    return out


def _legend_label(c) -> str:
    lab = rf"$\xi$ = {numbers.format_value(c['xi'])}"
    B1 = c.get("B1", math.nan)
    if np.isfinite(B1):
        lab += r", $B_1$ = " + ("0" if B1 == 0 else numbers.sci(B1))
    if c["n_diverged"]:
        lab += f" ({c['n_diverged']}/{c['n_seeds']} seeds diverged)"
    return lab


def _panel_rounds(fig, spec, cells, trajectories, colors):
    """Panel (a); returns the main axes."""
    cells_b = cells[np.isfinite(cells["B1"]) & (cells["B1"] > 0)]
    if len(cells_b):
        ax_top, ax = common.broken_log_axes(fig, spec)
    else:
        ax_top, ax = None, fig.add_subplot(spec)

    lows, low_main, highs = [], [], []
    offscale = []  # cells whose curve falls below the axis: (cell, k, value)
    drawn = {}
    for _, c in cells.iterrows():
        col = colors[float(c["xi"])]
        band = common.round_band(trajectories[trajectories["cell"] == c["cell"]])
        if band.empty or not band["mean"].notna().any():
            continue
        k, mean = band["round"].to_numpy(float), band["mean"].to_numpy(float)
        lo, hi = band["min"].to_numpy(float), band["max"].to_numpy(float)
        pos = np.where(mean > 0, mean, np.nan)
        drawn[c["cell"]] = (k, pos)
        ax.fill_between(k, np.where(lo > 0, lo, np.nan), hi, color=col, alpha=0.22, lw=0)
        ax.plot(k, pos, color=col, lw=1.3, zorder=3)
        if c["n_diverged"] and len(k):  # mark where the last finite mean ends
            last = np.flatnonzero(np.isfinite(pos))
            if last.size and last[-1] < len(k) - 1:
                ax.plot(k[last[-1]], pos[last[-1]], "x", color=col, ms=5, mew=1.2, zorder=4)
        highs.append(np.nanmax(hi))
        lows.append(np.nanmin(np.where(lo > 0, lo, np.nan)))
        if float(c["xi"]) < 1:
            low_main.append(np.nanmin(np.where(lo > 0, lo, np.nan)))

        kk = np.arange(int(c["rounds"]) + 1, dtype=float)
        rate = _theory_rate(c)
        env = _curve(kk, c["L0_mean"], rate, c["plateau_mean"])
        bound = _curve(kk, c["L0_mean"], rate, c["B1"])
        if env is not None and not (np.isfinite(c["B1"]) and c["B1"] == 0):
            ax.plot(kk, env, ":", color=col, lw=1.2, zorder=2)
        pred = c.get("plateau_predicted_mean", math.nan)
        if np.isfinite(pred) and pred > 0 and float(c["xi"]) < 1:  # this project's prediction
            ax.axhline(pred, color=col, ls="-.", lw=0.9, zorder=2)
        if bound is not None:
            if c["B1"] > 0 and ax_top is not None:
                ax_top.plot(kk, bound, "--", color=col, lw=1.2)
            else:  # B1 = 0 (xi = 1): the bound is on the axis of the measurements
                ax.plot(kk, bound, "--", color=col, lw=1.2, zorder=2)
                lows.append(np.nanmin(bound))

    # y range: all measurements, unless the xi = 1 curve (plain GD, converging to 0) would
    # squash the others: then clip DECADES_BELOW decades under the xi < 1 curves.
    top = max(highs) * 2.5 if highs else 10.0
    bottom = min(lows) / 2 if lows else 1e-3
    if low_main and bottom < min(low_main) * 10**-DECADES_BELOW:
        bottom = min(low_main) * 10**-DECADES_BELOW
        for cell, (k, pos) in drawn.items():
            below = np.flatnonzero(pos < bottom)
            if below.size:
                offscale.append((cell, k[below[0]], np.nanmin(pos)))
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    ax.set_xlim(0, max(cells["rounds"].max(), 1))
    for cell, kx, vmin in offscale:
        c = cells[cells["cell"] == cell].iloc[0]
        text = rf"$\xi$ = {numbers.format_value(c['xi'])}:" + "\nmin " + numbers.sci(vmin)
        side = "right" if kx < 0.8 * ax.get_xlim()[1] else "left"
        common.mark_off_scale(ax, kx, text, colors[float(c["xi"])], where="bottom", side=side)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(common.SYM["k"])
    ax.set_ylabel(common.LABEL_L)

    if ax_top is not None:
        b = cells_b["B1"].to_numpy(float)
        common.decade_ticks(ax_top, b.min(), b.max(), max_ticks=3, head=0.45)
        ax_top.text(
            0.99,
            0.95,
            r"Theorem 3 bound, $\approx B_1$ (axis broken)",
            transform=ax_top.transAxes,
            ha="right",
            va="top",
            fontsize=6.5,
            color="0.25",
        )
        common.break_marks(ax_top, ax)
        ax_top.set_title(r"(a) $L_k$ per round, with Theorem 3")
    else:
        ax.set_title(r"(a) $L_k$ per round, with Theorem 3")
    return ax


def _panel_steps(ax, cells, trajectories, trace, colors):
    """Panel (b): the loss through every local step (xi < 1)."""
    ax.set_title("(b) loss through local steps (Fig. 2a view)")
    ax.set_xlabel(r"total local steps $k\tau + t$")
    ax.set_ylabel(r"$\|y - f_l\|_2^2$ (mean over $l$) and $L_k$")
    ax.set_yscale("log")
    shown = cells[cells["xi"] < 1]
    if trace is None or trace.empty or shown.empty:
        ax.text(0.5, 0.5, "no local-step trace recorded", transform=ax.transAxes, ha="center", va="center")
        return
    paths = {}
    for _, c in shown.iterrows():
        tr = trace[trace["cell"] == c["cell"]]
        if tr.empty:
            continue
        tau = int(c["tau"])
        rounds = int(min(math.ceil(STEPS_SHOWN / tau), tr["round"].max() + 1))
        x, P = _seed_paths(trajectories[trajectories["cell"] == c["cell"]], tr, tau, rounds)
        mean = _nanstat(P, np.nanmean)
        col = colors[float(c["xi"])]
        ax.fill_between(x, _nanstat(P, np.nanmin), _nanstat(P, np.nanmax), color=col, alpha=0.18, lw=0)
        ax.plot(x, mean, color=col, lw=0.9)
        agg = np.arange(tau + 2, len(x), tau + 2)  # (k+1) tau: L_{k+1} after aggregation
        ax.plot(x[agg], mean[agg], "o", color=col, ms=1.8, zorder=3)
        paths[float(c["xi"])] = (x, mean, tau)
    if not paths:
        ax.text(0.5, 0.5, "no local-step trace recorded", transform=ax.transAxes, ha="center", va="center")
        return
    xmax = max(min(STEPS_SHOWN, x[-1]) for x, _, _ in paths.values())
    ax.set_xlim(0, xmax)
    _annotate_phases(ax, paths)


def _annotate_phases(ax, paths) -> bool:
    """Name the three phases of one round on one curve (the xi nearest 0.5 whose round is
    finite), with the labels in a band of head room above the curves; False if no curve has
    a complete round to point at."""
    ys = np.concatenate([y[np.isfinite(y)] for _, y, _ in paths.values()])
    if ys.size == 0:
        return False
    lo, hi = ys.min(), ys.max()
    span = max(math.log10(hi / lo), 1.0)
    ax.set_ylim(lo / 10 ** (0.05 * span), hi * 10 ** (0.5 * span))  # the top ~30% is for labels
    xmax = ax.get_xlim()[1]
    for xi in sorted(paths, key=lambda v: (abs(v - 0.5), v)):
        x, y, tau = paths[xi]
        # each round occupies tau + 2 points: (k tau, L_k), then L_surrogate(k, 0..tau)
        n_rounds = (len(x) - 1) // (tau + 2)
        for k in sorted(range(1, n_rounds - 1), key=lambda r: abs((r + 1) * tau - 0.35 * xmax)):
            base = k * (tau + 2)
            mid = base + 1 + max(1, tau // 2)  # a local step inside round k
            agg = base + tau + 2  # x = (k+1) tau: L_{k+1}
            new = agg + 1  # x = (k+1) tau: L_surrogate(k+1, 0)
            if np.all(np.isfinite(y[[mid, agg, new, agg - 1]])):
                _phase_labels(ax, x, y, (mid, agg, new), xmax)
                return True
    return False


def _phase_labels(ax, x, y, points, xmax) -> None:
    """Numbers 1-3 at the three phases of one round, explained by a key in the head room."""
    mid, agg, new = points
    box = {"boxstyle": "circle,pad=0.15", "fc": "white", "ec": "0.2", "lw": 0.6}
    kw = {"fontsize": 6, "textcoords": "offset points", "ha": "center", "va": "center", "bbox": box, "zorder": 6}
    ax.annotate("1", (x[mid], y[mid]), xytext=(-6, -7), **kw)
    ax.annotate("2", (x[agg], y[agg]), xytext=(-7, 0), **kw)
    ax.annotate("3", (x[new], y[new]), xytext=(-6, 6), **kw)
    ax.plot([x[agg], x[new]], [y[agg], y[new]], "o", color="k", ms=2.5, zorder=5)
    agg_word = "drop" if y[agg] < y[agg - 1] else "rise"
    key = (
        "(1) local GD steps: smooth decrease\n"
        f"(2) aggregation: {agg_word} to $L_{{k+1}}$ (dots)\n"
        "(3) new masks sampled: rise"
    )
    ax.text(0.98, 0.97, key, transform=ax.transAxes, ha="right", va="top", fontsize=6.5, linespacing=1.35)


@common.draws_shown_level
def draw(runs: pd.DataFrame, trajectories: pd.DataFrame, trace: pd.DataFrame, pdf, png) -> None:
    """Draw ``fig_dynamics`` from the dynamics experiment's tables and save it as PDF and PNG."""
    import matplotlib.pyplot as plt

    style.apply_style()
    values = ("plateau", "L0", "plateau_predicted") if "plateau_predicted" in runs else ("plateau", "L0")
    cells = common.cell_summary(runs, values=values, constants=("theta", "lambda0", "B1"))
    if "B1" not in cells:
        cells["B1"] = math.nan
    cells = cells.sort_values("xi").reset_index(drop=True)
    colors = common.value_colors(cells["xi"])

    fig = plt.figure(figsize=(style.TWO_COLUMNS, 3.0))
    gs = fig.add_gridspec(1, 2, width_ratios=[1.0, 1.0])
    _panel_rounds(fig, gs[0], cells, trajectories, colors)
    ax_b = fig.add_subplot(gs[1])
    _panel_steps(ax_b, cells, trajectories, trace, colors)

    # legend: the xi colours in the first column, the line styles in the second
    blank = Line2D([], [], lw=0)
    col_xi = [(Line2D([], [], color=colors[float(c["xi"])], lw=1.6), _legend_label(c)) for _, c in cells.iterrows()]
    col_style = [
        (
            (Patch(color="0.5", alpha=0.3, lw=0), Line2D([], [], color="0.2", lw=1.3)),
            "measured: mean over seeds, band: min-max",
        ),
        (Line2D([], [], color="0.2", ls="--", lw=1.2), r"Theorem 3: $(1-\eta\theta\tau\lambda_0/4)^k L_0 + B_1$"),
        (
            Line2D([], [], color="0.2", ls=":", lw=1.2),
            r"rate only: $(1-\eta\theta\tau\lambda_0/4)^k L_0$ + measured plateau",
        ),
        *(
            [(Line2D([], [], color="0.2", ls="-.", lw=0.9), "plateau predicted from the initialisation")]
            if "plateau_predicted" in runs
            else []
        ),
    ]
    rows = max(len(col_xi), len(col_style))
    entries = [*col_xi, *[(blank, "")] * (rows - len(col_xi)), *col_style, *[(blank, "")] * (rows - len(col_style))]
    fig.legend(
        [h for h, _ in entries],
        [lab for _, lab in entries],
        loc="outside lower center",
        ncol=2,
        columnspacing=2.5,
        handlelength=2.2,
    )
    style.save(fig, pdf, png, name=__name__)
