"""Tests of maskedntk.studies.masked.metrics on synthetic trajectories with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from maskedntk.studies.masked.metrics import (
    PlateauOptions,
    authors_early_stop,
    authors_estimate,
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
    # the stationarity window is the last half (rounds 151..300), where 10 * 0.9^k < 1e-6: the
    # plateau is 0.5 plus the mean of 150 noise draws (s.e. sigma / sqrt(150)): allow 5 of them
    s = summarize_trajectory(L)
    assert s["stationary"] is True
    assert s["plateau"] == pytest.approx(0.5, abs=5 * sigma / math.sqrt(150))
    assert s["window_start"] == 151 and s["rounds_run"] == K
    # the paper's "error after K rounds": the last quarter of the K rounds
    assert s["error_after_K"] == pytest.approx(plateau(L, 0.25), rel=1e-15)
    assert s["L0"] == L[0] and s["final"] == L[-1]
    # the transient contracts by 0.9 per round
    assert s["rate_empirical"] == pytest.approx(0.9, abs=0.01)
    assert s["authors_estimate"] == pytest.approx(0.5, abs=0.5 * 0.01 + 5 * 0.01 / math.sqrt(11))


def test_slow_transient_is_not_a_neighbourhood():
    """The example of the verdicts issue: 0.01 + 0.99 * 0.995^k over K = 200 rounds is still
    falling; the old test called it converged with plateau 0.42 (42x its floor)."""
    k = np.arange(201)
    s = summarize_trajectory(0.01 + 0.99 * 0.995**k)
    assert s["stationary"] is False
    assert math.isnan(s["plateau"])
    assert s["window_mean"] > 0.3  # what a transient would have reported
    assert "not stationary" in s["stationarity_reason"] or "drift" in s["stationarity_reason"]
    # the paper's error-after-K number stays available
    assert s["error_after_K"] == pytest.approx(plateau(0.01 + 0.99 * 0.995**k, 0.25), rel=1e-15)


def test_rounds_limits_the_papers_columns_to_the_first_K():
    """An extended run (rounds_run > rounds): error_after_K and the authors' estimator use
    the first ``rounds`` rounds only, the plateau the stationary window of the whole run."""
    rng = np.random.default_rng(3)
    k = np.arange(601)
    L = 0.2 + 0.8 * 0.98**k + 0.002 * rng.standard_normal(601)
    s = summarize_trajectory(L, rounds=200)
    assert s["rounds_run"] == 600
    assert s["error_after_K"] == pytest.approx(plateau(L[:201], 0.25), rel=1e-15)
    assert s["authors_estimate"] == pytest.approx(authors_estimate(L[:201], 10), rel=1e-15)
    assert s["stationary"] and s["plateau"] == pytest.approx(0.2, abs=0.002)


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
    assert s["stationary"] is False
    assert math.isnan(s["rate_empirical"]) and math.isnan(s["authors_estimate"])
    assert s["rate_reason"].startswith("non-finite")
    assert s["L0"] == 1.0 and math.isnan(s["final"])
    s_inf = summarize_trajectory(np.array([1.0, 10.0, np.inf, np.inf]))
    assert math.isnan(s_inf["plateau"]) and s_inf["stationary"] is False


def test_plateau_options_validation():
    with pytest.raises(ValueError, match="metrics.fraction"):
        PlateauOptions(fraction=0.0)
    with pytest.raises(ValueError, match="metrics.authors_window"):
        PlateauOptions(authors_window=0)


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


def test_authors_early_stop_stops_at_the_first_non_improvement():
    # running means over 2 rounds: k=1: 4.5, k=2: 3.5, k=3: 3.5 (no improvement: stop)
    L = np.array([5.0, 4.0, 3.0, 4.0, 0.1, 0.1])
    assert authors_early_stop(L, 2) == pytest.approx(3.5)
    # the whole-run estimator would have found the later dip
    assert authors_estimate(L, 1) == pytest.approx(0.1)
    # a monotone decrease is followed to the end
    k = np.arange(50)
    assert authors_early_stop(0.9**k, 10) == pytest.approx(np.mean(0.9 ** k[-10:]), rel=1e-12)
    assert math.isnan(authors_early_stop(np.array([1.0, np.nan]), 10))
