"""Helpers shared by the figure modules: statistics over seeds per grid cell, number
formatting for labels, colours per value, and annotations of values that lie off the axes.

A *cell* is one grid point of an experiment (one row per seed in ``runs.csv``).  Every
statistic over seeds uses only the finite values (a diverged seed has NaN measurements):
mean, standard error s.e. = std(ddof = 1) / sqrt(count), min and max
(:func:`maskedntk.studies.masked.metrics.seed_stats`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from maskedntk.core import figures as style
from maskedntk.studies.masked.metrics import seed_stats

#: symbols used on axes (mathtext)
LABEL_L = r"$L_k = \|y - u_k\|_2^2$"
LABEL_PLATEAU = r"plateau of $L_k$ (error neighbourhood)"
SYM = {"xi": r"$\xi$", "p": r"$p$", "tau": r"$\tau$", "m": r"$m$", "k": r"round $k$", "kappa": r"$\kappa$"}
#: columns that identify a cell's configuration (constant over its seeds)
CONFIG_COLUMNS = ("experiment", "cell", "mask", "p", "xi", "tau", "m", "kappa", "rounds", "n", "d", "eta")


def as_bool(series: pd.Series) -> pd.Series:
    """A column of booleans read from CSV (bool, 0/1, 'True'/'False'; NaN -> False)."""
    if series.dtype == bool:
        return series
    if pd.api.types.is_numeric_dtype(series):
        return series.fillna(0).astype(float) != 0
    return series.astype(str).str.strip().str.lower().isin({"true", "1", "1.0", "yes"})


def cell_summary(runs: pd.DataFrame, values=("plateau",), constants=()) -> pd.DataFrame:
    """One row per cell: its configuration, and for each column v in ``values`` the seed
    statistics ``v_mean``, ``v_se``, ``v_min``, ``v_max`` and ``v_count`` (finite values only).

    Also ``n_seeds``, ``n_diverged`` and ``n_stationary`` (from the ``diverged`` and
    ``stationary`` flags when present).  ``constants`` are further per-cell columns to carry
    (the first seed's value; e.g. theory columns, identical over seeds).  Rows keep the order
    of first appearance of the cells.
    """
    keep = [c for c in dict.fromkeys((*CONFIG_COLUMNS, *constants)) if c in runs.columns]
    rows = []
    for _, g in runs.groupby("cell", sort=False):
        row = {c: g[c].iloc[0] for c in keep}
        for v in values:
            x = pd.to_numeric(g[v], errors="coerce").to_numpy(dtype=np.float64) if v in g else np.array([])
            st = seed_stats(x)
            fin = x[np.isfinite(x)]
            row.update(
                {
                    f"{v}_mean": st["mean"],
                    f"{v}_se": st["se"],
                    f"{v}_count": st["count"],
                    f"{v}_min": float(fin.min()) if fin.size else math.nan,
                    f"{v}_max": float(fin.max()) if fin.size else math.nan,
                }
            )
        row["n_seeds"] = len(g)
        row["n_diverged"] = int(as_bool(g["diverged"]).sum()) if "diverged" in g else 0
        row["n_stationary"] = int(as_bool(g["stationary"]).sum()) if "stationary" in g else len(g)
        rows.append(row)
    return pd.DataFrame(rows)


def round_band(traj: pd.DataFrame, value: str = "L") -> pd.DataFrame:
    """Per round: mean, min and max of ``value`` over the seeds with a finite value, and the
    count of such seeds (columns round, mean, min, max, count).  Non-finite values (after a
    divergence) are left out, so the statistics are over the seeds still running."""
    t = traj[["round", value]].copy()
    t[value] = pd.to_numeric(t[value], errors="coerce").where(lambda s: np.isfinite(s))
    g = t.groupby("round")[value]
    out = pd.DataFrame({"mean": g.mean(), "min": g.min(), "max": g.max(), "count": g.count()})
    return out.reset_index().sort_values("round")


def value_colors(values, n_colors: int | None = None) -> dict:
    """A colour-blind-safe colour (style.palette) for each distinct value, in sorted order."""
    vals = sorted({float(v) for v in values})
    pal = style.palette(max(n_colors or len(vals), 1))
    return {v: pal[i % len(pal)] for i, v in enumerate(vals)}


def mark_off_scale(
    ax, x: float, text: str, color, *, where: str = "top", side: str = "left", fontsize: float = 6.5
) -> None:
    """An arrow at the top (or bottom) edge of ``ax`` at data-x ``x`` that points off the
    axes, with ``text`` on its ``side`` ('left' or 'right'): for a value too large (small) to
    draw on this axis."""
    y0, y1 = (0.88, 0.995) if where == "top" else (0.12, 0.005)
    ax.annotate(
        "",
        xy=(x, y1),
        xytext=(x, y0),
        xycoords=("data", "axes fraction"),
        textcoords=("data", "axes fraction"),
        arrowprops={"arrowstyle": "-|>", "color": color, "lw": 0.9, "mutation_scale": 7},
        annotation_clip=False,
    )
    ax.annotate(
        text,
        xy=(x, y0),
        xycoords=("data", "axes fraction"),
        xytext=(-3, 0) if side == "left" else (3, 0),
        textcoords="offset points",
        ha="right" if side == "left" else "left",
        va="center",
        color=color,
        fontsize=fontsize,
        linespacing=1.1,
        annotation_clip=False,
    )


def broken_log_axes(fig, spec, height_ratios=(1.2, 3.0), **kw):
    """Two stacked axes in ``spec`` (a gridspec slot) sharing x, for a log y axis broken
    between values far apart: returns (ax_upper, ax_lower).  Call :func:`break_marks` once
    both are drawn."""
    sub = spec.subgridspec(2, 1, height_ratios=list(height_ratios), hspace=0.0)
    ax_upper = fig.add_subplot(sub[0], **kw)
    ax_lower = fig.add_subplot(sub[1], sharex=ax_upper)
    ax_upper.set_yscale("log")
    ax_lower.set_yscale("log")
    return ax_upper, ax_lower


def decade_ticks(ax, lo: float, hi: float, max_ticks: int = 4, head: float = 0.0) -> None:
    """Set a log y range [lo, hi] padded to whole decades, with at most ``max_ticks``
    labelled decades and no minor ticks (for a short strip of a broken axis); ``head`` adds
    that fraction of the range as unlabelled room on top (for a label)."""
    from matplotlib.ticker import FixedLocator, NullLocator

    lo_e = math.floor(math.log10(lo) - 0.3)
    hi_e = math.ceil(math.log10(hi) + 0.3)
    ax.set_ylim(10.0**lo_e, 10.0 ** (hi_e + head * (hi_e - lo_e)))
    step = max(1, math.ceil((hi_e - lo_e) / (max_ticks - 1)))
    ax.yaxis.set_major_locator(FixedLocator([10.0**e for e in range(lo_e, hi_e + 1, step)]))
    ax.yaxis.set_minor_locator(NullLocator())


def decade_ylim(ax) -> None:
    """Widen a log y range to whole decades (at least one full decade), so that the major
    ticks carry the labels; minor ticks stay unlabelled."""
    from matplotlib.ticker import NullFormatter

    lo, hi = ax.get_ylim()
    if not (lo > 0 and hi > 0):
        return
    lo_e, hi_e = math.floor(math.log10(lo) + 1e-9), math.ceil(math.log10(hi) - 1e-9)
    if hi_e - lo_e < 1:
        hi_e = lo_e + 1
    ax.set_ylim(10.0**lo_e, 10.0**hi_e)
    ax.yaxis.set_minor_formatter(NullFormatter())


def loglog_slope(x, y) -> tuple[float, float]:
    """Least-squares slope of log y against log x and its standard error (NaN with < 3
    points); NaN slope with < 2 finite positive points."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return math.nan, math.nan
    lx, ly = np.log(x[ok]), np.log(y[ok])
    slope, icpt = np.polyfit(lx, ly, 1)
    if ok.sum() < 3:
        return float(slope), math.nan
    resid = ly - (slope * lx + icpt)
    s2 = float(resid @ resid) / (ok.sum() - 2)
    se = math.sqrt(s2 / float(((lx - lx.mean()) ** 2).sum()))
    return float(slope), se


def break_marks(ax_upper, ax_lower, size: float = 0.012) -> None:
    """Diagonal '//' marks on the left spines where a broken y axis is cut between
    ``ax_upper`` and ``ax_lower`` (both axes keep only their facing spines hidden)."""
    ax_upper.spines["bottom"].set_visible(False)
    ax_lower.spines["top"].set_visible(False)
    ax_upper.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for ax, y in ((ax_upper, 0.0), (ax_lower, 1.0)):
        h = ax.get_position().height or 1.0
        w = ax.get_position().width or 1.0
        dy = size * w / h * 2.0
        ax.plot(
            [-size, size],
            [y - dy, y + dy],
            transform=ax.transAxes,
            color="k",
            lw=0.6,
            clip_on=False,
        )


def shown_level(runs: pd.DataFrame) -> pd.DataFrame:
    """The level each run's marker shows: its plateau when it is stationary, else the mean of
    its stationarity window (``window_mean``), which the figures draw as "not stationary"
    (open markers, dots): the level reached, not an error neighbourhood."""
    if "window_mean" not in runs or "plateau" not in runs:
        return runs
    level = runs["plateau"].astype(float).fillna(runs["window_mean"].astype(float))
    if "diverged" in runs:
        level = level.where(~as_bool(runs["diverged"]))
    return runs.assign(plateau=level)


def draws_shown_level(draw):
    """Decorator of a figure's ``draw(runs, ...)``: the runs' plateau column becomes
    :func:`shown_level` before drawing."""

    @functools.wraps(draw)
    def wrapped(runs, *args, **kwargs):
        return draw(shown_level(runs), *args, **kwargs)

    return wrapped


def runs_of_mask(runs: pd.DataFrame, mask: str) -> pd.DataFrame:
    """The runs with ``mask`` masks (all runs when the table has no mask column); a figure
    with nothing to draw is an error that says so."""
    runs = runs.loc[runs["mask"] == mask] if "mask" in runs else runs
    if runs.empty:
        raise ValueError(f"no {mask}-mask runs to draw")
    return runs
