"""Tests of maskedntk.studies.masked.stationarity and .contraction on synthetic runs with known answers.

Noisy cases use seeds 0..N_SEEDS-1 as replicates and assert rates over seeds: flat plateaus
are flagged in <= 10% of seeds, slow decays in 100%; rate-fit errors are relative errors of
1 - rate.  Plateau noise is at the floor's scale: L_k = c * xi_k + A r^k with xi_k a mean-one
multiplicative fluctuation (s.d. ~0.3), i.i.d. (lognormal or gamma) or AR(1) in log scale.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from maskedntk.studies.masked.contraction import RateFit, contraction_factor, rate_stats
from maskedntk.studies.masked.stationarity import (
    StationarityResult,
    extend_until_stationary,
    next_rounds,
    stationarity_test,
    stationarity_window,
)

N_SEEDS = 50
C = 0.01  # the floor
A = 0.99  # initial excess: L_0 = C + A = 1


def fluct(rng, n, phi=0.0, kind="lognormal", cv=0.3):
    """Mean-one multiplicative plateau noise xi_0..xi_{n-1} with coefficient of variation ~cv.

    lognormal: exp(s z - s^2 / 2), z a stationary Gaussian AR(1) with lag-one correlation phi;
    gamma: i.i.d. Gamma(1/cv^2, cv^2) when phi = 0, else exp(s z - s^2/2) with z an AR(1)
    driven by standardised (skewed) gamma innovations.
    """
    if kind == "gamma" and phi == 0.0:
        return rng.gamma(1.0 / cv**2, cv**2, n)
    if kind == "gamma":
        g = rng.gamma(2.0, 1.0, n)
        eps = (g - 2.0) / math.sqrt(2.0)
    else:
        eps = rng.standard_normal(n)
    z = np.empty(n)
    z[0] = eps[0]
    z[1:] = signal.lfilter([math.sqrt(1.0 - phi**2)], [1.0, -phi], eps[1:], zi=[phi * eps[0]])[0]
    s = math.sqrt(math.log1p(cv**2))
    return np.exp(s * z - s**2 / 2.0)


def decay(K, r, A=A, c=C, noise=None):
    k = np.arange(K + 1, dtype=np.float64)
    floor = c if noise is None else c * noise
    return floor + A * r**k


def flag_rate(make, n=N_SEEDS, **kw):
    flags = [not stationarity_test(make(np.random.default_rng(s)), **kw).stationary for s in range(n)]
    return float(np.mean(flags))


def rel_err(rate, r):
    return (1.0 - rate) / (1.0 - r) - 1.0


# --------------------------------------------------------------------------- stationarity test


@pytest.mark.parametrize("K", [200, 400, 1000])
def test_slow_example_is_flagged(K):
    # 0.01 + 0.99 * 0.995^k: the former |slope x window| <= 0.3 rule passed it (plateau 0.42 at K = 200)
    res = stationarity_test(decay(K, 0.995))
    assert isinstance(res, StationarityResult)
    assert not res.stationary
    assert math.isnan(res.plateau)
    assert res.drift < -0.3
    assert res.reason.startswith("drifting")
    assert res.window == stationarity_window(K) == (K + 1 - math.ceil(K / 2), K)


@pytest.mark.parametrize("K", [200, 400, 1000])
@pytest.mark.parametrize("r", [0.994, 0.995, 0.997, 0.999])
def test_slow_decays_not_at_floor_are_flagged_in_every_seed(K, r):
    assert A * r**K > 0.2 * C  # not at its floor yet
    assert not stationarity_test(decay(K, r)).stationary
    for phi in (0.0, 0.9):
        rate = flag_rate(lambda rng, phi=phi: decay(K, r, noise=fluct(rng, K + 1, phi)))
        assert rate == 1.0, (K, r, phi, rate)


@pytest.mark.parametrize("K", [200, 1000])
@pytest.mark.parametrize(
    "phi,kind", [(0.0, "lognormal"), (0.0, "gamma"), (0.5, "lognormal"), (0.9, "lognormal"), (0.9, "gamma")]
)
def test_flat_noisy_plateaus_pass(K, phi, kind):
    rate = flag_rate(lambda rng: C * fluct(rng, K + 1, phi, kind))
    assert rate <= 0.10, (K, phi, kind, rate)
    res = stationarity_test(C * fluct(np.random.default_rng(123), K + 1, phi, kind))
    if res.stationary:
        first, last = res.window
        assert res.plateau == pytest.approx(
            float(np.mean(C * fluct(np.random.default_rng(123), K + 1, phi, kind)[first:]))
        )


@pytest.mark.parametrize("K", [200, 1000])
@pytest.mark.parametrize("r", [0.7, 0.9])
def test_fast_decay_at_floor_passes(K, r):
    res = stationarity_test(decay(K, r))
    assert res.stationary and res.plateau == pytest.approx(C, rel=1e-3)
    for phi in (0.0, 0.9):
        rate = flag_rate(lambda rng, phi=phi: decay(K, r, noise=fluct(rng, K + 1, phi)))
        assert rate <= 0.10, (K, r, phi, rate)


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_linear_drift_is_flagged(sign):
    K = 400
    k = np.arange(K + 1)
    trend = 1.0 + sign * (k / K - 0.5)  # L changes by 100% of the floor across the run
    assert not stationarity_test(C * trend).stationary
    rate = flag_rate(lambda rng: C * trend * fluct(rng, K + 1, 0.0))
    assert rate == 1.0
    res = stationarity_test(C * trend)
    assert np.sign(res.drift) == sign


def test_plateau_of_a_noisy_floor_is_close_to_the_floor():
    plateaus = []
    for s in range(N_SEEDS):
        res = stationarity_test(decay(400, 0.9, noise=fluct(np.random.default_rng(s), 401, 0.5)))
        if res.stationary:
            plateaus.append(res.plateau)
    assert len(plateaus) >= 0.9 * N_SEEDS
    assert np.mean(plateaus) == pytest.approx(C, rel=0.02)
    assert np.max(np.abs(np.array(plateaus) / C - 1.0)) < 0.15


def test_negligible_drift_is_not_flagged():
    # r = 0.9999 changes L by < 1% across the window at K = 200: below drift_tol
    res = stationarity_test(decay(200, 0.9999))
    assert res.stationary and abs(res.drift) < 0.01 and "|drift| <= 0.01" in res.reason
    assert not stationarity_test(decay(200, 0.9999), drift_tol=0.001).stationary


def test_edge_cases():
    L = decay(100, 0.9)
    bad = L.copy()
    bad[60:] = np.nan
    res = stationarity_test(bad)
    assert not res.stationary and res.diverged and "diverged" in res.reason
    res = stationarity_test(np.r_[1.0, 0.5, np.zeros(99)])
    assert res.stationary and res.plateau == 0.0
    res = stationarity_test(np.r_[1.0, 0.5, 0.0, np.full(98, 0.1)])
    assert res.stationary  # the zero is outside the window
    res = stationarity_test(np.r_[np.full(90, 0.1), 0.0, np.full(10, 0.1)])
    assert not res.stationary and "non-positive" in res.reason
    res = stationarity_test([1.0, 0.5, 0.4, 0.3])
    assert not res.stationary and "too short" in res.reason
    res = stationarity_test(np.full(201, 0.3))
    assert res.stationary and res.plateau == pytest.approx(0.3) and abs(res.drift) < 1e-12
    with pytest.raises(ValueError):
        stationarity_test([1.0])
    with pytest.raises(ValueError):
        stationarity_test(L, alpha=0.0)
    with pytest.raises(ValueError):
        stationarity_test(L, window_fraction=1.5)


def test_deterministic():
    L = decay(300, 0.97, noise=fluct(np.random.default_rng(7), 301, 0.8))
    assert stationarity_test(L) == stationarity_test(L.copy())
    a, b = contraction_factor(L), contraction_factor(L.copy())
    assert a.rate == b.rate and a.k_range == b.k_range


# --------------------------------------------------------------------------- extension policy


def test_next_rounds_policy():
    flagged = stationarity_test(decay(200, 0.995))
    ok = stationarity_test(decay(200, 0.7))
    diverged = stationarity_test(np.r_[1.0, np.inf, np.ones(10)])
    assert next_rounds(0, None, 200, 1000, 100) == 200
    assert next_rounds(150, flagged, 200, 1000, 100) == 200
    assert next_rounds(200, ok, 200, 1000, 100) is None
    assert next_rounds(200, flagged, 200, 1000, 100) == 300
    assert next_rounds(950, flagged, 200, 1000, 100) == 1000
    assert next_rounds(1000, flagged, 200, 1000, 100) is None
    assert next_rounds(200, diverged, 200, 1000, 100) is None
    assert next_rounds(200, flagged, 200, 200, 100) is None
    with pytest.raises(ValueError):
        next_rounds(200, None, 200, 1000, 100)
    with pytest.raises(ValueError):
        next_rounds(0, None, 200, 100, 100)  # max_rounds < rounds
    with pytest.raises(ValueError):
        next_rounds(0, None, 200, 1000, 0)


def test_extend_until_stationary():
    calls = []

    def train(K, r=0.98):
        calls.append(K)
        return decay(K, r)

    # 0.01 + 0.99 * 0.98^k is still decaying at K = 200 (excess 1.7 x floor), flat by K ~ 500
    L, res = extend_until_stationary(train, rounds=200, max_rounds=2000, chunk=100)
    assert res.stationary and calls[0] == 200 and len(calls) > 1
    assert calls == list(range(200, calls[-1] + 1, 100)) and L.size == calls[-1] + 1
    assert res.plateau == pytest.approx(C, rel=0.02)
    # a slow decay runs into the budget and stays flagged
    calls.clear()
    L, res = extend_until_stationary(lambda K: train(K, 0.999), rounds=200, max_rounds=500, chunk=150)
    assert calls == [200, 350, 500] and not res.stationary


# --------------------------------------------------------------------------- contraction factor


RATE_CASES = [(0.7, 200), (0.9, 200), (0.98, 600), (0.995, 2500)]  # each run to its floor


@pytest.mark.parametrize("r,K", RATE_CASES)
def test_rate_single_exponential_noiseless(r, K):
    fit = contraction_factor(decay(K, r))
    assert isinstance(fit, RateFit) and fit.fitted
    assert abs(rel_err(fit.rate, r)) < 0.01
    assert fit.n_points >= 5 and fit.k_range[1] - fit.k_range[0] + 1 == fit.n_points
    assert fit.rate_ci[0] <= fit.rate <= fit.rate_ci[1]


@pytest.mark.parametrize("r,K", RATE_CASES)
def test_rate_single_exponential_iid_noise(r, K):
    errs = []
    for s in range(N_SEEDS):
        fit = contraction_factor(decay(K, r, noise=fluct(np.random.default_rng(s), K + 1)))
        errs.append(rel_err(fit.rate, r))
    errs = np.array(errs)
    assert np.all(np.isfinite(errs))
    assert np.max(np.abs(errs)) <= 0.05, np.max(np.abs(errs))
    assert abs(np.mean(errs)) <= 0.02


@pytest.mark.parametrize("r,K", RATE_CASES)
def test_rate_single_exponential_correlated_noise(r, K):
    errs = []
    for s in range(N_SEEDS):
        fit = contraction_factor(decay(K, r, noise=fluct(np.random.default_rng(s), K + 1, 0.9)))
        errs.append(rel_err(fit.rate, r))
    errs = np.abs(errs)
    assert np.all(np.isfinite(errs))
    assert np.mean(errs <= 0.10) >= 0.9, np.sort(errs)[-6:]
    assert np.median(errs) <= 0.03


@pytest.mark.parametrize("K", [200, 1000])
def test_rate_two_timescales_reports_the_slow_rate(K):
    k = np.arange(K + 1)
    L = 0.9 * 0.7**k + 0.1 * 0.99**k
    fit = contraction_factor(L)
    assert abs(rel_err(fit.rate, 0.99)) <= 0.05, fit
    # a single fit from k = 2 would blend the two timescales
    assert abs(rel_err(np.exp(np.polyfit(k[2:], np.log(L[2:]), 1)[0]), 0.99)) > 0.05 or K > 200


@pytest.mark.parametrize("phi", [0.0, 0.9])
def test_rate_two_timescales_with_noisy_floor(phi):
    K = 1000
    k = np.arange(K + 1)
    errs = []
    for s in range(N_SEEDS):
        xi = fluct(np.random.default_rng(s), K + 1, phi)
        fit = contraction_factor(C * xi + 0.9 * 0.7**k + 0.1 * 0.99**k)
        errs.append(abs(rel_err(fit.rate, 0.99)))
        assert fit.k_range[0] >= 5  # the second timescale was found: the fast phase (k < 5) is left out
    errs = np.array(errs)
    if phi == 0.0:
        assert np.max(errs) <= 0.10 and np.median(errs) <= 0.02, np.sort(errs)[-6:]
    else:
        assert np.mean(errs <= 0.10) >= 0.9 and np.median(errs) <= 0.05, np.sort(errs)[-6:]


def test_no_decay_to_fit_is_nan_with_reason_and_counted():
    fits = []
    for s in range(N_SEEDS):
        xi = fluct(np.random.default_rng(s), 301)
        L = C * xi
        L[0] = 0.5 * C  # L_0 below the floor
        fits.append(contraction_factor(L))
    assert all(math.isnan(f.rate) and f.reason == "no decay to fit" for f in fits)
    # a pure floor: NaN, with a reason, in every seed
    pure = [contraction_factor(C * fluct(np.random.default_rng(s), 301, 0.5)) for s in range(N_SEEDS)]
    assert all(math.isnan(f.rate) and f.reason for f in pure)
    assert all(math.isnan(f.rate) for f in [contraction_factor(np.full(301, C))])
    good = [contraction_factor(decay(200, 0.9))]
    st = rate_stats(fits + pure + good)
    assert st["count"] == 1 and st["n_total"] == 2 * N_SEEDS + 1 and st["n_nan"] == 2 * N_SEEDS
    assert st["reasons"]["no decay to fit"] >= N_SEEDS
    assert sum(st["reasons"].values()) == 2 * N_SEEDS
    assert st["mean"] == pytest.approx(good[0].rate)


def test_rate_diverged_and_given_plateau():
    L = decay(200, 0.9)
    L[150] = np.inf
    fit = contraction_factor(L)
    assert math.isnan(fit.rate) and "diverged" in fit.reason
    fit = contraction_factor(decay(1000, 0.995), plateau=C)
    assert fit.floor_source == "given" and abs(rel_err(fit.rate, 0.995)) < 0.01
    # the run is not stationary at K = 1000: the floor comes from the joint fit
    fit = contraction_factor(decay(1000, 0.995))
    assert fit.floor_source.startswith("joint") and abs(rel_err(fit.rate, 0.995)) < 0.01
