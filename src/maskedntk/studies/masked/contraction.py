"""The empirical contraction factor of a run L_0..L_K: how fast its excess over the plateau falls.

Notation as in :mod:`.stationarity`: L_k ~ c + A r^k (+ fluctuations), c the plateau (floor), r
the contraction factor per round (Theorem 3: r = 1 - eta theta tau lambda0 / 4).  Pure,
deterministic functions (numpy/scipy only):

* :func:`contraction_factor` -- the empirical r, fitted on log(L_k - c_hat) where the
  excess is well above the plateau noise, with a standard error and the rounds used.
  Returns a :class:`RateFit`; a run with nothing to fit (L_0 at or below the floor, pure
  floor, diverged) gets NaN *and a reason*, and :func:`rate_stats` counts those reasons so
  that they are never dropped silently from seed statistics.

The method
----------
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
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from maskedntk.core.validate import check_float, check_int

from .stationarity import stationarity_test

__all__ = ["RateFit", "contraction_factor", "rate_stats"]

_Z95 = 1.959963984540054


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
