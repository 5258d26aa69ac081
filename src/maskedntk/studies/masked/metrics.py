"""Measured quantities of a trajectory L_0..L_K (L_k = ||y - u_k||^2), and their seed statistics.

* plateau: the error neighbourhood the run settles in -- the mean of L_k over the window of
  :func:`maskedntk.studies.masked.stationarity.stationarity_test` when the run passes that
  test, NaN ("not stationary after K rounds") when it does not, so that a slow transient is
  never counted as a neighbourhood;
* error_after_K: the paper's own number (its heatmaps): the mean of L_k over the last
  ``fraction`` of the first ``rounds`` rounds, stationary or not;
* the authors' estimator: the best running mean over a window of rounds (their heatmap
  script uses 10 rounds), on the first ``rounds`` rounds;
* the empirical contraction factor per round (:func:`contraction.contraction_factor`), to
  set beside Theorem 3's 1 - eta theta tau lambda0 / 4, with its standard error and, when
  it cannot be fitted, the reason.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from maskedntk.core.validate import check_float, check_int

from .contraction import contraction_factor
from .stationarity import stationarity_test


@dataclass(frozen=True)
class PlateauOptions:
    """How the plateau and the contraction factor are measured.

    fraction : the last fraction of the first ``rounds`` rounds averaged for the paper's
        "error after K rounds" (``error_after_K``), in (0, 1].
    authors_window : the window (rounds) of the authors' best-running-mean estimator.

    The stationarity test and the rate fit have fixed, documented settings (the defaults of
    :mod:`maskedntk.studies.masked.stationarity`): training uses the same test to decide
    whether to extend a run, so the two must not differ.
    """

    fraction: float = 0.25
    authors_window: int = 10

    def __post_init__(self):
        check_float("metrics.fraction", self.fraction, 0.0, 1.0, lo_open=True)
        check_int("metrics.authors_window", self.authors_window, 1)


def plateau_window(K: int, fraction: float) -> slice:
    """Indices of the last ``fraction`` of rounds 1..K of a trajectory L_0..L_K (at least one)."""
    w = max(1, math.ceil(fraction * K))
    return slice(K + 1 - w, K + 1)


def plateau(L, fraction: float = 0.25) -> float:
    """Mean of L_k over the last ``fraction`` of the rounds."""
    L = np.asarray(L, dtype=np.float64)
    return float(np.mean(L[plateau_window(len(L) - 1, fraction)]))


def authors_estimate(L, window: int = 10) -> float:
    """The authors' estimator: min over k >= 1 of the mean of L_{max(0, k - window)} .. L_k."""
    L = np.asarray(L, dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(L)])
    k = np.arange(1, len(L))
    lo = np.maximum(0, k - window)
    return float(np.min((c[k + 1] - c[lo]) / (k + 1 - lo)))


def authors_early_stop(L, window: int = 10) -> float:
    """The authors' heatmap estimator: follow the running mean of the last ``window`` losses,
    m_k = mean(L_{max(0, k - window + 1)} .. L_k), from k = 1 on, and stop at the first round
    where it fails to improve on the best so far; return that best.  Unlike
    :func:`authors_estimate` (the best running mean over the whole run) it stops early, so a
    noisy run stops near its first local dip."""
    L = np.asarray(L, dtype=np.float64)
    if L.size < 2 or not np.isfinite(L[1]):
        return math.nan
    c = np.concatenate([[0.0], np.cumsum(L)])
    best = math.inf
    for k in range(1, len(L)):
        lo = max(0, k - window + 1)
        m = (c[k + 1] - c[lo]) / (k + 1 - lo)
        if not m < best:
            break
        best = m
    return float(best)


def summarize_trajectory(
    L, options: PlateauOptions = PlateauOptions(), rounds: int | None = None, converged_to_zero: bool = False
) -> dict:
    """Per-run measurements of a trajectory L_0..L_K (NaN entries mean the run diverged).

    ``rounds``: the configured K (the run may have been extended past it until stationary);
    default len(L) - 1.  ``converged_to_zero``: the run stopped because L_K fell to the float
    rounding floor (:func:`maskedntk.studies.masked.batched_runs.rounding_floor`): it is recorded as
    stationary with plateau 0 (its window would read as a decay that has only run out of
    digits), and its contraction factor is fitted against the floor 0.

    Keys: L0, final, rounds_run, error_after_K, stationary, plateau (NaN when not stationary),
    window_mean, window_start, plateau_drift, stationarity_p,
    stationarity_reason, authors_estimate, authors_early_stop, rate_empirical, rate_se, rate_reason.
    """
    L = np.asarray(L, dtype=np.float64)
    K = len(L) - 1
    K0 = K if rounds is None else min(int(rounds), K)
    out = {"L0": float(L[0]), "final": float(L[-1]), "rounds_run": K}
    st = stationarity_test(L)
    zero = converged_to_zero and bool(np.all(np.isfinite(L)))
    out.update(
        stationary=True if zero else bool(st.stationary),
        window_start=int(st.window[0]),
        plateau_drift=float(st.drift),
        stationarity_p=float(st.p_value),
        stationarity_reason=f"converged to zero: L_k fell to the float rounding floor at round {K}"
        if zero
        else st.reason,
    )
    if not np.all(np.isfinite(L)):
        out.update(
            error_after_K=math.nan,
            plateau=math.nan,
            window_mean=math.nan,
            authors_estimate=math.nan,
            authors_early_stop=math.nan,
            rate_empirical=math.nan,
            rate_se=math.nan,
            rate_reason="non-finite loss (diverged)",
        )
        return out
    first = L[: K0 + 1]
    fit = contraction_factor(L, 0.0 if zero else None)
    out.update(
        error_after_K=plateau(first, options.fraction),
        plateau=0.0 if zero else (float(st.plateau) if st.stationary else math.nan),
        window_mean=float(np.mean(L[st.window[0] : st.window[1] + 1])),
        authors_estimate=authors_estimate(first, options.authors_window),
        authors_early_stop=authors_early_stop(first, options.authors_window),
        rate_empirical=float(fit.rate),
        rate_se=float(fit.stderr),
        rate_reason=fit.reason,
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
