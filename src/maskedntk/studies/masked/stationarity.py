"""Has a run L_0..L_K reached its plateau, and how fast did it get there?

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
* :func:`contraction_factor` -- the empirical r, fitted on log(L_k - c_hat) where the
  excess is well above the plateau noise, with a standard error and the rounds used.
  Returns a :class:`RateFit`; a run with nothing to fit (L_0 at or below the floor, pure
  floor, diverged) gets NaN *and a reason*, and :func:`rate_stats` counts those reasons so
  that they are never dropped silently from seed statistics.

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

The contraction factor
----------------------
c_hat is the window mean when the run is stationary (or the ``plateau`` passed in); when it
is not, c_hat comes from a joint fit of L_k = c + A r^k (c >= 0) on the tail of the run (see
:func:`_fit_floor`).  sigma is the s.d. of L_k over the window (or about the joint fit).
The segment is k_start..k_end: from the first round whose excess e_k = L_k - c_hat is at
most ``upper`` (1/2) of e_0 -- the start-up is left out -- to the last round before e_k
first falls to ``noise_mult`` (5) x sigma or below.  log e_k is fitted against k by
weighted least squares (weights 1 / ((sigma / e_k)^2 + 1e-6), the delta-method variance of
log e_k, iterated with the fitted e_k); rate = exp(slope).

*Which rate for two timescales.*  The reported rate is the **asymptotic (slowest) one**.
A linear-convergence statement L_k - c <= rho^k (L_0 - c) holds for all k only if rho is at
least the slowest contraction, and in the NTK picture the slowest mode is the one set by
lambda0 (the smallest eigenvalue), so the tail rate is the quantity to set beside
1 - eta theta tau lambda0 / 4; a blend with an early, faster phase would make a bound look
satisfied when it is not.  To get it, the part of the segment with e_k > ``clean_mult``
(10) x sigma is split at the geometric midpoint of its excess; if the tail's slope is
shallower than the head's by more than ``split_z`` (3) standard errors and by more than
``split_rel`` (10%), a second, slower timescale is present and only the rounds from the
split to k_end are fitted; the check is repeated inside the kept tail.  The faster
component is then peeled off (the method of residuals): fitted as log(e_k - slow fit) on
the rounds before the tail, subtracted, and the slow rate refitted (three passes), so the
first rounds of the tail do not pull the rate towards the fast one.  Example:
0.9 * 0.7^k + 0.1 * 0.99^k gives 0.9900 at K = 1000 (a single log-linear fit of rounds
2..200 gives the blend 0.9888, i.e. 1 - rate 12% too large).

The standard error is the weighted least-squares one, inflated by sqrt((1 + rho)/(1 - rho))
for the lag-one correlation rho of the fit residuals; it omits the uncertainty of c_hat.

Accuracy, as measured by tests/masked/test_stationarity.py (50 seeds; error = (1 - rate)/(1 - r) - 1;
L_k = c xi_k + 0.99 r^k, c = 0.01, xi_k mean-one noise of s.d. 0.3, runs long enough to
reach the floor): noiseless, |error| < 2e-4; i.i.d. noise, r in {0.7, 0.9, 0.98, 0.995}:
median <= 0.5%, max 1.9%; AR(1) noise with phi = 0.9: median <= 1%, >= 96% of seeds within
10%, but single seeds up to 36% off for r = 0.7 (a persistent floor excursion biases the few
rounds above the threshold; the stated stderr does not cover it).  Two timescales
0.9 * 0.7^k + 0.1 * 0.99^k: noiseless 0.4% (K = 1000) and 3.7% (K = 200, where the run is
not stationary and c_hat comes from the joint fit); with a noisy floor, K = 1000: i.i.d.
median 0.7%, max 4.4%; AR(1) phi = 0.9 median 2.8%, 90% of seeds within 8.8%.

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
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, signal, stats

from maskedntk.core.validate import check_float, check_int

__all__ = [
    "StationarityResult",
    "RateFit",
    "stationarity_test",
    "stationarity_window",
    "next_rounds",
    "extend_until_stationary",
    "contraction_factor",
    "rate_stats",
]

_Z95 = 1.959963984540054


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


@dataclass(frozen=True)
class RateFit:
    """Outcome of :func:`contraction_factor`.

    rate : the fitted contraction factor r per round of the excess L_k - c_hat (the
        slowest timescale, see the module docstring); NaN when nothing could be fitted.
    stderr : standard error of rate (delta method, residual-correlation inflated).
    rate_ci : (lo, hi), exp(slope -+ 1.96 s.e.).
    k_range : (first, last) rounds used by the fit; (-1, -1) when none.
    n_points : number of rounds fitted.
    floor : c_hat, the floor subtracted.
    floor_source : "given", "stationary window" or "joint fit c + A r^k (run not stationary)".
    noise : sigma, the floor's noise s.d. used for the thresholds.
    reason : "" when fitted; otherwise why rate is NaN ("no decay to fit", ...).
    """

    rate: float
    stderr: float
    rate_ci: tuple[float, float]
    k_range: tuple[int, int]
    n_points: int
    floor: float
    floor_source: str
    noise: float
    reason: str

    @property
    def fitted(self) -> bool:
        return not self.reason


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


# --------------------------------------------------------------------------- contraction factor


def _nan_fit(reason: str, floor=math.nan, source="", noise=math.nan) -> RateFit:
    return RateFit(math.nan, math.nan, (math.nan, math.nan), (-1, -1), 0, float(floor), source, float(noise), reason)


def _fit_floor(L: np.ndarray) -> tuple[float, float]:
    """c_hat for a run that is not stationary: L_k = c + A r^k (c, A >= 0) fitted on the tail,
    the rounds from the first one with L_k <= sqrt(L_0 min L) on (earlier rounds may carry a
    faster timescale).  Variable projection: for each r, (c, A) by non-negative least
    squares with relative weights (1 / L_k, then twice 1 / fitted L_k); r minimises the
    residual over a grid in log(1 - r) in [1e-5, 0.999], refined by a bounded scalar search.
    Returns (c_hat, s.d. of L_k about the fit)."""
    K = L.size - 1
    Lmin = float(np.min(L))
    mid = math.sqrt(L[0] * Lmin) if L[0] > Lmin > 0 else Lmin
    k0 = int(np.flatnonzero(L <= mid)[0])
    k0 = max(min(k0, K - 9), 0)
    y = L[k0:]
    k = np.arange(y.size, dtype=np.float64)
    tiny = np.finfo(np.float64).tiny
    wt = 1.0 / np.maximum(np.abs(y), tiny)

    def solve(u):  # u = log(1 - r)
        r = -math.expm1(u)
        X = np.column_stack([np.ones_like(k), r**k])
        coef, rnorm = optimize.nnls(X * wt[:, None], y * wt)
        return rnorm, coef, r

    grid = np.linspace(math.log(1e-5), math.log(0.999), 120)
    for _ in range(3):  # weights 1/L_k, then 1/fit_k (observed weights would favour low noise draws)
        i = int(np.argmin([solve(u)[0] for u in grid]))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        u = optimize.minimize_scalar(lambda u: solve(u)[0], bounds=(lo, hi), method="bounded").x
        _, coef, r = solve(float(u))
        fit = coef[0] + coef[1] * r**k
        wt = 1.0 / np.maximum(fit, tiny)
    return float(coef[0]), float(np.std(y - fit, ddof=min(3, y.size - 1)))


def contraction_factor(
    L,
    plateau: float | None = None,
    *,
    upper: float = 0.5,
    noise_mult: float = 5.0,
    clean_mult: float = 10.0,
    split_z: float = 3.0,
    split_rel: float = 0.1,
    min_points: int = 5,
    rel_eps: float = 1e-10,
    **test_kwargs,
) -> RateFit:
    """Empirical contraction factor r per round of the excess L_k - c_hat (method in the module docstring).

    Parameters
    ----------
    L : L_0..L_K.
    plateau : c_hat to subtract; by default the window mean of :func:`stationarity_test`
        (``test_kwargs`` are passed to it), or the joint fit when the run is not stationary.
    upper : the fit starts at the first round with e_k <= upper * e_0.
    noise_mult : the fit stops before the first round with e_k <= noise_mult * sigma.
    clean_mult, split_z, split_rel : the two-timescale check (head vs tail slope on the
        rounds with e_k > clean_mult * sigma).
    min_points : fewest rounds fitted.
    rel_eps : thresholds are at least rel_eps * L_0 (float resolution for noiseless runs).

    NaN with a reason (never silently): "non-finite loss (diverged)"; "no decay to fit"
    (e_0 <= noise_mult * sigma: L_0 at or below the floor, or a pure floor);
    "too few rounds above the floor noise (...)".

    Accuracy (asserted by tests/masked/test_stationarity.py, 50 seeds; measured values in the
    module docstring): L_k = c xi_k + 0.99 r^k with r in {0.7, 0.9, 0.98, 0.995}, run to its
    floor: |(1 - rate)/(1 - r) - 1| <= 5% in every seed for i.i.d. noise, <= 10% in >= 90%
    of seeds for AR(1) noise with phi = 0.9 (a correlated floor excursion biases the rounds
    near the threshold); two timescales 0.9 * 0.7^k + 0.1 * 0.99^k: the slow rate 0.99
    within 5% noiseless (K = 200, 1000), within 10% in every seed with an i.i.d. noisy floor
    and in >= 90% with an AR(1) one.
    """
    check_float("upper", upper, 0.0, 1.0, lo_open=True)
    check_float("noise_mult", noise_mult, 0.0)
    check_float("clean_mult", clean_mult, 0.0)
    check_int("min_points", min_points, 3)
    L = np.asarray(L, dtype=np.float64).ravel()
    if L.size < 2:
        raise ValueError(f"L has {L.size} values: need L_0..L_K with K >= 1")
    if not np.all(np.isfinite(L)):
        return _nan_fit("non-finite loss (diverged)")
    st = stationarity_test(L, **test_kwargs)
    first, last = st.window
    if plateau is not None:
        floor, source = check_float("plateau", plateau), "given"
        sigma = float(np.std(L[first : last + 1], ddof=1))
    elif st.stationary:
        floor, source = st.plateau, "stationary window"
        sigma = float(np.std(L[first : last + 1], ddof=1))
    else:
        floor, sigma = _fit_floor(L)
        source = "joint fit c + A r^k (run not stationary)"
    e = L - floor
    thr = max(noise_mult * sigma, rel_eps * abs(L[0]))
    if not e[0] > thr:
        return _nan_fit("no decay to fit", floor, source, sigma)
    cross = np.flatnonzero(~(e > thr))
    k_end = int(cross[0]) - 1 if cross.size else L.size - 1
    start = np.flatnonzero(e[: k_end + 1] <= upper * e[0])
    k_start = int(start[0]) if start.size else k_end + 1
    if k_end - k_start + 1 < min_points:
        k_start = max(k_end - min_points + 1, 0)
        if k_end - k_start + 1 < min_points:
            return _nan_fit(f"too few rounds above the floor noise ({k_end + 1} < {min_points})", floor, source, sigma)

    def wls(k0: int, k1: int, x: np.ndarray) -> tuple[float, float, float, float]:
        """Weighted fit of log x_k = a + k log r on k0..k1: (slope, plain s.e., inflated s.e., a)."""
        k = np.arange(k0, k1 + 1, dtype=np.float64)
        z = np.log(x[k0 : k1 + 1])
        xhat = x[k0 : k1 + 1]
        for _ in range(2):
            w = 1.0 / ((sigma / xhat) ** 2 + 1e-6)
            km = float(np.sum(w * k) / np.sum(w))
            zm = float(np.sum(w * z) / np.sum(w))
            Skk = float(np.sum(w * (k - km) ** 2))
            s = float(np.sum(w * (k - km) * (z - zm)) / Skk)
            xhat = np.exp(zm + s * (k - km))
        res = z - zm - s * (k - km)
        s2 = float(np.sum(w * res**2) / max(k.size - 2, 1))
        rr = float(res @ res)
        rho = min(max(float(res[1:] @ res[:-1]) / rr, 0.0), 0.95) if rr > 0 else 0.0
        se = math.sqrt(s2 / Skk)
        return s, se, se * math.sqrt((1.0 + rho) / (1.0 - rho)), zm - s * km

    k_t = k_start
    s, _, se, a = wls(k_start, k_end, e)
    # a second, slower timescale?  head vs tail slope where e_k > clean_mult * sigma; while the
    # tail is significantly slower, keep only the tail (and look again inside it)
    clean = np.flatnonzero(~(e[k_start : k_end + 1] > clean_mult * sigma))
    k_c = k_start + int(clean[0]) - 1 if clean.size else k_end
    while k_c - k_t + 1 >= 2 * min_points:
        cut = math.sqrt(e[k_t] * e[k_c])
        kc = k_t + int(np.flatnonzero(e[k_t : k_c + 1] <= cut)[0])
        kc = min(max(kc, k_t + min_points), k_c - min_points + 1)
        s_head, _, se_head, _ = wls(k_t, kc - 1, e)
        s_tail, _, se_tail, _ = wls(kc, k_c, e)
        gap = s_tail - s_head
        if not (gap > split_z * math.hypot(se_head, se_tail) and gap > split_rel * abs(s_head)):
            break
        k_t = kc
        s, _, se, a = wls(kc, k_end, e)
    if k_t > k_start:
        # peel the faster component off (method of residuals): fit it on the rounds before k_t,
        # as log(e_k - slow fit_k), subtract it everywhere, refit the slow one; three times
        kk = np.arange(L.size, dtype=np.float64)
        head = np.arange(k_start, k_t)
        for _ in range(3):
            fast = e - np.exp(a + s * kk)
            ok = head[fast[head] > thr]
            if ok.size < 3:
                break
            s_f, a_f = np.polyfit(ok.astype(np.float64), np.log(fast[ok]), 1)
            if not s_f < s:
                break
            x = e - np.exp(a_f + s_f * kk)
            if not np.all(x[k_t : k_end + 1] > 0):
                break
            s, _, se, a = wls(k_t, k_end, x)
    rate = math.exp(s)
    return RateFit(
        rate=rate,
        stderr=rate * se,
        rate_ci=(math.exp(s - _Z95 * se), math.exp(s + _Z95 * se)),
        k_range=(k_t, k_end),
        n_points=k_end - k_t + 1,
        floor=float(floor),
        floor_source=source,
        noise=float(sigma),
        reason="",
    )


def rate_stats(fits: Iterable[RateFit]) -> dict:
    """Seed statistics of fitted rates that keep the failures visible.

    Keys: mean, se (std ddof = 1 over sqrt(count)) and count of the fitted rates; n_total;
    n_nan; reasons, a dict reason -> number of fits that gave NaN for it."""
    fits = list(fits)
    v = np.array([f.rate for f in fits if f.fitted and math.isfinite(f.rate)], dtype=np.float64)
    reasons = Counter(f.reason for f in fits if not (f.fitted and math.isfinite(f.rate)))
    n = int(v.size)
    return {
        "mean": float(v.mean()) if n else math.nan,
        "se": float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
        "count": n,
        "n_total": len(fits),
        "n_nan": len(fits) - n,
        "reasons": dict(reasons),
    }
