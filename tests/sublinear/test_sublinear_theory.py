"""The sublinear study's formulas: hand-computed values and Monte Carlo."""

import math

import numpy as np
import pytest

from maskedntk.studies.sublinear import engine, metrics, theory


def test_threshold_hand_values():
    # b = sqrt(0.4 ln m): ln 1024 = 6.93147, 0.4 * 6.93147 = 2.77259, sqrt = 1.66511
    assert theory.threshold(1024) == pytest.approx(1.66511, abs=1e-5)
    # ln 2^17 = 11.78350, 0.4 * 11.78350 = 4.71340, sqrt = 2.17104
    assert theory.threshold(2**17) == pytest.approx(2.17104, abs=1e-5)
    with pytest.raises(ValueError):
        theory.threshold(1)


def test_fire_probability_hand_values():
    assert theory.fire_probability(0.0) == pytest.approx(0.5)
    assert theory.fire_probability(1.0) == pytest.approx(0.158655254, rel=1e-8)
    assert theory.fire_probability(1.959963985) == pytest.approx(0.025, rel=1e-7)


def test_bound_dominates_expectation():
    for m in (2**10, 2**14, 2**17, 2**30):
        b = theory.threshold(m)
        assert theory.expected_active(m, b) <= theory.active_upper_bound(m)
        assert theory.active_upper_bound(m) == pytest.approx(m**0.8)
        # Mills ratio: Q(b) < phi(b)/b and the ratio tends to 1
        assert theory.expected_active(m, b) < theory.mills_approximation(m, b)


def test_local_exponent_matches_finite_difference():
    ms = np.array([2.0**12, 2.0**16])
    h = 1e-4
    for m in ms:
        f = lambda lm: math.log(np.exp(lm) * theory.fire_probability(math.sqrt(0.4 * lm)))
        num = (f(math.log(m) + h) - f(math.log(m) - h)) / (2 * h)
        assert theory.local_exponent([m])[0] == pytest.approx(num, rel=1e-5)
    assert theory.local_exponent([1e300])[0] < 0.8


def test_expected_active_monte_carlo():
    """E|S_fire(x)| = m Q(b) for w ~ N(0, I), any unit x: 40 independent networks."""
    m, d = 2048, 10
    b = theory.threshold(m)
    x = engine.sphere(np.random.default_rng(0), 1, d)
    counts = [engine.init_network(m, d, b, s).active_counts(x)[0] for s in range(40)]
    mean, se = np.mean(counts), np.std(counts, ddof=1) / math.sqrt(len(counts))
    assert abs(mean - theory.expected_active(m, b)) < 4 * se
    q05, q95 = theory.active_quantiles(m, b, [0.05, 0.95])
    assert q05 < theory.expected_active(m, b) < q95


def test_rate_formulas():
    assert theory.sgd_steps_bound(2.0, 0.1) == pytest.approx(400.0)
    np.testing.assert_allclose(theory.sgd_rate_envelope([4, 16], 2.0), [1.0, 0.5])
    assert theory.halfspace_query_exponent(4) == pytest.approx(0.5)
    assert theory.halfspace_query_exponent(16) == pytest.approx(0.875)


def test_loglog_slope_and_steps_to_eps():
    x = np.array([1, 2, 4, 8.0])
    assert metrics.loglog_slope(x, 3 * x**2) == pytest.approx(2.0)
    import pandas as pd

    tr = pd.DataFrame({"seed": 0, "M": 1.0, "step": [0, 10, 100, 1000], "test_loss": [1.0, 0.1, 0.01, 0.001]})
    T = metrics.steps_to_eps(tr, 0.01)
    assert T["T_eps"].iloc[0] == pytest.approx(100.0)
    T = metrics.steps_to_eps(tr, 10**-1.5)  # halfway in log between 10 and 100
    assert T["T_eps"].iloc[0] == pytest.approx(10**1.5)
    assert math.isnan(metrics.steps_to_eps(tr, 1e-9)["T_eps"].iloc[0])  # never reached
    assert math.isnan(metrics.steps_to_eps(tr, 2.0)["T_eps"].iloc[0])  # already below at t = 0


def test_width_scales_with_M_squared_over_eps_squared_and_reports_the_cap():
    # constant M^2/eps^2 = 0.004 * M^2 / 1.6e-5 = 250 M^2, rounded up to a power of 2
    assert theory.width(1.0, 4e-3, 4e-3, 1024, 16384) == (1024, True)  # 250 -> m_min
    assert theory.width(4.0, 4e-3, 4e-3, 1024, 16384) == (4096, True)  # 4000 -> 4096
    assert theory.width(8.0, 4e-3, 4e-3, 1024, 16384) == (16384, True)  # 16000 -> 16384
    assert theory.width(16.0, 4e-3, 4e-3, 1024, 16384) == (16384, False)  # 64000: capped


def test_crossover_is_the_first_m_from_which_the_tree_stays_faster():
    import pandas as pd

    ms = [2**k for k in range(10, 15)]
    rows = [dict(d=4, B=1, m=m, identifier="dense", t_ratio=1.0) for m in ms]
    for name, ratios in (("fast", [2, 0.8, 1.2, 0.9, 0.5]), ("slow", [4, 3, 2.5, 2, 1.5])):
        rows += [dict(d=4, B=1, m=m, identifier=name, t_ratio=r) for m, r in zip(ms, ratios, strict=True)]
    c = metrics.crossover(pd.DataFrame(rows)).set_index("identifier")
    assert c.loc["fast", "m_cross"] == 2**13 and c.loc["fast", "ratio_max_m"] == 0.5
    assert np.isnan(c.loc["slow", "m_cross"]) and c.loc["slow", "trend"] < 0
