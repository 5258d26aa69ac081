"""Tests of maskedntk.studies.masked.theory against Monte-Carlo estimates, autodiff NTKs and hand-written formulas.

Reference: docs/masked/mathematics.md sections 1 and 3 (Liao & Kyrillidis, arXiv 2112.02668v1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from maskedntk.studies.masked import theory


def unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    g = rng.standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def X8() -> np.ndarray:
    """n = 8 unit vectors in d = 5, with one pair forced to have a clearly negative inner product."""
    rng = np.random.default_rng(12345)
    X = unit_rows(rng, 8, 5)
    v = -X[0] + 0.4 * rng.standard_normal(5)
    X[1] = v / np.linalg.norm(v)
    G = X @ X.T
    assert G[0, 1] < -0.5  # the negative pair the brief asks for
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-14)
    return X


# ----------------------------------------------------------------------------------------------
# ntk_gram: closed form vs Monte Carlo over w ~ N(0, I)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("xi", [1.0, 0.35])
def test_ntk_gram_matches_monte_carlo(X8, xi):
    n, d = X8.shape
    rng = np.random.default_rng(2024)
    N, chunk = 400_000, 100_000
    G = X8 @ X8.T
    s1 = np.zeros((n, n))  # sum of indicator products over draws
    for _ in range(N // chunk):
        W = rng.standard_normal((chunk, d))
        A = (X8 @ W.T >= 0).astype(np.float64)  # n x chunk, 1{<w, x_i> >= 0}
        s1 += A @ A.T
    q = s1 / N  # frequency of {<w,x_i> >= 0, <w,x_j> >= 0}
    mc = xi * G * q
    # Z = xi * <x_i,x_j> * B with B Bernoulli(q): the standard error of the mean is
    # xi |<x_i,x_j>| sqrt(q (1 - q) / N) (plug-in q).  5 standard errors + a tiny floor.
    se = xi * np.abs(G) * np.sqrt(q * (1.0 - q) / N)
    H = theory.ntk_gram(X8, xi)
    assert H.shape == (n, n)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-15)
    err = np.abs(H - mc)
    assert np.all(err <= 5.0 * se + 1e-12), f"max err/se = {np.max(err / (se + 1e-300)):.2f}"
    # the standard error is small enough for this to be a real check (~1e-3 or below)
    assert se.max() < 1e-3
    # diagonal: xi * 1 * (pi - 0) / (2 pi) = xi / 2.  Not to machine precision: <x_i, x_i> of a
    # normalised row is 1 - O(1e-16) and arccos'(1) is infinite, so arccos returns up to ~2e-8
    # instead of 0, a relative error of ~1e-8 in H_ii (documented in the report as a limitation).
    np.testing.assert_allclose(np.diag(H), xi / 2.0, rtol=2e-8)
    # the negative pair is negative in both
    assert H[0, 1] < 0 and mc[0, 1] < 0


def test_ntk_gram_closed_form_entries_by_hand():
    # two unit vectors at a known angle: cos = 0.5 -> arccos = pi/3 -> H = xi * 0.5 * (2pi/3)/(2pi) = xi/6
    X = np.array([[1.0, 0.0], [0.5, math.sqrt(3) / 2]])
    H = theory.ntk_gram(X, 0.6)
    # rtol 2e-8, not 1e-14: ||x_2||^2 rounds to 1 - 1e-16 and arccos near 1 amplifies that to ~1e-8
    np.testing.assert_allclose(H, [[0.3, 0.1], [0.1, 0.3]], rtol=2e-8)
    # orthogonal vectors give exactly 0 off the diagonal
    H2 = theory.ntk_gram(np.eye(3), 1.0)
    np.testing.assert_allclose(H2, 0.5 * np.eye(3), atol=1e-16)


def test_ntk_gram_clips_cosine():
    """Rounding can push <x_i, x_j> a hair above 1 (or below -1); the cosine is clipped so no NaN."""
    x = np.array([0.6, 0.8, 0.0]) * (1 + 1e-15)
    X = np.vstack([x, x, -x])
    H = theory.ntk_gram(X, 1.0)
    assert np.all(np.isfinite(H))
    np.testing.assert_allclose(H[0, 1], 0.5, rtol=1e-12)  # parallel: like the diagonal
    assert abs(H[0, 2]) < 1e-7  # antiparallel: (pi - arccos(-1)) = 0


def test_ntk_gram_rejects_bad_xi(X8):
    for xi in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="xi"):
            theory.ntk_gram(X8, xi)


# ----------------------------------------------------------------------------------------------
# ntk_gram vs the empirical first-layer NTK of a wide network (torch.func)
# ----------------------------------------------------------------------------------------------

M_WIDE = 50_000


def empirical_ntk(X: np.ndarray, mask: np.ndarray | None, seed: int) -> np.ndarray:
    """sum over the entries of W of grad_W f(x_i) * grad_W f(x_j) for
    f(W, x) = (1/sqrt(m)) sum_r a_r mask_r relu(<w_r, x>), at w_r ~ N(0, I), a_r = +-1, float64."""
    from torch.func import jacrev, vmap

    n, d = X.shape
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(M_WIDE, d, generator=g, dtype=torch.float64)
    a = torch.randint(0, 2, (M_WIDE,), generator=g).to(torch.float64) * 2 - 1
    mvec = torch.ones(M_WIDE, dtype=torch.float64) if mask is None else torch.as_tensor(mask, dtype=torch.float64)
    Xt = torch.as_tensor(X, dtype=torch.float64)

    def f(W_, x):
        return (a * mvec * torch.relu(W_ @ x)).sum() / math.sqrt(M_WIDE)

    J = vmap(jacrev(f), in_dims=(None, 0))(W, Xt)  # n x m x d
    assert J.shape == (n, M_WIDE, d)
    return torch.einsum("imd,jmd->ij", J, J).numpy()


# Tolerance.  The empirical Gram is K_ij = (1/m) sum_r Z_r with
#   Z_r = a_r^2 mask_r 1{<w_r,x_i> >= 0} 1{<w_r,x_j> >= 0} <x_i,x_j> = <x_i,x_j> * B_r,
# B_r i.i.d. Bernoulli, so Var Z_r <= 1/4 (|<x_i,x_j>| <= 1) and the standard deviation of K_ij is
# at most 1/(2 sqrt(m)) (= 0.0022 at m = 50000).  We allow 5 of those: 2.5/sqrt(m) = 0.011, which
# is much smaller than the entries being compared (diagonal xi/2 = 0.5 or 0.2) and than the
# difference a missing xi factor would make.
NTK_TOL = 5.0 * 0.5 / math.sqrt(M_WIDE)


def test_empirical_ntk_matches_ntk_gram(X8):
    K = empirical_ntk(X8, None, seed=0)
    H = theory.ntk_gram(X8, 1.0)
    assert np.max(np.abs(K - H)) < NTK_TOL, np.max(np.abs(K - H))


def test_masked_empirical_ntk_has_xi_factor(X8):
    xi = 0.4
    rng = np.random.default_rng(7)
    mask = (rng.random(M_WIDE) < xi).astype(np.float64)
    K = empirical_ntk(X8, mask, seed=1)
    H = theory.ntk_gram(X8, xi)
    # same bound: Z_r = <x_i,x_j> * mask_r * indicators is still <x_i,x_j> times a Bernoulli
    assert np.max(np.abs(K - H)) < NTK_TOL, np.max(np.abs(K - H))
    # and it is clearly not the unmasked kernel
    assert np.max(np.abs(K - theory.ntk_gram(X8, 1.0))) > 10 * NTK_TOL


# ----------------------------------------------------------------------------------------------
# lambda_min / lambda_max / ntk_spectrum
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,d", [(8, 5), (30, 3), (40, 20)])
def test_lambda_min_positive_and_matches_eigvalsh(n, d):
    X = unit_rows(np.random.default_rng(n * 100 + d), n, d)
    H = theory.ntk_gram(X, 1.0)
    ev = np.linalg.eigvalsh(H)
    lam0 = theory.lambda_min(H)
    assert lam0 > 0
    assert lam0 == pytest.approx(ev[0], rel=1e-12, abs=1e-15)
    assert theory.lambda_max(H) == pytest.approx(ev[-1], rel=1e-12)
    lo, hi = theory.ntk_spectrum(X, 1.0)
    assert lo == pytest.approx(ev[0], rel=1e-10, abs=1e-15)
    assert hi == pytest.approx(ev[-1], rel=1e-12)


def test_lambda0_is_linear_in_xi(X8):
    base_lo, base_hi = theory.ntk_spectrum(X8, 1.0)
    for xi in (0.1, 0.25, 0.5, 0.9):
        lo, hi = theory.ntk_spectrum(X8, xi)
        assert lo == pytest.approx(xi * base_lo, rel=1e-10)
        assert hi == pytest.approx(xi * base_hi, rel=1e-12)
        assert theory.lambda_min(theory.ntk_gram(X8, xi)) == pytest.approx(xi * base_lo, rel=1e-10)


def test_lambda_min_of_duplicated_rows_is_zero():
    X = unit_rows(np.random.default_rng(3), 5, 4)
    X = np.vstack([X, X[2]])
    assert abs(theory.lambda_min(theory.ntk_gram(X))) < 1e-12


# ----------------------------------------------------------------------------------------------
# B1 of Theorem 3, written out literally
# ----------------------------------------------------------------------------------------------

CONF = dict(n=100, d=10, m=1000, xi=0.5, p=4, tau=3, eta=0.01, kappa=1.0, lambda0=0.03)


def b1_by_hand(n, d, m, xi, p, tau, eta, kappa, lambda0):
    theta = 1 - (1 - xi) ** p
    C1 = 4 * theta**2 * (1 - xi) * n * kappa**2 / p
    t = {
        "width": 64 * (1 - xi) ** 2 * n**3 * d / (m * lambda0**2),
        "step_variance": 68 * eta * tau * (theta - xi**2) * n**3 * kappa**2 / (p * lambda0),
        "mask_variance": (theta - xi**2) * n * kappa**2 / (6 * tau**2 * p),
        "local_drift": (tau - 1) ** 2 * p * C1 / (24 * tau**2),
        "local_drift_step2": 8 * eta**2 * (tau - 1) ** 2 * n**4 * p * C1 / lambda0**2,
        "local_drift_step": 4 * eta * (tau - 1) * p * n * C1,
    }
    return t, C1


def test_b1_terms_against_hand_formulas():
    got = theory.b1_terms(**CONF)
    want, C1 = b1_by_hand(**CONF)
    assert set(theory.B1_TERMS) == set(want)
    # theta = 1 - 0.5^4 = 0.9375, C1 = 4 * 0.9375^2 * 0.5 * 100 / 4 = 43.9453125
    assert C1 == pytest.approx(43.9453125, rel=1e-15)
    assert got["C1"] == pytest.approx(C1, rel=1e-12)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-12), k
    assert got["B1"] == pytest.approx(sum(want.values()), rel=1e-12)
    assert theory.b1(**CONF) == pytest.approx(sum(want.values()), rel=1e-12)
    # a few terms by pencil: width = 64 * 0.25 * 1e6 * 10 / (1000 * 9e-4) = 1.7777...e8
    assert got["width"] == pytest.approx(64 * 0.25 * 1e7 / 0.9, rel=1e-12)
    # mask variance = (0.9375 - 0.25) * 100 / (6 * 9 * 4) = 68.75 / 216
    assert got["mask_variance"] == pytest.approx(68.75 / 216, rel=1e-12)
    # local drift = 4 * 4 * C1 / (24 * 9)
    assert got["local_drift"] == pytest.approx(16 * 43.9453125 / 216, rel=1e-12)


@pytest.mark.parametrize("conf", [CONF, dict(CONF, xi=0.2, p=7, kappa=0.3, eta=0.003)])
def test_b1_local_drift_terms_vanish_at_tau_1(conf):
    got = theory.b1_terms(**dict(conf, tau=1))
    for k in ("local_drift", "local_drift_step2", "local_drift_step"):
        assert got[k] == 0.0
    assert got["mask_variance"] > 0 and got["width"] > 0 and got["step_variance"] > 0
    want, _ = b1_by_hand(**dict(conf, tau=1))
    assert got["B1"] == pytest.approx(sum(want.values()), rel=1e-12)


def test_b1_one_minus_xi_terms_vanish_at_xi_1():
    got = theory.b1_terms(**dict(CONF, xi=1.0))
    assert got["C1"] == 0.0
    for k in ("width", "local_drift", "local_drift_step2", "local_drift_step"):
        assert got[k] == 0.0
    # theta = 1 = xi^2, so the variance terms vanish too and B1 = 0 (plain GD has no neighbourhood)
    assert got["step_variance"] == 0.0 and got["mask_variance"] == 0.0
    assert got["B1"] == 0.0
    # but not at xi slightly below 1
    assert theory.b1_terms(**dict(CONF, xi=0.99))["width"] > 0


def test_b1_rejects_bad_arguments():
    with pytest.raises(ValueError, match="lambda0"):
        theory.b1_terms(**dict(CONF, lambda0=0.0))
    with pytest.raises(ValueError, match="tau"):
        theory.b1_terms(**dict(CONF, tau=0))
    with pytest.raises(ValueError, match="xi"):
        theory.b1_terms(**dict(CONF, xi=1.2))


# ----------------------------------------------------------------------------------------------
# theta = coverage probability
# ----------------------------------------------------------------------------------------------


def test_coverage_probability_special_values():
    for p in (1, 2, 5, 17):
        assert theory.coverage_probability(1.0, p) == 1.0
    for xi in (0.05, 0.3, 0.5, 0.99):
        assert theory.coverage_probability(xi, 1) == pytest.approx(xi, rel=1e-15)
    assert theory.coverage_probability(0.5, 3) == pytest.approx(0.875, rel=1e-15)
    for xi in (0.1, 0.5, 0.8):
        th = [theory.coverage_probability(xi, p) for p in range(1, 12)]
        assert all(b > a for a, b in zip(th, th[1:], strict=False))
        assert all(0 < t < 1 for t in th)


def test_coverage_probability_rejects_bad_arguments():
    with pytest.raises(ValueError, match="p"):
        theory.coverage_probability(0.5, 0)
    with pytest.raises(ValueError, match="xi"):
        theory.coverage_probability(0.0, 3)


@pytest.mark.parametrize("xi,p", [(0.3, 1), (0.3, 4), (0.1, 10), (0.7, 2)])
def test_coverage_probability_monte_carlo(xi, p):
    rng = np.random.default_rng(int(xi * 1000) + p)
    N = 200_000
    held = (rng.random((N, p)) < xi).any(axis=1)
    freq = held.mean()
    theta = theory.coverage_probability(xi, p)
    se = math.sqrt(theta * (1 - theta) / N)
    assert abs(freq - theta) < 4 * se, (freq, theta, se)


# ----------------------------------------------------------------------------------------------
# rate factors and error orders
# ----------------------------------------------------------------------------------------------


def test_rate_factor_thm3_by_hand():
    assert theory.rate_factor_thm3(0.01, 0.9375, 3, 0.03) == pytest.approx(1 - 0.01 * 0.9375 * 3 * 0.03 / 4, rel=1e-15)
    assert theory.rate_factor_thm3(2.0, 1.0, 1, 1.0) == pytest.approx(0.5, rel=1e-15)
    # the rate improves (factor falls) with theta, tau and eta
    r = [theory.rate_factor_thm3(0.1, theory.coverage_probability(0.3, p), 2, 0.2) for p in (1, 2, 4, 8)]
    assert all(b < a for a, b in zip(r, r[1:], strict=False))


def test_rate_factor_thm7_by_hand():
    eta, lam, tau = 0.2, 0.5, 3
    want = 0.5 + 0.5 * (1 - eta * lam / 2) ** tau
    assert theory.rate_factor_thm7(eta, lam, tau) == pytest.approx(want, rel=1e-15)
    assert want == pytest.approx(0.5 + 0.5 * 0.95**3, rel=1e-15)
    # never below 1/2, decreasing in tau
    vals = [theory.rate_factor_thm7(eta, lam, t) for t in (1, 2, 5, 50)]
    assert all(b < a for a, b in zip(vals, vals[1:], strict=False))
    assert min(vals) > 0.5


def test_error_order_thm7():
    base = dict(tau=2, p=4, n=50, d=10, lambda0=0.02, m=1000)
    v = theory.error_order_thm7(**base)
    assert v == pytest.approx(2 * 9 * 50**3 * 10 / (0.02**2 * 1000), rel=1e-12)
    assert theory.error_order_thm7(**dict(base, p=1)) == 0.0
    ms = [theory.error_order_thm7(**dict(base, m=m)) for m in (100, 1000, 10000)]
    assert ms[0] > ms[1] > ms[2] > 0
    taus = [theory.error_order_thm7(**dict(base, tau=t)) for t in (1, 2, 5)]
    assert taus[0] < taus[1] < taus[2]
    ps = [theory.error_order_thm7(**dict(base, p=p)) for p in (2, 3, 6)]
    assert ps[0] < ps[1] < ps[2]


def test_error_orders_of_corollaries():
    assert theory.error_order_cor4(0.3) == pytest.approx(0.7, rel=1e-15)
    assert theory.error_order_cor4(1.0) == 0.0
    xi, p, n, K, tau = 0.5, 4, 100, 200, 3
    theta = 0.9375
    cor5 = 0.25 / (100 * 200) + (0.9375 - 0.25) / 4
    assert theory.error_order_cor5(xi, p, n, K) == pytest.approx(cor5, rel=1e-14)
    # Corollary 6, derived form: (theta - xi^2)/p, as Corollary 5 and Theorem 3's mask-variance term
    cor6 = 0.25 / (100 * 200) + (0.9375 - 0.25) / 4 + 4 * theta**2 * 0.5 / 9
    assert theory.error_order_cor6(xi, p, tau, n, K) == pytest.approx(cor6, rel=1e-14)
    # the printed form (misprint): (theta - xi)/p
    printed = 0.25 / (100 * 200) + (0.9375 - 0.5) / 4 + 4 * theta**2 * 0.5 / 9
    assert theory.error_order_cor6(xi, p, tau, n, K, printed=True) == pytest.approx(printed, rel=1e-14)
    # at tau = 1 the third term vanishes, and Cor. 6 must agree with Cor. 5 (same setting)
    assert theory.error_order_cor6(xi, p, 1, n, K) == pytest.approx(theory.error_order_cor5(xi, p, n, K), rel=1e-14)
    # the erratum's worked number: xi = 0.5, p = 1, tau = 1, n = 100, K = 200
    assert theory.error_order_cor6(0.5, 1, 1, 100, 200) == pytest.approx(0.25 + 0.25 / 20000, rel=1e-14)
    assert theory.error_order_cor6(0.5, 1, 1, 100, 200, printed=True) == pytest.approx(1.25e-5, rel=1e-12)
    # at xi = 1 everything is zero
    assert theory.error_order_cor5(1.0, 3, n, K) == 0.0
    assert theory.error_order_cor6(1.0, 3, 5, n, K) == 0.0


def test_theorem_bounds():
    k = np.arange(4)
    np.testing.assert_allclose(theory.theorem3_bound(k, 10.0, 0.5, 1.0), [11.0, 6.0, 3.5, 2.25], rtol=1e-15)
    np.testing.assert_allclose(theory.theorem7_bound(k, 2.0, 5, 0.5, 0.1), 20 * 0.5**k + 0.1, rtol=1e-15)


def test_eta_theory_and_requirements_report():
    kw = dict(n=100, d=10, m=1000, K=200, p=4, tau=3, eta=0.01, kappa=1.0, xi=0.5, lambda0=0.03, delta=0.1)
    rep = theory.requirements_report(mask="bernoulli", **kw)
    assert rep["theorem"] == "Theorem 3"
    eta_req = 0.03 / (max(100, 4) * 100 * 3)
    assert rep["eta_required"] == pytest.approx(eta_req, rel=1e-15)
    assert rep["eta_ratio"] == pytest.approx(0.01 / eta_req, rel=1e-12)
    # width requirement (eq. 6) with constant 1, by hand
    theta = 0.9375
    B1 = theory.b1(n=100, d=10, m=1000, xi=0.5, p=4, tau=3, eta=0.01, kappa=1.0, lambda0=0.03)
    m_req = (200 / 0.1) * max(
        100**4 / (1 * 0.5 * theta * 0.03**4), 100 * 200**2 * B1 / (1 * theta * 0.03**2), 200**2 * 4
    )
    assert rep["width_required"] == pytest.approx(m_req, rel=1e-12)
    assert rep["width_ratio"] == pytest.approx(1000 / m_req, rel=1e-12)
    # p > n: max{n, p} = p
    rep2 = theory.requirements_report(mask="bernoulli", **dict(kw, n=3, p=8))
    assert rep2["eta_ratio"] == pytest.approx(0.01 / (0.03 / (8 * 3 * 3)), rel=1e-12)

    cat = theory.requirements_report(mask="categorical", **dict(kw, xi=0.25))
    assert cat["theorem"] == "Theorem 7"
    assert cat["eta_required"] == pytest.approx(0.03 / 100**2, rel=1e-15)
    assert cat["eta_ratio"] == pytest.approx(0.01 / (0.03 / 100**2), rel=1e-12)
    m7 = 3**2 * 100**2 * 200 * max(100**2, 10) / (0.03**4 * 0.1)
    assert cat["width_ratio"] == pytest.approx(1000 / m7, rel=1e-12)

    with pytest.raises(ValueError, match="delta"):
        theory.requirements_report(mask="bernoulli", **dict(kw, delta=1.0))
