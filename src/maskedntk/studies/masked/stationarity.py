"""Has a run L_0..L_K reached its plateau?  The stationarity test and the extension policy.

Notation.  A run of the masked study records the loss L_k = ||y - u_k||^2 after rounds
k = 0..K.  The paper's picture is a linear contraction towards an error neighbourhood,

    L_k  ~  c + A r^k  (+ fluctuations),     r = 1 - eta theta tau lambda0 / 4 in Theorem 3,

where c is the plateau (floor) and r the contraction factor per round.  The fluctuations
are multiplicative and serially correlated (the loss after round k + 1 depends on round k),
so the test works with y_k = log L_k and models the noise on its window as an AR(1) process.

This module provides pure, deterministic functions (numpy/scipy only):

* :func:`stationarity_test` -- is the last window of the run flat, up to its noise?
  Returns a :class:`StationarityResult`; its plateau c_hat is the window mean (NaN when the
  run is flagged).  The window is the last *half* of the rounds by default, not the last
  quarter of ``metrics.PlateauOptions.fraction``: twice the data, which the correlated
  noise needs (see "Choice of the test").
* :func:`next_rounds` -- the extension policy: train ``rounds`` at least, then extend by
  ``chunk`` rounds up to ``max_rounds`` while the test flags the run;
  :func:`extend_until_stationary` runs that loop around a ``train(K)`` callable.

The contraction factor fitted on the transient before the plateau (:func:`contraction_factor`,
:func:`rate_stats`) is in :mod:`.contraction`, which uses this test to find the plateau.

The test (window W = {K + 1 - w, .., K}, w = max(ceil(f K), min(20, K)) rounds, f = 1/2)
-------------------------------------------------------------------------------------
1. Fit y_k = a + b k by least squares on W.  The *drift* is the fitted relative change of L
   over the window, D = exp(b (w - 1)) - 1.
2. Model the noise as AR(1) with lag-one correlation phi and variance gamma0.  Estimate phi
   from the residuals e of a *quadratic* fit of y_k on W (a decaying c + A r^k is curved in
   log scale; after a linear detrend that smooth curvature reads as phi ~ 1 and hides the
   decay), bias-corrected for the fitted polynomial, phi = phi_hat + (3 + 5 phi_hat) / w,
   clipped to [0, phi_max = 0.95] (fluctuations are assumed to decorrelate within ~40
   rounds; slower "fluctuations" count as drift).  gamma0 = e'e / tr(M R_phi), with M the
   residual maker of the quadratic fit and R_phi[i, j] = phi^|i - j| (unbiased given phi).
3. SE(b) = sqrt(gamma0 t'R_phi t) / t't (t = centred rounds): the exact variance of the
   least-squares slope under AR(1) noise, no asymptotics.  T = b / SE(b), two-sided p-value
   from Student's t with nu = max(w (1 - phi) / (1 + phi) - 2, 4) degrees of freedom (the
   effective sample size: a strongly correlated window asks for stronger evidence).
4. The run is flagged (not stationary) iff p < alpha (0.01) AND |D| > drift_tol (0.01).
   The tolerance ignores drifts too small to matter (a 1% change across the window moves
   the plateau by less than the seed-to-seed scatter) when a long, quiet window would make
   them "significant"; the significance requirement keeps noise from being read as drift.

Choice of the test
------------------
A run is called stationary unless the least-squares slope of log L_k over the last half of
its rounds is significant at alpha = 0.01 -- with a standard error that is exact for AR(1)
fluctuations whose correlation is estimated from quadratic-detrended residuals, and Student
t degrees of freedom equal to the effective sample size -- AND the fitted change of L across
that window exceeds 1%.  It flags the slow decay 0.01 + 0.99 * 0.995^k at K = 200, 400 and
1000 (drift -38%, -61%, -82%; the former |slope x window| <= 0.3 rule passed it at K = 200
with plateau 0.42), every decay c xi_k + 0.99 r^k with r in {0.994, 0.995, 0.997, 0.999} and
K in {200, 400, 1000} (not at its floor yet) in 50 of 50 seeds with i.i.d. or AR(1)
(phi = 0.9) plateau noise, and a linear drift of the floor by 100% across the run (i.i.d.
noise: 50 of 50 seeds).  It passes flat noisy plateaus c xi_k (lognormal or gamma xi,
i.i.d. or AR(1) with phi up to 0.9) and fast decays (r = 0.7, 0.9) that reached the floor
early.  Measured false-flag rates (tests/masked/test_stationarity.py; 200 seeds per case, K in
{200, 1000}): 0.5-2.0% for i.i.d. noise, 0.5-2.5% for AR(1) phi = 0.5 and 0.5-3.5% for AR(1)
phi = 0.9; fast decays at the floor 1-3.5%.  Over the tests' 50 seeds: 0-6% (they require
<= 10%).  Not detected by design: drifts below 1% across the window (e.g. r = 0.9999 at
K = 200); such runs are, to that precision, on a plateau over the rounds observed.  The
test uses a parametric AR(1) correction rather than Newey-West or batch means because with
w = 100 rounds and phi = 0.9 there are only ~5 effective observations: kernel (HAC) and
batch-means variance estimates are then biased low and over-reject, while the AR(1) model
matches the mechanism (L_{k+1} depends on L_k).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import signal, stats

from maskedntk.core.validate import check_float, check_int

__all__ = [
    "StationarityResult",
    "stationarity_test",
    "stationarity_window",
    "next_rounds",
    "extend_until_stationary",
]


@dataclass(frozen=True)
class StationarityResult:
    """Outcome of :func:`stationarity_test` on L_0..L_K.

    stationary : True unless the window drifts (significantly AND by more than drift_tol);
        False also for a diverged run or a window too short to test.
    plateau : c_hat, the mean of L_k over the window; NaN when not stationary.
    window : (first, last) rounds of the window W (last = K).
    drift : D = exp(b (w - 1)) - 1, the fitted relative change of L across the window
        (negative for a decay); NaN when not computed.
    statistic : T = b / SE(b), SE under the fitted AR(1) noise (+-inf for a noiseless
        drift, 0 for a constant window).
    p_value : two-sided p-value of T (Student t, nu = effective sample size - 2, >= 4).
    phi : the bias-corrected, clipped lag-one correlation used for the noise.
    n_eff : w (1 - phi) / (1 + phi), the effective number of independent rounds.
    diverged : L has non-finite values (the run diverged); never stationary.
    reason : one line saying why the run passed or was flagged.
    """

    stationary: bool
    plateau: float
    window: tuple[int, int]
    drift: float
    statistic: float
    p_value: float
    phi: float
    n_eff: float
    diverged: bool
    reason: str


# --------------------------------------------------------------------------- stationarity


def _ar_filter(x: np.ndarray, phi: float) -> np.ndarray:
    """(R_phi x)_i = sum_j phi^|i - j| x_j for every i, in O(n) (two first-order recursions)."""
    if phi == 0.0:
        return np.array(x, dtype=np.float64)
    f = signal.lfilter([1.0], [1.0, -phi], x)
    g = signal.lfilter([1.0], [1.0, -phi], x[::-1])[::-1]
    return f + g - x


def stationarity_window(K: int, window_fraction: float = 0.5, min_window: int = 20) -> tuple[int, int]:
    """(first, last) rounds of the test window of L_0..L_K: the last max(ceil(f K), min(min_window, K))
    rounds of 1..K."""
    check_int("K", K, 0)
    w = max(math.ceil(window_fraction * K), min(min_window, K))
    return K + 1 - w, K


def _result(stationary, plateau, window, drift, stat, p, phi, n_eff, reason, diverged=False):
    return StationarityResult(
        stationary=bool(stationary),
        plateau=float(plateau),
        window=(int(window[0]), int(window[1])),
        drift=float(drift),
        statistic=float(stat),
        p_value=float(p),
        phi=float(phi),
        n_eff=float(n_eff),
        diverged=bool(diverged),
        reason=reason,
    )


def stationarity_test(
    L,
    *,
    window_fraction: float = 0.5,
    min_window: int = 20,
    alpha: float = 0.01,
    drift_tol: float = 0.01,
    phi_max: float = 0.95,
    df_min: float = 4.0,
) -> StationarityResult:
    """Is L_0..L_K flat over its last window, up to AR(1) fluctuations?  (Test in the module docstring.)

    Parameters
    ----------
    L : the trajectory L_0..L_K (K >= 1).
    window_fraction : f, the window is the last max(ceil(f K), min(min_window, K)) rounds.
    min_window : the window is at least this many rounds (when K allows); windows shorter
        than 8 rounds are not tested (flagged, reason says so).
    alpha : level of the two-sided slope test.
    drift_tol : |D| (relative change of the fitted L across the window) at or below which a
        drift, even significant, is not flagged.
    phi_max : cap on the fitted lag-one correlation of the noise.
    df_min : floor on the Student t degrees of freedom.

    An exactly zero window (the loss reached 0) is stationary with plateau 0; other
    non-positive values make the log-scale test impossible and the run is flagged.
    """
    check_float("window_fraction", window_fraction, 0.0, 1.0, lo_open=True)
    check_int("min_window", min_window, 1)
    check_float("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    check_float("drift_tol", drift_tol, 0.0)
    check_float("phi_max", phi_max, 0.0, 1.0, hi_open=True)
    check_float("df_min", df_min, 0.0, lo_open=True)
    L = np.asarray(L, dtype=np.float64).ravel()
    if L.size < 2:
        raise ValueError(f"L has {L.size} values: need L_0..L_K with K >= 1")
    K = L.size - 1
    first, last = stationarity_window(K, window_fraction, min_window)
    nan = math.nan
    if not np.all(np.isfinite(L)):
        return _result(False, nan, (first, last), nan, nan, nan, nan, nan, "non-finite loss (diverged)", True)
    Lw = L[first : last + 1]
    n = Lw.size
    if n < 8:
        return _result(False, nan, (first, last), nan, nan, nan, nan, nan, f"window of {n} rounds is too short (< 8)")
    if np.all(Lw == 0.0):
        return _result(True, 0.0, (first, last), 0.0, 0.0, 1.0, 0.0, n, "loss is exactly 0 on the window")
    if np.any(Lw <= 0.0):
        return _result(False, nan, (first, last), nan, nan, nan, nan, nan, "non-positive loss in the window (log test)")

    y = np.log(Lw)
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    Stt = float(t @ t)
    b = float(t @ y) / Stt
    # noise: residuals of a quadratic fit, AR(1) with bias-corrected lag-one correlation
    X = np.vander(t / t[-1], 3, increasing=True)
    Q, _ = np.linalg.qr(X)
    e = y - Q @ (Q.T @ y)
    ee = float(e @ e)
    phi_hat = float(e[1:] @ e[:-1]) / ee if ee > 0 else 0.0
    phi = min(max(phi_hat + (3.0 + 5.0 * phi_hat) / n, 0.0), phi_max)
    trHR = float(sum(Q[:, j] @ _ar_filter(Q[:, j], phi) for j in range(Q.shape[1])))
    gamma0 = ee / max(n - trHR, 1e-12)
    var_b = gamma0 * float(t @ _ar_filter(t, phi)) / Stt**2
    n_eff = n * (1.0 - phi) / (1.0 + phi)
    drift = math.expm1(b * (n - 1))
    if var_b > 0.0:
        stat = b / math.sqrt(var_b)
        p = float(2.0 * stats.t.sf(abs(stat), max(n_eff - 2.0, df_min)))
    elif abs(drift) > 0.0:
        stat, p = math.copysign(math.inf, b), 0.0
    else:
        stat, p = 0.0, 1.0
    significant = p < alpha
    large = abs(drift) > drift_tol
    desc = f"drift {drift:+.3g} over rounds {first}..{last}, p = {p:.2g} (phi = {phi:.2f}, n_eff = {n_eff:.1f})"
    if significant and large:
        return _result(False, nan, (first, last), drift, stat, p, phi, n_eff, "drifting: " + desc)
    why = "drift not significant" if not significant else f"|drift| <= {drift_tol:g}"
    return _result(True, float(np.mean(Lw)), (first, last), drift, stat, p, phi, n_eff, f"stationary ({why}): {desc}")


# --------------------------------------------------------------------------- extension policy


def next_rounds(K_done: int, result: StationarityResult | None, rounds: int, max_rounds: int, chunk: int) -> int | None:
    """How many rounds the run should have in total next, or None to stop.

    The policy: train ``rounds`` as a minimum; then, while the stationarity test flags the
    run, extend it by ``chunk`` rounds, never beyond ``max_rounds``.  Deterministic:

    * K_done < rounds            -> rounds (``result`` is not looked at; may be None);
    * result is None             -> ValueError (the test must be run on L_0..L_{K_done});
    * result.stationary          -> None (done; the plateau is result.plateau);
    * result.diverged            -> None (more rounds cannot help);
    * K_done >= max_rounds       -> None (budget spent; the run stays flagged as not
                                    stationary and must be reported so);
    * otherwise                  -> min(K_done + chunk, max_rounds).

    The engine continues training from round K_done to the returned K and re-runs
    :func:`stationarity_test` on the whole L_0..L_K (the window is a fraction of K, so it
    moves forward with the extension).  A false flag only costs rounds; a false pass would
    bias the plateau, which is why the test leans towards flagging slow decays.
    """
    K_done = check_int("K_done", K_done, 0)
    rounds = check_int("rounds", rounds, 1)
    max_rounds = check_int("max_rounds", max_rounds, rounds)
    chunk = check_int("chunk", chunk, 1)
    if K_done < rounds:
        return rounds
    if result is None:
        raise ValueError(f"K_done = {K_done} >= rounds = {rounds}: the stationarity result of L_0..L_K_done is needed")
    if result.stationary or result.diverged or K_done >= max_rounds:
        return None
    return min(K_done + chunk, max_rounds)


def extend_until_stationary(
    train: Callable[[int], np.ndarray],
    rounds: int,
    max_rounds: int,
    chunk: int,
    **test_kwargs,
) -> tuple[np.ndarray, StationarityResult]:
    """Run the :func:`next_rounds` loop: ``train(K)`` must return L_0..L_K (continuing the same
    run, so earlier values are unchanged).  Returns the last trajectory and its test result."""
    K = next_rounds(0, None, rounds, max_rounds, chunk)
    while True:
        L = np.asarray(train(K), dtype=np.float64)
        if L.size != K + 1:
            raise ValueError(f"train({K}) returned {L.size} values, expected {K + 1}")
        res = stationarity_test(L, **test_kwargs)
        K_next = next_rounds(K, res, rounds, max_rounds, chunk)
        if K_next is None:
            return L, res
        K = K_next
