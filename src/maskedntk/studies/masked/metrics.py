"""Measured quantities of a trajectory L_0..L_K (L_k = ||y - u_k||^2), and their seed statistics.

* plateau: the error neighbourhood the run settles in, i.e. the mean of L_k over the last
  ``fraction`` of the rounds, with a stationarity check (the fitted slope of log L_k over
  that window, times the window length, must be small);
* the authors' estimator: the best running mean over a window of rounds (their
  ``heatmap_exp.py`` uses 10 rounds);
* the empirical contraction factor per round, fitted on the transient, to set beside
  Theorem 3's 1 - eta theta tau lambda0 / 4.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from maskedntk.core.validate import check_float, check_int


@dataclass(frozen=True)
class PlateauOptions:
    """How the plateau and the contraction factor are measured.

    fraction : the last fraction of rounds averaged for the plateau, in (0, 1].
    stationarity_tol : |slope of log L_k| * window length above which the run is flagged as
        not converged (0.3 = the fit changes by about 35% across the window).
    transient_fraction : the transient ends at the first round whose excess L_k - plateau
        falls below this fraction of L_0 - plateau.
    authors_window : the window (rounds) of the authors' best-running-mean estimator.
    """

    fraction: float = 0.25
    stationarity_tol: float = 0.3
    transient_fraction: float = 0.05
    authors_window: int = 10

    def __post_init__(self):
        check_float("plateau.fraction", self.fraction, 0.0, 1.0, lo_open=True)
        check_float("plateau.stationarity_tol", self.stationarity_tol, 0.0, lo_open=True)
        check_float("plateau.transient_fraction", self.transient_fraction, 0.0, 1.0, lo_open=True, hi_open=True)
        check_int("plateau.authors_window", self.authors_window, 1)


def plateau_window(K: int, fraction: float) -> slice:
    """Indices of the last ``fraction`` of rounds 1..K of a trajectory L_0..L_K (at least one)."""
    w = max(1, math.ceil(fraction * K))
    return slice(K + 1 - w, K + 1)


def plateau(L, fraction: float = 0.25) -> float:
    """Mean of L_k over the last ``fraction`` of the rounds."""
    L = np.asarray(L, dtype=np.float64)
    return float(np.mean(L[plateau_window(len(L) - 1, fraction)]))


def log_slope(L) -> float:
    """Least-squares slope of log L_k against k (per round); NaN with < 2 positive points."""
    L = np.asarray(L, dtype=np.float64)
    k = np.arange(len(L), dtype=np.float64)
    ok = np.isfinite(L) & (L > 0)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(k[ok], np.log(L[ok]), 1)[0])


def authors_estimate(L, window: int = 10) -> float:
    """The authors' estimator: min over k >= 1 of the mean of L_{max(0, k - window)} .. L_k."""
    L = np.asarray(L, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(L)])
    k = np.arange(1, len(L))
    lo = np.maximum(0, k - window)
    return float(np.min((c[k + 1] - c[lo]) / (k + 1 - lo)))


def contraction_factor(L, floor: float, transient_fraction: float = 0.05) -> float:
    """Empirical contraction factor per round on the transient: exp(slope) of a least-squares
    fit of log(L_k - floor) over k = 0..k_end, where k_end is the first round whose excess
    falls below ``transient_fraction`` * (L_0 - floor) (or the last round with a positive
    excess).  NaN when fewer than 2 rounds qualify or L_0 <= floor."""
    L = np.asarray(L, dtype=np.float64)
    excess = L - floor
    if not np.isfinite(excess[0]) or excess[0] <= 0:
        return math.nan
    below = np.flatnonzero(~(excess > transient_fraction * excess[0]))
    k_end = int(below[0]) if below.size else len(L) - 1
    seg = excess[: k_end + 1]
    pos = np.flatnonzero(~(seg > 0))  # stop before the first non-positive excess
    if pos.size:
        seg = seg[: pos[0]]
    if seg.size < 2:
        return math.nan
    k = np.arange(seg.size, dtype=np.float64)
    return float(np.exp(np.polyfit(k, np.log(seg), 1)[0]))


def summarize_trajectory(L, options: PlateauOptions = PlateauOptions()) -> dict:
    """Per-run measurements of a trajectory L_0..L_K (NaN entries mean the run diverged).

    Keys: L0, final, plateau, plateau_slope (per round, log scale), plateau_drift
    (slope * window), converged (bool), authors_estimate, rate_empirical, window_start.
    """
    L = np.asarray(L, dtype=np.float64)
    K = len(L) - 1
    win = plateau_window(K, options.fraction)
    out = {"L0": float(L[0]), "final": float(L[-1]), "window_start": int(win.start)}
    if not np.all(np.isfinite(L)):
        out.update(
            plateau=math.nan,
            plateau_slope=math.nan,
            plateau_drift=math.nan,
            converged=False,
            authors_estimate=math.nan,
            rate_empirical=math.nan,
        )
        return out
    P = float(np.mean(L[win]))
    slope = log_slope(L[win])
    drift = slope * (win.stop - win.start) if math.isfinite(slope) else 0.0
    out.update(
        plateau=P,
        plateau_slope=slope,
        plateau_drift=drift,
        converged=bool(abs(drift) <= options.stationarity_tol),
        authors_estimate=authors_estimate(L, options.authors_window),
        rate_empirical=contraction_factor(L, P, options.transient_fraction),
    )
    return out


def seed_stats(values) -> dict:
    """mean, standard error (std with ddof = 1 over sqrt(count)) and count of the finite values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = int(v.size)
    mean = float(v.mean()) if n else math.nan
    se = float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return {"mean": mean, "se": se, "count": n}


def options_dict(options: PlateauOptions) -> dict:
    return asdict(options)
