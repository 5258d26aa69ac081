"""Theory quantities of Liao & Kyrillidis (arXiv 2112.02668v1); docs/masked/mathematics.md section 3.

All functions are pure and take the paper's symbols: n samples, d input dimension, m hidden
neurons, kappa init scale, xi selection probability, p subnetworks, tau local steps, eta step
size, K global rounds, lambda0 = lambda_min(H_inf), theta = 1 - (1 - xi)^p, delta the failure
probability of the high-probability statements.  The bounds are worst-case; their constants
are those printed in the v1 text, and the O(.) statements are returned without constants.
"""

from __future__ import annotations

import math

import numpy as np

from maskedntk.core.validate import check_float, check_int


def ntk_gram(X, xi: float = 1.0) -> np.ndarray:
    """H_inf with the xi factor (sec. 3.1, p. 6), in closed form for unit-norm rows:

    H_inf[i, j] = xi * E_{w ~ N(0, I)}[<x_i, x_j> 1{<w, x_i> >= 0, <w, x_j> >= 0}]
                = xi * <x_i, x_j> * (pi - arccos <x_i, x_j>) / (2 pi).
    The cosine is clipped to [-1, 1] before arccos.
    """
    return _ntk_gram(X, check_float("xi", xi, 0.0, 1.0, lo_open=True))


def _ntk_gram(X, xi: float) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    G = np.clip(X @ X.T, -1.0, 1.0)
    # <x_i, x_i> = 1 for unit rows; rounding would put it at 1 - 1e-16, where arccos is
    # ill-conditioned (an error of ~1e-8), so the diagonal is set exactly.
    np.fill_diagonal(G, 1.0)
    return xi * G * (math.pi - np.arccos(G)) / (2.0 * math.pi)


def lambda_min(H) -> float:
    """lambda0 = the smallest eigenvalue of the symmetric matrix H (symmetric eigensolver)."""
    return float(np.linalg.eigvalsh(np.asarray(H, dtype=np.float64))[0])


def lambda_max(H) -> float:
    """The largest eigenvalue of the symmetric matrix H."""
    return float(np.linalg.eigvalsh(np.asarray(H, dtype=np.float64))[-1])


def ntk_spectrum(X, xi: float = 1.0) -> tuple[float, float]:
    """(lambda0, lambda_max) of H_inf(xi) in one eigen-decomposition."""
    return _extremes(ntk_gram(X, xi))


def spec_ntk_spectrum(X, spec) -> tuple[float, float]:
    """ntk_spectrum(X, spec.xi_eff) for a validated TrainSpec ``spec`` (its xi is trusted)."""
    return _extremes(_ntk_gram(X, spec.xi_eff))


def _extremes(H: np.ndarray) -> tuple[float, float]:
    ev = np.linalg.eigvalsh(H)
    return float(ev[0]), float(ev[-1])


def coverage_probability(xi: float, p: int) -> float:
    """theta = 1 - (1 - xi)^p: the chance that a neuron is held by at least one of p
    subnetworks with Bernoulli(xi) masks (Theorem 3)."""
    xi = check_float("xi", xi, 0.0, 1.0, lo_open=True)
    p = check_int("p", p, 1)
    return 1.0 - (1.0 - xi) ** p


def rate_factor_thm3(eta: float, theta: float, tau: int, lambda0: float) -> float:
    """Theorem 3, eq. (7): the per-round contraction factor 1 - eta * theta * tau * lambda0 / 4."""
    return 1.0 - eta * theta * tau * lambda0 / 4.0


def c1_constant(xi: float, p: int, n: int, kappa: float) -> float:
    """C1 = 4 theta^2 (1 - xi) n kappa^2 / p (Theorem 3)."""
    theta = coverage_probability(xi, p)
    return 4.0 * theta**2 * (1.0 - xi) * n * kappa**2 / p


B1_TERMS = (
    "width",  # 64 (1-xi)^2 n^3 d / (m lambda0^2)
    "step_variance",  # 68 eta tau (theta - xi^2) n^3 kappa^2 / (p lambda0)
    "mask_variance",  # (theta - xi^2) n kappa^2 / (6 tau^2 p)
    "local_drift",  # (tau-1)^2 p C1 / (24 tau^2)
    "local_drift_step2",  # 8 eta^2 (tau-1)^2 n^4 p C1 / lambda0^2
    "local_drift_step",  # 4 eta (tau-1) p n C1
)

B1_LABELS = {
    "width": r"$64(1-\xi)^2 n^3 d/(m\lambda_0^2)$",
    "step_variance": r"$68\eta\tau(\theta-\xi^2) n^3\kappa^2/(p\lambda_0)$",
    "mask_variance": r"$(\theta-\xi^2) n\kappa^2/(6\tau^2 p)$",
    "local_drift": r"$(\tau-1)^2 p C_1/(24\tau^2)$",
    "local_drift_step2": r"$8\eta^2(\tau-1)^2 n^4 p C_1/\lambda_0^2$",
    "local_drift_step": r"$4\eta(\tau-1) p n C_1$",
}


def b1_terms(
    *, n: int, d: int, m: int, xi: float, p: int, tau: int, eta: float, kappa: float, lambda0: float
) -> dict[str, float]:
    """The six terms of B1 (Theorem 3, eq. (7)), in the order printed, and C1:

    B1 = 64(1-xi)^2 n^3 d / (m lambda0^2) + 68 eta tau (theta - xi^2) n^3 kappa^2 / (p lambda0)
       + (theta - xi^2) n kappa^2 / (6 tau^2 p) + (tau-1)^2 p C1 / (24 tau^2)
       + 8 eta^2 (tau-1)^2 n^4 p C1 / lambda0^2 + 4 eta (tau-1) p n C1,
    C1 = 4 theta^2 (1-xi) n kappa^2 / p.
    Keys: B1_TERMS, plus 'C1' and 'B1' (the sum).
    """
    n = check_int("n", n, 1)
    d = check_int("d", d, 1)
    m = check_int("m", m, 1)
    p = check_int("p", p, 1)
    tau = check_int("tau", tau, 1)
    eta = check_float("eta", eta, 0.0, lo_open=True)
    kappa = check_float("kappa", kappa, 0.0, lo_open=True)
    lambda0 = check_float("lambda0", lambda0, 0.0, lo_open=True)
    theta = coverage_probability(xi, p)
    C1 = c1_constant(xi, p, n, kappa)
    terms = {
        "width": 64.0 * (1 - xi) ** 2 * n**3 * d / (m * lambda0**2),
        "step_variance": 68.0 * eta * tau * (theta - xi**2) * n**3 * kappa**2 / (p * lambda0),
        "mask_variance": (theta - xi**2) * n * kappa**2 / (6.0 * tau**2 * p),
        "local_drift": (tau - 1) ** 2 * p * C1 / (24.0 * tau**2),
        "local_drift_step2": 8.0 * eta**2 * (tau - 1) ** 2 * n**4 * p * C1 / lambda0**2,
        "local_drift_step": 4.0 * eta * (tau - 1) * p * n * C1,
    }
    terms["C1"] = C1
    terms["B1"] = sum(terms[k] for k in B1_TERMS)
    return terms


def b1(**kwargs) -> float:
    """B1 of Theorem 3 (the sum of :func:`b1_terms`)."""
    return b1_terms(**kwargs)["B1"]


def theorem3_bound(k, L0: float, rate: float, B1: float) -> np.ndarray:
    """Right-hand side of Theorem 3, eq. (7): rate^k * L0 + B1 for rounds k."""
    return np.power(rate, np.asarray(k, dtype=np.float64)) * L0 + B1


def error_order_cor4(xi: float) -> float:
    """Corollary 4 (dropout: p = 1, tau = 1): error O(1 - xi)."""
    return 1.0 - xi


def error_order_cor5(xi: float, p: int, n: int, K: int) -> float:
    """Corollary 5 (multi-sample dropout, tau = 1): O((1-xi)^2/(n K) + (theta - xi^2)/p)."""
    theta = coverage_probability(xi, p)
    return (1 - xi) ** 2 / (n * K) + (theta - xi**2) / p


def error_order_cor6(xi: float, p: int, tau: int, n: int, K: int, *, printed: bool = False) -> float:
    """Corollary 6 (multi-worker IST, Bernoulli masks), in the derived form
    O((1-xi)^2/(n K) + (theta - xi^2)/p + (tau-1)^2 theta^2 (1-xi)/tau^2).

    The paper prints (theta - xi)/p for the middle term; it comes from Theorem 3's
    mask-variance term (theta - xi^2) n kappa^2 / (6 tau^2 p) with kappa^2 = 1/n, the same
    term that Corollary 5 prints as (theta - xi^2)/p, so the printed form is a misprint
    (docs/masked/mathematics.md sec. 3.5).  ``printed=True`` evaluates the printed form, for
    comparison only: at xi = 0.5, p = 1, tau = 1 its middle term is 0 where the derived one is 0.25."""
    theta = coverage_probability(xi, p)
    variance = (theta - xi) if printed else (theta - xi**2)
    return (1 - xi) ** 2 / (n * K) + variance / p + (tau - 1) ** 2 * theta**2 * (1 - xi) / tau**2


def rate_factor_thm7(eta: float, lambda0: float, tau: int) -> float:
    """Theorem 7 (categorical masks): per-round factor 1/2 + 1/2 (1 - eta lambda0 / 2)^tau."""
    return 0.5 + 0.5 * (1.0 - eta * lambda0 / 2.0) ** tau


def error_order_thm7(*, tau: int, p: int, n: int, d: int, lambda0: float, m: int) -> float:
    """Theorem 7 error term O(tau (p-1)^2 n^3 d / (lambda0^2 m)); zero at p = 1.

    lambda0 here is lambda_min of H_inf with xi = 1/p (the sec. 3.1 definition)."""
    return tau * (p - 1) ** 2 * n**3 * d / (lambda0**2 * m)


def theorem7_bound(k, C: float, n: int, rate: float, error: float) -> np.ndarray:
    """Right-hand side of Theorem 7: rate^k * C^2 n + error (error without its constant)."""
    return np.power(rate, np.asarray(k, dtype=np.float64)) * C**2 * n + error


def eta_theory_thm3(lambda0: float, n: int, p: int, tau: int) -> float:
    """The step-size scale of Theorem 3: eta = O(lambda0 / (max{n, p} n tau)), constant 1."""
    return lambda0 / (max(n, p) * n * tau)


def eta_theory_thm7(lambda0: float, n: int) -> float:
    """The step size of Theorem 7: eta = lambda0 / n^2."""
    return lambda0 / n**2


def width_requirement_thm3(
    *, n: int, K: int, p: int, xi: float, kappa: float, lambda0: float, B1: float, delta: float
) -> float:
    """Eq. (6): m = Omega((K/delta) max{n^4/(kappa^2 xi theta lambda0^4), n K^2 B1/(kappa^2 theta
    lambda0^2), K^2 p}), returned with constant 1."""
    theta = coverage_probability(xi, p)
    return (K / delta) * max(
        n**4 / (kappa**2 * xi * theta * lambda0**4),
        n * K**2 * B1 / (kappa**2 * theta * lambda0**2),
        K**2 * p,
    )


def width_requirement_thm7(*, n: int, d: int, K: int, tau: int, lambda0: float, delta: float) -> float:
    """Theorem 7: m = Omega(tau^2 n^2 K max{n^2, d} / (lambda0^4 delta)), constant 1."""
    return tau**2 * n**2 * K * max(n**2, d) / (lambda0**4 * delta)


def requirements_report(
    *,
    mask: str,
    n: int,
    d: int,
    m: int,
    K: int,
    p: int,
    tau: int,
    eta: float,
    kappa: float,
    xi: float,
    lambda0: float,
    delta: float = 0.1,
) -> dict[str, float]:
    """Where a configuration stands against the theorems' step-size and width requirements.

    The paper's constants are unspecified, so each requirement is returned as a ratio
    (``eta_ratio`` = eta / required scale; ``width_ratio`` = m / required scale, with constant
    1).  eta_ratio <= 1 and width_ratio >= 1 mean "inside the theorem's regime up to constants".
    """
    delta = check_float("delta", delta, 0.0, 1.0, lo_open=True, hi_open=True)
    if mask == "categorical":
        eta_req = eta_theory_thm7(lambda0, n)
        m_req = width_requirement_thm7(n=n, d=d, K=K, tau=tau, lambda0=lambda0, delta=delta)
        theorem = "Theorem 7"
    else:
        eta_req = eta_theory_thm3(lambda0, n, p, tau)
        B = b1(n=n, d=d, m=m, xi=xi, p=p, tau=tau, eta=eta, kappa=kappa, lambda0=lambda0)
        m_req = width_requirement_thm3(n=n, K=K, p=p, xi=xi, kappa=kappa, lambda0=lambda0, B1=B, delta=delta)
        theorem = "Theorem 3"
    return {
        "theorem": theorem,
        "eta_required": eta_req,
        "eta_ratio": eta / eta_req,
        "width_required": m_req,
        "width_ratio": m / m_req,
    }
