"""Drawing the grid figures (heatmaps over p x xi, p x tau): colour scales, annotated grids,
colour bars and the legend entries of their marks.  The grids themselves come from
:mod:`.grid_data`.

* :func:`zero_log_norm` and :func:`ratio_norm` are log colour scales that ignore exact zeros
  (B1 at xi = 1, the Theorem 7 error at p = 1), which :func:`cell_colors` paints in their own
  colour, so a zero never reaches a logarithm;
* :func:`draw_grid` draws an annotated grid with the marks, and :func:`mark_handles` the
  legend entries that explain them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib import patches
from matplotlib.cm import ScalarMappable
from matplotlib.lines import Line2D

from maskedntk.core.numbers import fmt_compact, format_value

from .grid_data import CellFlags

#: colour of cells whose value is exactly 0 (not on any log colour map used here)
ZERO_COLOR = "#d9d9d9"
#: colour of grid points without data
MISSING_COLOR = "#ffffff"
#: hatch of cells where a seed diverged
DIVERGED_HATCH = "xxxx"
#: text of cells whose seeds all diverged (no finite value)
DIVERGED_TEXT = "div"


# ----------------------------------------------------------------------------------------
# colour scales
# ----------------------------------------------------------------------------------------


def _positive(values) -> np.ndarray:
    a = np.concatenate([np.asarray(v, dtype=float).ravel() for v in values]) if len(values) else np.array([])
    return a[np.isfinite(a) & (a > 0)]


@dataclass(frozen=True)
class LogScale:
    """A log colour scale for positive values; zeros and NaNs are painted separately.

    extend: 'neither' | 'min' | 'max' | 'both', where values fall outside [vmin, vmax]."""

    norm: mcolors.LogNorm
    extend: str


def _extend(pos: np.ndarray, vmin: float, vmax: float) -> str:
    lo = bool(pos.size and pos.min() < vmin * (1 - 1e-9))
    hi = bool(pos.size and pos.max() > vmax * (1 + 1e-9))
    return {(False, False): "neither", (True, False): "min", (False, True): "max", (True, True): "both"}[(lo, hi)]


def zero_log_norm(*values, max_decades: float | None = None, vmin=None, vmax=None, also=()) -> LogScale:
    """A log norm spanning the positive finite entries of ``values`` (zeros and NaN ignored).

    ``max_decades`` caps the range below the maximum (values below are clipped to the lowest
    colour, shown by the colour bar's 'min' extension); a constant or empty input gets one
    decade around its value (or [0.1, 1]).  Arrays in ``also`` are drawn on the same scale but
    do not set its range; they only decide whether the colour bar shows clipping."""
    pos = _positive(values)
    hi = float(vmax) if vmax is not None else (float(pos.max()) if pos.size else 1.0)
    lo = float(vmin) if vmin is not None else (float(pos.min()) if pos.size else hi / 10)
    if max_decades is not None and vmin is None:
        lo = max(lo, hi * 10.0 ** (-max_decades))
    if not lo < hi:
        lo, hi = lo / math.sqrt(10), hi * math.sqrt(10)
    every = np.concatenate([pos, _positive(list(also))]) if len(also) else pos
    return LogScale(mcolors.LogNorm(vmin=lo, vmax=hi, clip=False), _extend(every, lo, hi))


def ratio_norm(*values, max_decades: float = 3.0, min_decades: float = 0.5, also=()) -> LogScale:
    """A log norm symmetric about 1 (vmin = 1/R, vmax = R) for ratios to a reference cell: R
    covers the largest |log10| of the positive finite entries, at least ``min_decades`` and at
    most ``max_decades`` (beyond which colours saturate).  Arrays in ``also`` are drawn on the
    same scale but do not set R; they only decide whether the colour bar shows clipping."""
    pos = _positive(values)
    dec = float(np.max(np.abs(np.log10(pos)))) if pos.size else min_decades
    dec = min(max(dec, min_decades), max_decades)
    R = 10.0**dec
    every = np.concatenate([pos, _positive(list(also))]) if len(also) else pos
    return LogScale(mcolors.LogNorm(vmin=1 / R, vmax=R, clip=False), _extend(every, 1 / R, R))


def cell_colors(values, norm, cmap, *, zero_color=ZERO_COLOR, missing_color=MISSING_COLOR) -> np.ndarray:
    """RGBA colours of a 2-d array: positive finite values through ``norm`` and ``cmap``
    (clipped to the map's ends), exact zeros ``zero_color``, NaN / inf ``missing_color``.
    Negative values are treated as missing on a log norm."""
    a = np.asarray(values, dtype=float)
    out = np.empty(a.shape + (4,))
    out[...] = mcolors.to_rgba(missing_color)
    finite = np.isfinite(a)
    log = isinstance(norm, mcolors.LogNorm)
    ok = finite & (a > 0) if log else finite
    if ok.any():
        t = np.clip(np.asarray(norm(np.where(ok, a, 1.0 if log else 0.0)), dtype=float), 0.0, 1.0)
        out[ok] = cmap(t[ok])
    out[finite & (a == 0)] = mcolors.to_rgba(zero_color)
    return out


def text_color(rgba) -> str:
    """Black or white, whichever reads better on ``rgba`` (relative luminance)."""
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in mcolors.to_rgb(rgba))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.25 else "white"


# ----------------------------------------------------------------------------------------
# drawing
# ----------------------------------------------------------------------------------------


def draw_grid(
    ax,
    grid: pd.DataFrame,
    scale: LogScale | mcolors.Normalize,
    cmap,
    *,
    flags: CellFlags | None = None,
    annotate: bool = True,
    fmt=fmt_compact,
    fontsize: float = 5.5,
    xtick_size: float | None = None,
    ref=None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    zero_color: str = ZERO_COLOR,
    missing_color: str = MISSING_COLOR,
) -> ScalarMappable:
    """Draw ``grid`` as an annotated heatmap on ``ax``, first row at the bottom (rows grow up).

    Cells where a seed diverged are hatched (and read ``div`` when no seed stayed finite);
    cells with an unconverged seed get a small dot in the upper-right corner; exact zeros are
    ``zero_color`` with the text '0'; grid points without data (and, when no ``flags`` are
    given, NaN values) are left blank with '–'; the
    reference cell ``ref = (row, col)`` is outlined.  Returns a ScalarMappable for a colour bar.
    """
    norm = scale.norm if isinstance(scale, LogScale) else scale
    a = grid.to_numpy(dtype=float)
    rgba = cell_colors(a, norm, cmap, zero_color=zero_color, missing_color=missing_color)
    nr, nc = a.shape
    ax.imshow(rgba, origin="lower", aspect="auto", interpolation="nearest", extent=(-0.5, nc - 0.5, -0.5, nr - 0.5))
    ax.set_xticks(range(nc), [format_value(v) for v in grid.columns])
    ax.set_yticks(range(nr), [format_value(v) for v in grid.index])
    ax.tick_params(length=0, pad=1.5)
    if xtick_size is not None:
        ax.tick_params(axis="both", labelsize=xtick_size)
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_xlim(-0.5, nc - 0.5)
    ax.set_ylim(-0.5, nr - 0.5)
    if xlabel:
        ax.set_xlabel(xlabel, labelpad=1)
    if ylabel:
        ax.set_ylabel(ylabel, labelpad=1)
    missing = flags.missing.to_numpy() if flags is not None else np.zeros(a.shape, dtype=bool)
    for i in range(nr):
        for j in range(nc):
            tc = text_color(rgba[i, j])
            marks = flags is not None and not missing[i, j]  # no marks on a point without data
            if marks and flags.diverged.iat[i, j]:
                ax.add_patch(
                    patches.Rectangle(
                        (j - 0.5, i - 0.5), 1, 1, fill=False, hatch=DIVERGED_HATCH, lw=0, ec=tc, alpha=0.55
                    )
                )
            if marks and flags.unconverged.iat[i, j] and not flags.diverged.iat[i, j]:
                ax.plot(j + 0.39, i + 0.33, "o", ms=1.4, mew=0, color=tc, zorder=3, in_layout=False)
            if not annotate:
                continue
            if missing[i, j] or (flags is None and not np.isfinite(a[i, j])):
                text = "–"
                tc = "0.45"
            elif flags is not None and flags.all_diverged.iat[i, j]:
                text = DIVERGED_TEXT
            else:
                text = fmt(a[i, j])
            if text:
                # inside the axes: leave it out of the layout and tight-bbox passes (much faster)
                ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, color=tc, zorder=4, in_layout=False)
    if ref is not None:
        i = _index_of(grid.index, ref[0])
        j = _index_of(grid.columns, ref[1])
        ax.add_patch(patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.1, ec="black", zorder=5))
    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array([])
    return sm


def _index_of(values, v) -> int:
    arr = np.asarray(list(values), dtype=float)
    return int(np.argmin(np.abs(arr - float(v))))


def log_ticks(vmin: float, vmax: float, max_ticks: int = 6) -> tuple[list[float], list[str]]:
    """Ticks and labels of a log colour bar: whole decades (every 2nd, 3rd ... when there are
    many) labelled 10^k, or 1-2-5 steps with compact labels when the range spans < 1 decade."""
    lo, hi = math.log10(vmin), math.log10(vmax)
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 2:
        step = math.ceil(len(decades) / max_ticks)
        # keep 10^0 when it is in range (the reference value of ratio scales)
        anchor = 0 if 0 in decades else decades[0]
        decades = [k for k in decades if (k - anchor) % step == 0]
        return [10.0**k for k in decades], [rf"$10^{{{k}}}$" for k in decades]
    ticks = [
        m * 10.0**k
        for k in range(math.floor(lo) - 1, math.ceil(hi) + 1)
        for m in (1, 2, 5)
        if vmin * (1 - 1e-9) <= m * 10.0**k <= vmax * (1 + 1e-9)
    ]
    if len(ticks) < 2:
        ticks = [vmin, math.sqrt(vmin * vmax), vmax]
    return ticks, [fmt_compact(t) for t in ticks]


def colorbar(fig, sm, axes, label: str, *, scale=None, location: str = "right", **kw):
    """A slim colour bar beside ``axes`` (one axes or a list) with the extension arrows that
    ``scale`` (a :class:`LogScale`) asks for and decade ticks on log scales."""
    extend = scale.extend if isinstance(scale, LogScale) else "neither"
    horizontal = location in ("top", "bottom")
    opts = dict(
        location=location,
        fraction=0.06 if horizontal else 0.05,
        pad=0.03 if horizontal else 0.02,
        aspect=28 if horizontal else 20,
        extend=extend,
        extendfrac=0.04,
    )
    opts.update(kw)
    cb = fig.colorbar(sm, ax=axes, **opts)
    if isinstance(sm.norm, mcolors.LogNorm):
        ticks, labels = log_ticks(sm.norm.vmin, sm.norm.vmax)
        cb.set_ticks(ticks, labels=labels)
        cb.ax.minorticks_off()
    cb.set_label(label, labelpad=2)
    cb.ax.tick_params(labelsize=6, length=2, width=0.5, pad=1)
    cb.outline.set_linewidth(0.4)
    return cb


def row_major(handles: list, ncols: int) -> list:
    """Reorder legend handles so a legend with ``ncols`` columns (which matplotlib fills column
    by column) reads row by row in the given order; empty slots become blank entries."""
    nrows = -(-len(handles) // ncols)
    blank = patches.Patch(fc="none", ec="none", label=" ")
    padded = list(handles) + [blank] * (nrows * ncols - len(handles))
    return [padded[r * ncols + c] for c in range(ncols) for r in range(nrows)]


def legend_and_note(fig, handles, note: str | None = None, *, ncols: int | None = None, fontsize: float = 6.5):
    """A legend below all axes, placed by the layout engine, whose title is ``note`` (small
    grey type, lines split by the caller), so legend and note never overlap the panels.
    With ``ncols`` the handles are laid out row by row (see :func:`row_major`)."""
    if not handles and not note:
        return None
    handles = list(handles or [])
    ncols = max(1, min(ncols or len(handles) or 1, len(handles) or 1))
    if handles and ncols < len(handles):
        handles = row_major(handles, ncols)
    leg = fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=ncols,
        frameon=False,
        handlelength=1.4,
        columnspacing=1.2,
        fontsize=fontsize,
        title=note,
        title_fontsize=fontsize - 0.5,
    )
    leg.get_title().set_color("0.3")
    leg.get_title().set_multialignment("center")
    return leg


def mark_handles(*, zero: bool = False, diverged: bool = True, unconverged: bool = True, missing=False, ref=None):
    """Legend handles explaining the cell marks of :func:`draw_grid` (only those asked for)."""
    h = []
    if zero:
        h.append(patches.Patch(fc=ZERO_COLOR, ec="0.5", lw=0.4, label="exactly 0"))
    if diverged:
        h.append(patches.Patch(fc="white", ec="0.3", lw=0.4, hatch=DIVERGED_HATCH, label="a seed diverged"))
    if unconverged:
        h.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                ms=2.5,
                mew=0,
                color="black",
                label="a seed not stationary after max_rounds (level reached shown)",
            )
        )
    if missing:
        h.append(patches.Patch(fc=MISSING_COLOR, ec="0.5", lw=0.4, label="not run"))
    if ref is not None:
        h.append(patches.Patch(fc="none", ec="black", lw=1.1, label=ref))
    return h
