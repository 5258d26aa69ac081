"""Tests of maskedntk.studies.masked.metrics on synthetic trajectories with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from maskedntk.studies.masked.metrics import (
    PlateauOptions,
    authors_estimate,
    contraction_factor,
    log_slope,
    plateau,
    plateau_window,
    seed_stats,
    summarize_trajectory,
)

K = 300


def test_plateau_window():
    # last 25% of rounds 1..K of L_0..L_K
    w = plateau_window(300, 0.25)
    assert (w.start, w.stop) == (226, 301)
    assert plateau_window(10, 1.0) == slice(1, 11)
    assert plateau_window(3, 0.01) == slice(3, 4)  # at least one round


def test_plateau_of_converging_trajectory():
    rng = np.random.default_rng(0)
    k = np.arange(K + 1)
    sigma = 0.01
    L = 10 * 0.9**k + 0.5 + sigma * rng.standard_normal(K + 1)
    # the window is the last 75 rounds; there 10 * 0.9^k < 5e-10, so the plateau is 0.5 plus the
    # mean of 75 noise draws, whose standard error is sigma / sqrt(75) = 1.2e-3: allow 5 of them.
    tol = 5 * sigma / math.sqrt(75)
    assert plateau(L, 0.25) == pytest.approx(0.5, abs=tol)
    s = summarize_trajectory(L)
    assert s["plateau"] == pytest.approx(0.5, abs=tol)
    assert s["converged"] is True
    assert abs(s["plateau_drift"]) < 0.05
    assert s["window_start"] == 226
    assert s["L0"] == L[0] and s["final"] == L[-1]
    # the transient contracts by ~0.9 per round (the noise makes this approximate; the excess
    # is fitted down to 5% of its start, where it is still ~25 sigma above the floor)
    assert s["rate_empirical"] == pytest.approx(0.9, abs=0.01)
    # the authors' estimator sits at the floor too (best 10-round mean, noise se 0.01/sqrt(11))
    assert s["authors_estimate"] == pytest.approx(0.5, abs=0.5 * 0.01 + 5 * 0.01 / math.sqrt(11))


def test_still_decaying_trajectory_not_converged():
    k = np.arange(K + 1)
    L = 10 * 0.99**k
    s = summarize_trajectory(L)
    # slope log(0.99) over a 75-round window: drift = -0.754, beyond the 0.3 tolerance
    assert s["plateau_slope"] == pytest.approx(math.log(0.99), rel=1e-9)
    assert s["plateau_drift"] == pytest.approx(75 * math.log(0.99), rel=1e-9)
    assert s["converged"] is False
    # a looser tolerance accepts it
    assert summarize_trajectory(L, PlateauOptions(stationarity_tol=0.8))["converged"] is True


def test_log_slope():
    k = np.arange(50)
    assert log_slope(3.0 * np.exp(-0.2 * k)) == pytest.approx(-0.2, rel=1e-10)
    assert math.isnan(log_slope([1.0]))
    assert math.isnan(log_slope([0.0, -1.0, 2.0]))  # only one positive point


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.95, 0.99])
@pytest.mark.parametrize("A,P", [(10.0, 0.5), (3.0, 0.0), (1e3, 2.0)])
def test_contraction_factor_recovers_rho(rho, A, P):
    k = np.arange(1000 + 1)
    L = A * rho**k + P
    assert contraction_factor(L, P) == pytest.approx(rho, abs=1e-6)
    assert contraction_factor(L, P, transient_fraction=0.5) == pytest.approx(rho, abs=1e-6)


def test_contraction_factor_degenerate_cases():
    assert math.isnan(contraction_factor(np.array([1.0, 0.5, 0.4]), 2.0))  # L_0 below the floor
    assert math.isnan(contraction_factor(np.array([np.nan, 1.0, 0.5]), 0.0))
    # the first round below the transient threshold is included in the fit (k = 0..k_end)
    assert contraction_factor(np.array([1.0, 0.01, 0.02]), 0.0) == pytest.approx(0.01, rel=1e-12)
    assert math.isnan(contraction_factor(np.array([1.0, -0.5, 0.3]), 0.0))  # one positive excess only
    # a dip below the floor ends the fitted segment instead of producing log of a negative number
    L = np.array([8.0, 4.0, 2.0, 1.0, 0.5, -0.1, 3.0])
    assert contraction_factor(L, 0.0, transient_fraction=0.01) == pytest.approx(0.5, rel=1e-12)


def brute_authors(L, w):
    return min(np.mean(L[max(0, k - w) : k + 1]) for k in range(1, len(L)))


@pytest.mark.parametrize("w", [1, 3, 10, 50])
def test_authors_estimate_brute_force(w):
    rng = np.random.default_rng(w)
    for size in (2, 7, 40, 200):
        L = rng.exponential(size=size) + rng.standard_normal(size)
        assert authors_estimate(L, w) == pytest.approx(brute_authors(L, w), rel=1e-12, abs=1e-12)


def test_authors_estimate_excludes_round_zero_alone():
    # min over k >= 1: a tiny L_0 on its own is never the answer
    L = np.array([0.0, 5.0, 6.0, 7.0])
    assert authors_estimate(L, 10) == pytest.approx(2.5)  # mean(L_0, L_1)
    assert authors_estimate(L, 1) == pytest.approx(2.5)


def test_summarize_diverged_trajectory():
    L = np.array([1.0, 2.0, 50.0, 1e6, np.nan, np.nan, np.nan, np.nan])
    s = summarize_trajectory(L)
    assert math.isnan(s["plateau"])
    assert s["converged"] is False
    assert math.isnan(s["rate_empirical"]) and math.isnan(s["authors_estimate"])
    assert s["L0"] == 1.0 and math.isnan(s["final"])
    s_inf = summarize_trajectory(np.array([1.0, 10.0, np.inf, np.inf]))
    assert math.isnan(s_inf["plateau"]) and s_inf["converged"] is False


def test_plateau_options_validation():
    with pytest.raises(ValueError, match="plateau.fraction"):
        PlateauOptions(fraction=0.0)
    with pytest.raises(ValueError, match="plateau.transient_fraction"):
        PlateauOptions(transient_fraction=1.0)
    with pytest.raises(ValueError, match="plateau.authors_window"):
        PlateauOptions(authors_window=0)
    with pytest.raises(ValueError, match="plateau.stationarity_tol"):
        PlateauOptions(stationarity_tol=-1)


def test_seed_stats():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(9) + 3
    st = seed_stats(v)
    assert st["count"] == 9
    assert st["mean"] == pytest.approx(np.mean(v), rel=1e-14)
    assert st["se"] == pytest.approx(np.std(v, ddof=1) / 3.0, rel=1e-12)
    w = np.concatenate([v, [np.nan, np.nan]])
    st2 = seed_stats(list(w))
    assert st2 == pytest.approx(st) and st2["count"] == 9
    one = seed_stats([2.0, np.nan])
    assert one["count"] == 1 and one["mean"] == 2.0 and math.isnan(one["se"])
    none = seed_stats([np.nan])
    assert none["count"] == 0 and math.isnan(none["mean"]) and math.isnan(none["se"])
