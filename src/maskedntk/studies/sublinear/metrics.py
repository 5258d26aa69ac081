"""Per-seed summaries the claims and figures share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import theory


def activity_ratio(act: pd.DataFrame) -> pd.DataFrame:
    """Per (seed, m): mean active count over inputs, the prediction m Q(b), their ratio."""
    g = act.groupby(["seed", "m"], as_index=False).agg(b=("b", "first"), mean_active=("active", "mean"))
    g["predicted"] = [theory.expected_active(int(m), float(b)) for m, b in zip(g["m"], g["b"], strict=True)]
    g["ratio"] = g["mean_active"] / g["predicted"]
    return g


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y on log x (NaN with < 2 finite positive points)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def steps_to_eps(tr: pd.DataFrame, eps: float) -> pd.DataFrame:
    """Per (seed, M): the first checkpoint step at which the test loss is <= eps, interpolated
    log-linearly between checkpoints (NaN if never reached, and NaN if the loss is already
    <= eps at step 0: such a cell says nothing about the rate)."""
    out = []
    for (seed, M), g in tr.groupby(["seed", "M"]):
        g = g.sort_values("step")
        t = g["step"].to_numpy(dtype=np.float64)
        loss = g["test_loss"].to_numpy()
        hit = np.flatnonzero(loss <= eps)
        if hit.size == 0:
            T = math.nan
        elif hit[0] == 0:
            T = math.nan
        else:
            i = hit[0]
            t0, t1 = max(t[i - 1], 1.0), t[i]
            l0, l1 = loss[i - 1], loss[i]
            frac = (math.log(l0) - math.log(eps)) / (math.log(l0) - math.log(l1)) if l0 > l1 else 1.0
            T = math.exp(math.log(t0) + frac * (math.log(t1) - math.log(t0)))
        out.append((seed, M, T))
    return pd.DataFrame(out, columns=["seed", "M", "T_eps"])


def late_slope(tr: pd.DataFrame, frac: float = 0.1) -> pd.DataFrame:
    """Per (seed, M): log-log slope of the test loss over the checkpoints with step >= frac * steps."""
    out = []
    for (seed, M), g in tr.groupby(["seed", "M"]):
        tmax = g["step"].max()
        h = g[g["step"] >= frac * tmax]
        out.append((seed, M, loglog_slope(h["step"], h["test_loss"])))
    return pd.DataFrame(out, columns=["seed", "M", "slope"])


def persistence(tr: pd.DataFrame) -> pd.DataFrame:
    """Per (seed, M): the largest ratio over checkpoints of the mean active count (test inputs
    and training samples) to its initial prediction m Q(b)."""
    out = []
    for (seed, M), g in tr.groupby(["seed", "M"]):
        pred = float(g["m"].iloc[0]) * float(g["p"].iloc[0])
        r_test = g["test_active"].max() / pred
        r_train = g["train_active"].max() / pred
        out.append((seed, M, r_test, r_train, max(r_test, r_train)))
    return pd.DataFrame(out, columns=["seed", "M", "ratio_test", "ratio_train", "ratio_max"])


def cost_summary(cost: pd.DataFrame) -> pd.DataFrame:
    """Median over seeds per (d, B, m, identifier), with the ratio of inner products and of
    identification time to the dense identifier's at the same (d, B, m)."""
    g = cost.groupby(["d", "B", "m", "identifier"], as_index=False).agg(
        ip_total=("ip_total", "median"),
        ip_query=("ip_query", "median"),
        t_ident=("t_ident", "median"),
        t_query=("t_query", "median"),
        t_step=("t_step", "median"),
        ip_init=("ip_init", "median"),
        t_init=("t_init", "median"),
        mean_active=("mean_active", "median"),
        identical=("identical", "all"),
        n_seeds=("seed", "nunique"),
        steps=("steps", "first"),
    )
    dense = g[g["identifier"] == "dense"].set_index(["d", "B", "m"])
    key = list(zip(g["d"], g["B"], g["m"], strict=True))
    g["ip_ratio"] = g["ip_total"].to_numpy() / dense.loc[key, "ip_total"].to_numpy()
    g["t_ratio"] = g["t_ident"].to_numpy() / dense.loc[key, "t_ident"].to_numpy()
    return g.sort_values(["d", "B", "identifier", "m"]).reset_index(drop=True)


def crossover(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (d, B, identifier other than dense), from :func:`cost_summary`: ``m_cross``, the
    smallest measured m from which on the median time ratio to dense stays below 1 up to the
    largest measured m (NaN if it is not below 1 there), the ratio at the largest m
    (``ratio_max_m``) and its trend, the log-log slope of the ratio over the three largest m."""
    out = []
    for (d, B, ident), g in summary[summary["identifier"] != "dense"].groupby(["d", "B", "identifier"]):
        g = g.sort_values("m")
        m, r = g["m"].to_numpy(), g["t_ratio"].to_numpy()
        below = r < 1.0
        cross = math.nan
        if below[-1]:
            i = len(r) - 1
            while i > 0 and below[i - 1]:
                i -= 1
            cross = float(m[i])
        out.append((d, B, ident, cross, int(m[-1]), float(r[-1]), loglog_slope(m[-3:], r[-3:])))
    return pd.DataFrame(out, columns=["d", "B", "identifier", "m_cross", "m_max", "ratio_max_m", "trend"])


def cost_exponents(cost: pd.DataFrame, identifier: str, d: int, col: str = "ip_total", B: int = 1) -> pd.DataFrame:
    """Per seed: log-log slope of ``col`` against m for one identifier at one d and batch B."""
    h = cost[(cost["identifier"] == identifier) & (cost["d"] == d) & (cost["B"] == B)]
    return pd.DataFrame(
        [(seed, loglog_slope(g["m"], g[col])) for seed, g in h.groupby("seed")], columns=["seed", "exponent"]
    )
