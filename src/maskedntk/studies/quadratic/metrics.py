"""Measurements computed from the recorded trajectories (used by claims and figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def loglog_slope(t, L, window) -> float:
    """OLS slope of log L against log t over t in [window[0], window[1]] (the exponent p of
    L ~ t^p); NaN with fewer than 3 points or non-positive values."""
    t, L = np.asarray(t, float), np.asarray(L, float)
    keep = (t >= window[0]) & (t <= window[1]) & (L > 0) & np.isfinite(L)
    if keep.sum() < 3:
        return np.nan
    return float(np.polyfit(np.log(t[keep]), np.log(L[keep]), 1)[0])


def linear_slope(x, y, window) -> float:
    """OLS slope of y against x over x in [window[0], window[1]] (the late slope of phi against
    gamma); NaN with fewer than 3 finite points."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = (x >= window[0]) & (x <= window[1]) & np.isfinite(y)
    if keep.sum() < 3:
        return np.nan
    return float(np.polyfit(x[keep], y[keep], 1)[0])


def exp_rate(t, L, loss_window) -> float:
    """-(OLS slope of log L against t) over the points with L in [loss_window[0], loss_window[1]]
    (the rate r of L ~ e^{-r t}); NaN with fewer than 3 points."""
    t, L = np.asarray(t, float), np.asarray(L, float)
    keep = (L >= loss_window[0]) & (L <= loss_window[1]) & np.isfinite(L)
    if keep.sum() < 3:
        return np.nan
    return float(-np.polyfit(t[keep], np.log(L[keep]), 1)[0])


def sup_distance(run: pd.DataFrame, limit: pd.DataFrame, quantity: str, gamma_min: float = 0.0) -> pd.Series:
    """Per seed: sup over the recorded gamma >= gamma_min (within the limit's range) of
    |quantity_d(gamma) - quantity_inf(gamma)|, the limit interpolated linearly in gamma."""
    lg = limit["gamma"].to_numpy()
    lv = limit[quantity].to_numpy()
    out = {}
    for seed, g in run.groupby("seed"):
        keep = (g["gamma"] >= gamma_min) & (g["gamma"] <= lg.max())
        x = g.loc[keep, "gamma"].to_numpy()
        out[seed] = float(np.nanmax(np.abs(g.loc[keep, quantity].to_numpy() - np.interp(x, lg, lv))))
    return pd.Series(out, name=f"sup_{quantity}")


def final_values(run: pd.DataFrame, by=("seed",), x: str = "step") -> pd.DataFrame:
    """The rows at the largest ``x`` of each group."""
    idx = run.groupby(list(by))[x].idxmax()
    return run.loc[idx]


def plateau(run: pd.DataFrame, quantity: str = "loss", frac: float = 0.25, by=("seed",)) -> pd.Series:
    """Mean of ``quantity`` over the last ``frac`` of the gamma range, per group."""
    out = {}
    for key, g in run.groupby(list(by)):
        gmax = g["gamma"].max()
        out[key[0] if len(by) == 1 else key] = float(g.loc[g["gamma"] >= (1 - frac) * gmax, quantity].mean())
    return pd.Series(out)
