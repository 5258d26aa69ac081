"""Runs tables shaped into grids: one row per (cell, seed) of ``runs.csv`` becomes a
rows x columns grid of cell values, with the flags that say what happened in each cell.

* :func:`cell_grid` pivots a column to a grid of the mean over seeds (finite values only, so a
  diverged seed, whose plateau is NaN, never poisons the mean);
* :func:`cell_flags` marks each grid cell as *diverged* (some seed diverged), *unconverged*
  (some non-diverged seed failed the stationarity test, ``stationary`` False) or missing;
* :func:`normalise` and :func:`reference_cell` give the "divided by its value at a reference
  cell" views that put measurement and theory on one dimensionless scale.

Drawing lives in :mod:`.grids`, the figures' notes in :mod:`.notes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from maskedntk.studies.masked.metrics import seed_stats

from .common import as_bool

# ----------------------------------------------------------------------------------------
# tables -> grids
# ----------------------------------------------------------------------------------------


def select(runs: pd.DataFrame, **equal) -> pd.DataFrame:
    """Rows of ``runs`` whose columns equal the given values (floats compared with a tolerance)."""
    keep = np.ones(len(runs), dtype=bool)
    for col, val in equal.items():
        v = runs[col]
        if isinstance(val, float) and pd.api.types.is_numeric_dtype(v):
            keep &= np.isclose(v.to_numpy(dtype=float), val, rtol=0, atol=1e-9)
        else:
            keep &= (v == val).to_numpy()
    return runs.loc[keep]


def _axis_values(runs: pd.DataFrame, col: str, values=None) -> list:
    if values is not None:
        return list(values)
    vals = runs[col].dropna().unique().tolist()
    return sorted({round(v, 10) if isinstance(v, float) else v for v in vals})


def _key(runs: pd.DataFrame, col: str) -> pd.Series:
    v = runs[col]
    return v.round(10) if pd.api.types.is_float_dtype(v) else v


def cell_grid(
    runs: pd.DataFrame, value: str, rows: str, cols: str, *, row_values=None, col_values=None
) -> pd.DataFrame:
    """Grid (index = ``rows`` values ascending, columns = ``cols`` values ascending) of the mean
    over seeds of ``value``; non-finite values (diverged seeds) are left out of the mean, and a
    cell with no finite value, or a grid point with no rows at all, is NaN.

    ``row_values`` / ``col_values`` fix the axes (e.g. to the configured grid, so a missing
    point shows as a gap instead of vanishing)."""
    r = _axis_values(runs, rows, row_values)
    c = _axis_values(runs, cols, col_values)
    v = pd.to_numeric(runs[value], errors="coerce").astype(float)
    v = v.where(np.isfinite(v))
    df = pd.DataFrame({"r": _key(runs, rows), "c": _key(runs, cols), "v": v})
    grid = df.groupby(["r", "c"])["v"].mean().unstack("c")
    grid = grid.reindex(index=r, columns=c)
    grid.index.name, grid.columns.name = rows, cols
    return grid.astype(float)


@dataclass(frozen=True)
class CellFlags:
    """Boolean grids (same shape as :func:`cell_grid`) of what happened in each cell.

    diverged : at least one seed diverged (``diverged`` True or a non-finite plateau).
    all_diverged : every seed diverged (the cell has no finite plateau).
    unconverged : at least one seed that did not diverge failed the stationarity check.
    missing : no row at all for this grid point.
    """

    diverged: pd.DataFrame
    all_diverged: pd.DataFrame
    unconverged: pd.DataFrame
    missing: pd.DataFrame

    @property
    def any_diverged(self) -> bool:
        return bool(self.diverged.to_numpy().any())

    @property
    def any_unconverged(self) -> bool:
        return bool(self.unconverged.to_numpy().any())

    @property
    def any_missing(self) -> bool:
        return bool(self.missing.to_numpy().any())


def cell_flags(
    runs: pd.DataFrame, rows: str, cols: str, *, value: str = "plateau", row_values=None, col_values=None
) -> CellFlags:
    """Mark the grid cells with a diverged seed, an unconverged (non-stationary) seed, or no data."""
    r = _axis_values(runs, rows, row_values)
    c = _axis_values(runs, cols, col_values)
    v = pd.to_numeric(runs[value], errors="coerce").astype(float)
    div = (as_bool(runs["diverged"]) if "diverged" in runs else pd.Series(False, index=runs.index)) | ~np.isfinite(v)
    conv = as_bool(runs["stationary"]) if "stationary" in runs else pd.Series(True, index=runs.index)
    df = pd.DataFrame({"r": _key(runs, rows), "c": _key(runs, cols), "div": div, "unconv": ~conv & ~div, "one": 1})
    g = df.groupby(["r", "c"])

    def grid(s: pd.Series, fill) -> pd.DataFrame:
        out = s.unstack("c").reindex(index=r, columns=c)
        out.index.name, out.columns.name = rows, cols
        return out.fillna(fill).astype(bool)

    n = g["one"].sum().unstack("c").reindex(index=r, columns=c).fillna(0)
    return CellFlags(
        diverged=grid(g["div"].any(), False),
        all_diverged=grid(g["div"].all(), False),
        unconverged=grid(g["unconv"].any(), False),
        missing=pd.DataFrame(n.to_numpy() == 0, index=n.index, columns=n.columns),
    )


def seed_summary(runs: pd.DataFrame, value: str, by: Sequence[str]) -> pd.DataFrame:
    """mean, s.e. (over the finite seeds) and count of ``value`` per group of ``by``, plus the
    number of seeds that diverged and that did not converge, sorted by ``by``."""
    rows = []
    for key, g in runs.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        st = seed_stats(pd.to_numeric(g[value], errors="coerce").to_numpy(dtype=float))
        div = as_bool(g["diverged"]) if "diverged" in g else pd.Series(False, index=g.index)
        conv = as_bool(g["stationary"]) if "stationary" in g else pd.Series(True, index=g.index)
        rows.append(
            dict(
                zip(by, key, strict=True),
                mean=st["mean"],
                se=st["se"],
                count=st["count"],
                seeds=len(g),
                diverged=int(div.sum()),
                unconverged=int((~conv & ~div).sum()),
            )
        )
    return pd.DataFrame(rows, columns=[*by, "mean", "se", "count", "seeds", "diverged", "unconverged"])


def where_or_all(grid: pd.DataFrame, keep: pd.DataFrame) -> pd.DataFrame:
    """``grid`` where ``keep`` (NaN elsewhere), or all of ``grid`` when that leaves no finite
    value: used to set a colour range from the cells where the theory term is positive."""
    sub = grid.where(keep)
    return sub if np.isfinite(sub.to_numpy(dtype=float)).any() else grid


def normalise(grid: pd.DataFrame, ref) -> pd.DataFrame:
    """``grid`` divided by its value at the reference cell ``ref = (row, col)`` (zeros stay 0)."""
    r0 = grid.loc[ref[0], ref[1]]
    if not (np.isfinite(r0) and r0 > 0):
        raise ValueError(f"reference cell {ref} has no positive finite value ({r0})")
    return grid / r0


def reference_cell(grids: Sequence[pd.DataFrame], preferred) -> tuple:
    """The cell nearest ``preferred = (row, col)`` (in grid steps, then row, then column) where
    every grid has a positive finite value; ``preferred`` itself when it qualifies."""
    g0 = grids[0]
    ok = np.ones(g0.shape, dtype=bool)
    for g in grids:
        a = g.reindex(index=g0.index, columns=g0.columns).to_numpy(dtype=float)
        ok &= np.isfinite(a) & (a > 0)
    if not ok.any():
        raise ValueError("no cell is positive and finite in every grid")
    rows, cols = list(g0.index), list(g0.columns)

    def pos(values, v):
        arr = np.asarray(values, dtype=float)
        return float(np.argmin(np.abs(arr - float(v))))

    pr, pc = pos(rows, preferred[0]), pos(cols, preferred[1])
    exact_r = np.isclose(np.asarray(rows, dtype=float), float(preferred[0])).any()
    exact_c = np.isclose(np.asarray(cols, dtype=float), float(preferred[1])).any()
    best = None
    for i, j in zip(*np.nonzero(ok), strict=True):
        # distance in grid steps; a preferred value between grid points counts half a step
        dist = abs(i - pr) + (0 if exact_r else 0.5) + abs(j - pc) + (0 if exact_c else 0.5)
        cand = (dist, i, j)
        best = cand if best is None or cand < best else best
    return rows[best[1]], cols[best[2]]
