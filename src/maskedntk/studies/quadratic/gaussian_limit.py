"""The d -> infinity limit of phi in the Gaussian setup (Fig. 4) and its late-time slope.

Setup (``problems.py``, ``normalize = True``): V and W_0 have i.i.d. N(0, 1/(m* d)) and
N(0, 1/(m d)) entries.  The closed form of the Riccati equation (``theory.py``),

    N(t) = e^{2 M* t} W_0 K^{-1} W_0^T e^{2 M* t},   K = I_m + 4 W_0^T H(t) W_0,
    H(t) = int_0^t e^{-2 phi(s)} e^{4 M* s} ds,

holds for any W_0 and M*, and as d -> infinity phi is fixed by the implicit equation
e^{2 phi} tr M* = tr N (tr M* -> 1).  By rotation invariance of W_0, M* may be taken diagonal;
its eigenvalues are lambda = x / (alpha* d) with x distributed as nu = (1 - alpha*) delta_0 +
alpha* MP_{alpha*} over the d coordinates, MP_c the Marchenko-Pastur law of ratio c (mean 1,
support [(1 - sqrt c)^2, (1 + sqrt c)^2]).  In gamma = t / d write, per coordinate x,

    k(x, gamma) = e^{-4 x gamma / alpha*} H_x / d = int_0^gamma e^{-2 phi(s)} e^{-4 x (gamma - s) / alpha*} ds,
    dk/dgamma = e^{-2 phi} - (4 x / alpha*) k,   k(x, 0) = 0.

Free probability closes.  By the push-through identity W_0 K^{-1} W_0^T =
H^{-1/2} (I - Q) H^{-1/2} / 4 with Q = (I + 4 H^{1/2} W_0 W_0^T H^{1/2})^{-1}, and Q has the
deterministic equivalent (Silverstein's equation for the resolvent of a sample covariance with
population covariance 4H, m samples of variance 1/(m d))

    Q ~ (I + 4 H / (d (1 + delta)))^{-1},   delta = (4 / (m d)) tr(H Q),

so that, with eps(x) = e^{-4 x gamma / alpha*} and u = 1 + delta,

    tr N = int dnu(x) / (u eps(x) + 4 k(x)),
    u - 1 = (4 u / alpha) int k(x) / (u eps(x) + 4 k(x)) dnu(x),

(a convex equation in u with a single root u >= 1), and phi = log(tr N) / 2.  At gamma = 0,
k = 0, u = 1, tr N = int dnu / eps = 1, phi = 0.  The flow is a linear ODE for k on a
quadrature grid of nu (Gauss-Chebyshev nodes of the second kind on the MP support, plus the atom
at 0) with phi evaluated through the scalar root u at each right-hand side.

Late slope (alpha < alpha*).  Late in training the student settles on the top-m eigendirections
of M*: a critical point with M = diag(lambda_i - tr(A)/2) on them gives
tr A = -(sum of the m* - m smallest eigenvalues of M*) / (1 + m/2), hence

    dphi/dgamma = d tr A = -2 d Sigma_rest / (m + 2)              (finite d, any M*),
    dphi/dgamma -> -(2 / alpha) int_{x < q} x dMP_{alpha*}(x)     (d -> infinity),

q the (1 - alpha/alpha*)-quantile of MP_{alpha*}.  The same slope follows from the equations
above with phi ~ -s gamma (only the mass alpha of nu above q is resolved).  For the orthonormal
teacher (every x = 1) the slope is -(2/alpha)(1 - alpha/alpha*), -4 at (alpha, alpha*) =
(1/4, 1/2); here it is about -1.7.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize

from ...core.validate import check_float, check_int

# ----------------------------------------------------------------------------------------
# the Marchenko-Pastur law of the teacher's spectrum
# ----------------------------------------------------------------------------------------


def mp_edges(c: float) -> tuple[float, float]:
    """Support [(1 - sqrt c)^2, (1 + sqrt c)^2] of MP_c (c in (0, 1])."""
    c = check_float("alpha_star", c, 0.0, 1.0, lo_open=True)
    return (1.0 - math.sqrt(c)) ** 2, (1.0 + math.sqrt(c)) ** 2


def mp_density(x, c: float) -> np.ndarray:
    """MP_c density sqrt((b - x)(x - a)) / (2 pi c x) on (a, b), 0 outside."""
    a, b = mp_edges(c)
    x = np.asarray(x, dtype=np.float64)
    inside = (x > a) & (x < b)
    xs = np.where(inside, x, 0.5 * (a + b))
    return np.where(inside, np.sqrt((b - xs) * (xs - a)) / (2 * np.pi * c * xs), 0.0)


def _theta(q: float, c: float) -> float:
    """x = m - r cos(theta), m = (a + b)/2, r = (b - a)/2 = 2 sqrt(c): theta in [0, pi]."""
    a, b = mp_edges(c)
    return math.acos(min(1.0, max(-1.0, ((a + b) / 2 - q) / ((b - a) / 2))))


def mp_partial_mean(q: float, c: float) -> float:
    """int_a^q x dMP_c(x) = (r^2 / (4 pi c)) (theta - sin(theta) cos(theta)), r^2 = 4c,
    theta = arccos((m - q)/r) (closed form; 1 at q = b)."""
    th = _theta(q, c)
    return (th - math.sin(th) * math.cos(th)) / math.pi


def mp_cdf(q: float, c: float) -> float:
    """MP_c((-inf, q]) by quadrature of the density in theta."""
    a, b = mp_edges(c)
    m, r = (a + b) / 2, (b - a) / 2
    th = _theta(q, c)
    val, _ = integrate.quad(lambda t: r * r * math.sin(t) ** 2 / (m - r * math.cos(t)), 0.0, th, epsabs=1e-13)
    return val / (2 * math.pi * c)


def mp_quantile(p: float, c: float) -> float:
    """The p-quantile of MP_c (p in [0, 1])."""
    p = check_float("p", p, 0.0, 1.0)
    a, b = mp_edges(c)
    if p <= 0.0:
        return a
    if p >= 1.0:
        return b
    return optimize.brentq(lambda q: mp_cdf(q, c) - p, a, b, xtol=1e-14)


def late_slope(alpha: float, alpha_star: float) -> float:
    """d -> infinity late slope of phi in gamma for alpha < alpha*:
    -(2/alpha) int_{x < q} x dMP_{alpha*}, q the (1 - alpha/alpha*)-quantile."""
    a = check_float("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    s = check_float("alpha_star", alpha_star, a, 1.0, lo_open=True)
    return -(2.0 / a) * mp_partial_mean(mp_quantile(1.0 - a / s, s), s)


def late_slope_orthonormal(alpha: float, alpha_star: float) -> float:
    """The same for the orthonormal teacher (all x = 1): -(2/alpha)(1 - alpha/alpha*)."""
    a = check_float("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    s = check_float("alpha_star", alpha_star, a, 1.0, lo_open=True)
    return -(2.0 / a) * (1.0 - a / s)


def late_slope_finite(eigenvalues, m: int, d: int) -> float:
    """Finite-d late slope -2 d Sigma_rest / (m + 2) of a teacher with the given eigenvalues
    (of M*, any order; zeros allowed), Sigma_rest the sum of all but the m largest."""
    ev = np.sort(np.asarray(eigenvalues, dtype=np.float64))[::-1]
    m = check_int("m", m, 1, ev.size)
    return -2.0 * d * float(ev[m:].sum()) / (m + 2)


# ----------------------------------------------------------------------------------------
# the d -> infinity flow (deterministic equivalent)
# ----------------------------------------------------------------------------------------


def nu_nodes(alpha_star: float, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature (x_j, w_j) of nu = (1 - alpha*) delta_0 + alpha* MP_{alpha*}: the atom (when
    alpha* < 1) and ``n_nodes`` Gauss-Chebyshev nodes of the second kind on the MP support."""
    c = check_float("alpha_star", alpha_star, 0.0, 1.0, lo_open=True)
    n = check_int("n_nodes", n_nodes, 2)
    a, b = mp_edges(c)
    mid, r = (a + b) / 2, (b - a) / 2
    th = np.arange(1, n + 1) * np.pi / (n + 1)
    x = mid - r * np.cos(th)
    w = c * (np.pi / (n + 1)) * np.sin(th) ** 2 * r * r / (2 * np.pi * c * x)
    if c < 1.0:
        x, w = np.concatenate([[0.0], x]), np.concatenate([[1.0 - c], w])
    return x, w


def trace_N(k: np.ndarray, log_eps: np.ndarray, w: np.ndarray, alpha: float) -> tuple[float, float]:
    """(tr N, u = 1 + delta) of the deterministic equivalent for the profile k(x_j) at
    eps_j = exp(log_eps_j) (see the module docstring)."""
    k = np.asarray(k, dtype=np.float64)
    if not np.any(k > 0):
        return float(np.sum(w * np.exp(-log_eps))), 1.0
    eps = np.exp(log_eps)

    def G(lu):  # u - 1 - (4u/alpha) int k / (u eps + 4k)
        u = math.exp(lu)
        return u - 1.0 - (4.0 * u / alpha) * float(np.sum(w * k / (u * eps + 4.0 * k)))

    # G(u) <= (4/alpha) int k / eps: an upper bracket in log u
    hi = math.log1p((4.0 / alpha) * float(np.exp(np.logaddexp.reduce(np.log(w * k + 1e-300) - log_eps))))
    lu = optimize.brentq(G, 0.0, hi + 1e-12, xtol=1e-15, rtol=1e-15) if G(0.0) < 0 else 0.0
    u = math.exp(lu)
    return float(np.sum(w / (u * eps + 4.0 * k))), u


@dataclass
class GaussianLimit:
    """phi of the d = infinity Gaussian setup on the grid ``gamma`` (and log(1 + delta))."""

    alpha: float
    alpha_star: float
    gamma: np.ndarray
    phi: np.ndarray
    log_u: np.ndarray


def solve_gaussian_limit(
    alpha: float, alpha_star: float, gamma, *, n_nodes: int, rtol: float = 1e-9, atol: float = 1e-12
) -> GaussianLimit:
    """phi_inf(gamma) of the Gaussian setup on the increasing grid ``gamma`` (>= 0), ``n_nodes``
    quadrature nodes of the Marchenko-Pastur law (``limit.gaussian_nodes``)."""
    a = check_float("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    s = check_float("alpha_star", alpha_star, 0.0, 1.0, lo_open=True, hi_open=True)
    gamma = np.asarray(gamma, dtype=np.float64)
    if gamma.ndim != 1 or gamma.size == 0 or gamma[0] < 0 or np.any(np.diff(gamma) < 0):
        raise ValueError("gamma: must be a non-empty increasing 1-d grid of values >= 0")
    x, w = nu_nodes(s, n_nodes)
    rate = 4.0 * x / s

    def phi_of(g, k):
        trN, u = trace_N(k, -rate * g, w, a)
        return 0.5 * math.log(trN), u

    def rhs(g, k):
        return math.exp(-2.0 * phi_of(g, k)[0]) - rate * k

    if gamma[-1] > 0:
        sol = integrate.solve_ivp(
            rhs, (0.0, float(gamma[-1])), np.zeros_like(x), method="DOP853", t_eval=gamma, rtol=rtol, atol=atol
        )
        if not sol.success:
            raise RuntimeError(f"Gaussian d = infinity solver failed: {sol.message}")
        ks = sol.y.T
    else:
        ks = np.zeros((gamma.size, x.size))
    phi, log_u = np.empty_like(gamma), np.empty_like(gamma)
    for i, (g, k) in enumerate(zip(gamma, ks, strict=True)):
        p, u = phi_of(g, k)
        phi[i], log_u[i] = p, math.log(u)
    return GaussianLimit(a, s, gamma, phi, log_u)
