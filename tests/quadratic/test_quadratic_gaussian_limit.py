"""The Gaussian setup's d = infinity limit: Marchenko-Pastur pieces by hand, the deterministic
equivalent of tr N against exact finite-d matrices, the solver's late slope against the formula,
and the finite-d late slope against gradient descent."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from maskedntk.studies.quadratic import engine, problems
from maskedntk.studies.quadratic import gaussian_limit as gl

torch.set_num_threads(1)


def test_mp_hand_values():
    assert gl.mp_edges(0.25) == pytest.approx((0.25, 2.25))
    assert gl.mp_edges(1.0) == pytest.approx((0.0, 4.0))
    # c = 1: x = s^2 with s quarter-circle on [0, 2]; int_0^2 x dMP = (1/2pi) (quarter disc of radius 2) = 1/2
    assert gl.mp_partial_mean(2.0, 1.0) == pytest.approx(0.5, abs=1e-14)
    # P(x <= 1) = P(s <= 1) = (sqrt(3)/2 + pi/3) / pi
    assert gl.mp_cdf(1.0, 1.0) == pytest.approx((math.sqrt(3) / 2 + math.pi / 3) / math.pi, rel=1e-10)
    for c in (0.25, 0.5, 0.9):
        a, b = gl.mp_edges(c)
        assert gl.mp_partial_mean(b, c) == pytest.approx(1.0) and gl.mp_partial_mean(a, c) == pytest.approx(0.0)
        assert gl.mp_cdf(b, c) == pytest.approx(1.0, abs=1e-10)
        assert gl.mp_cdf(gl.mp_quantile(0.3, c), c) == pytest.approx(0.3, abs=1e-12)


def test_partial_mean_against_plain_quadrature():
    c, q = 0.5, 1.3
    a, _ = gl.mp_edges(c)
    x = np.linspace(a, q, 400_001)
    mid = 0.5 * (x[1:] + x[:-1])
    plain = float(np.sum(mid * gl.mp_density(mid, c) * np.diff(x)))
    assert gl.mp_partial_mean(q, c) == pytest.approx(plain, rel=1e-6)


def test_late_slope_hand_values():
    assert gl.late_slope_orthonormal(0.25, 0.5) == pytest.approx(-4.0)
    # eigenvalues 3, 2, 1, 0.5, m = 2, d = 4: -2 * 4 * (1 + 0.5) / (2 + 2) = -3
    assert gl.late_slope_finite([1.0, 3.0, 0.5, 2.0], 2, 4) == pytest.approx(-3.0)
    # alpha = alpha*/2: q is the median of MP_{alpha*}; slope -(2/alpha) * (mean of the lower half)
    c = 0.5
    med = gl.mp_quantile(0.5, c)
    assert gl.late_slope(0.25, c) == pytest.approx(-8.0 * gl.mp_partial_mean(med, c))
    assert gl.late_slope(0.25, c) == pytest.approx(-1.682, abs=1e-3)
    with pytest.raises(ValueError, match="alpha_star"):
        gl.late_slope(0.5, 0.25)


def test_late_slope_is_the_large_d_wishart_value():
    # finite-d formula of a sampled teacher (V: N(0, 1/(m* d)) entries) at d = 2000 -> the MP formula
    d, a, s = 2000, 0.25, 0.5
    m, ms = int(a * d), int(s * d)
    V = np.random.default_rng(0).standard_normal((d, ms)) / math.sqrt(ms * d)
    finite = gl.late_slope_finite(np.linalg.eigvalsh(V.T @ V), m, d)
    assert finite == pytest.approx(gl.late_slope(a, s), rel=0.01)


def test_nu_nodes_moments():
    for c in (0.25, 0.5):
        x, w = gl.nu_nodes(c, 300)
        assert w.sum() == pytest.approx(1.0, abs=1e-12)  # mass 1 over the d coordinates
        assert np.sum(w * x) == pytest.approx(c, rel=1e-12)  # (1/d) sum x = alpha* (mean of MP is 1)
        assert np.sum(w * x * x) == pytest.approx(c * (1 + c), rel=1e-12)  # second moment of MP_c: 1 + c


@pytest.mark.parametrize("a,s", [(0.25, 0.5), (0.5, 0.25)])
def test_trace_N_deterministic_equivalent_against_exact_matrices(a, s):
    """tr N = tr(K^{-1} W0^T E^2 W0), K = I + 4 W0^T H W0, at d = 1000 with Gaussian W0 and a
    sampled Wishart teacher, against the deterministic equivalent on the same teacher spectrum."""
    d, gamma = 1000, 0.6
    m, ms = int(a * d), int(s * d)
    rng = np.random.default_rng(1)
    G = rng.standard_normal((d, ms))
    x = np.concatenate([np.linalg.eigvalsh(G.T @ G / d), np.zeros(d - ms)])  # lambda d alpha*
    rate = 4 * x / s
    with np.errstate(divide="ignore", invalid="ignore"):  # k for phi = 0: int_0^gamma e^{-rate (gamma - t)}
        k = np.where(rate > 0, -np.expm1(-rate * gamma) / rate, gamma)
    exact = []
    for _ in range(2):
        W0 = rng.standard_normal((d, m)) / math.sqrt(m * d)
        H = d * k * np.exp(rate * gamma)
        K = np.eye(m) + 4 * W0.T @ (H[:, None] * W0)
        exact.append(np.trace(np.linalg.solve(K, W0.T @ (np.exp(rate * gamma)[:, None] * W0))))
    same, _ = gl.trace_N(k, -rate * gamma, np.full(d, 1.0 / d), a)
    assert np.mean(exact) == pytest.approx(same, rel=0.01)
    # the continuum (quadrature of nu) agrees with the sampled spectrum
    xn, wn = gl.nu_nodes(s, 400)
    rn = 4 * xn / s
    with np.errstate(divide="ignore", invalid="ignore"):
        kn = np.where(rn > 0, -np.expm1(-rn * gamma) / rn, gamma)
    cont, u = gl.trace_N(kn, -rn * gamma, wn, a)
    assert cont == pytest.approx(same, rel=0.01) and u > 1


def test_solver_start_nodes_and_late_slope():
    g = np.linspace(0.0, 10.0, 101)
    L = gl.solve_gaussian_limit(0.25, 0.5, g, n_nodes=400)
    L2 = gl.solve_gaussian_limit(0.25, 0.5, g, n_nodes=800)
    assert L.phi[0] == 0.0 and L.log_u[0] == 0.0
    assert np.max(np.abs(L.phi - L2.phi)) < 1e-6  # quadrature converged
    late = g >= 6
    slope = np.polyfit(g[late], L.phi[late], 1)[0]
    assert slope == pytest.approx(gl.late_slope(0.25, 0.5), abs=3e-3)
    assert not slope == pytest.approx(gl.late_slope_orthonormal(0.25, 0.5), abs=0.5)


def test_gd_late_slope_matches_the_finite_d_formula():
    d, m, ms, eta = 24, 6, 12, 0.05
    prob = problems.make_problem("gaussian", d, m, ms, range(3), normalize=True)
    n = int(10 * d / eta)
    rec = np.arange(int(6 * d / eta), n + 1, 40)
    traj = engine.run_population_gd(prob.W0, prob.V, eta, n, rec)
    gamma = eta * rec / d
    for i in range(3):
        measured = np.polyfit(gamma, traj.phi[i], 1)[0]
        ev = np.linalg.eigvalsh((prob.V[i].T @ prob.V[i]).numpy())
        assert measured == pytest.approx(gl.late_slope_finite(ev, m, d), rel=0.01)
