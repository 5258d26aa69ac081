"""Theory of the paper: the initial spectral measure, the d -> infinity limit of the flow
(Proposition 5.1, orthonormal setup), the limiting overlap and the convergence rates.

Derivation (written out in docs/studies/quadratic.md).  Gradient flow dW/dt = -(2A + tr(A) I) W
with A = M - M*, M = W W^T.  With phi(t) = int_0^t tr A, N = e^{2 phi} M solves the Riccati
equation dN/dt = 2 (M* N + N M*) - 4 e^{-2 phi} N^2, whose solution is

    N(t) = e^{2 M* t} W_0 K(t)^{-1} W_0^T e^{2 M* t},
    K(t) = I_m + 4 W_0^T (int_0^t e^{-2 phi(s)} e^{4 M* s} ds) W_0,

and phi solves tr M = e^{-2 phi} tr N, i.e. phi' = e^{-2 phi} tr N(t) - tr M*.  In the
orthonormal setup (M* = U* U*^T / m*, W_0 = U / sqrt(m), m = alpha d, m* = alpha* d,
gamma = t / d), K = f(gamma) (I + (J(gamma) - 1) Y), Y = U^T U* U*^T U, with

    f = 1 + (4/alpha) int_0^gamma e^{-2 phi},   J = g / f,
    g = 1 + (4/alpha) int_0^gamma e^{-2 phi(s)} e^{4 s / alpha*} ds.

As d -> infinity, phi' = d (e^{-2 phi} tr N - 1) forces the implicit equation (Prop. 5.1)

    e^{2 phi} = (1 / (alpha f)) int (1 + (e - 1) x) / (1 + (J - 1) x) dmu(x),   e = e^{4 gamma / alpha*},

where mu is the limit of the spectral measure of Y normalised by d (total mass alpha):
an atom (alpha - alpha*)_+ at 0, an atom (alpha + alpha* - 1)_+ at 1 and the density

    rho(x) = sqrt((r2 - x)(x - r1)) / (2 pi x (1 - x)) on [r1, r2],
    r_{1,2} = (sqrt(alpha (1 - alpha*)) -/+ sqrt(alpha* (1 - alpha)))^2.

Writing q = e / J - 1 >= 0 and S(J) = (1/alpha) int J x / (1 + (J - 1) x) dmu(x), the identity
(1 + (e-1)x) = (1 + (J-1)x) + (e-J)x gives e^{2 phi} f = 1 + q S(J), and the flow reduces to
two scalar ODEs in u = log f, v = log J:

    du/dgamma = 4 / (alpha (1 + q S)),   dv/dgamma = 4 q / (alpha (1 + q S)),
    phi = (log(1 + q S) - u) / 2.

The overlap chi = tr(M M*) / (||M||_F ||M*||_F) is scale free, so it follows from N:

    chi = alpha S(J) / sqrt(alpha* I2),   I2 = int ((w + (J - w) x) / (1 + (J - 1) x))^2 dmu(x),
    w = J / e,

(numerator and denominator multiplied by J / e for numerical range).  The integrals over the
density use scipy's QAWS quadrature (weight (x - r1)^(-1/2) (r2 - x)^(-1/2)), which resolves
the sharp layer at x ~ 1/J when r1 = 0 (alpha = alpha*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from ...core.validate import check_float

# ----------------------------------------------------------------------------------------
# the initial spectral measure mu (Fig. 1)
# ----------------------------------------------------------------------------------------


def edges(alpha: float, alpha_star: float) -> tuple[float, float]:
    """(r1, r2) = ((sqrt(a (1 - a*)) -/+ sqrt(a* (1 - a)))^2)."""
    a, s = _check_ratios(alpha, alpha_star)
    u, v = math.sqrt(a * (1 - s)), math.sqrt(s * (1 - a))
    return (u - v) ** 2, (u + v) ** 2


def atoms(alpha: float, alpha_star: float) -> dict[float, float]:
    """Atoms of mu: {0: (alpha - alpha*)_+, 1: (alpha + alpha* - 1)_+} (zero masses dropped)."""
    a, s = _check_ratios(alpha, alpha_star)
    out = {0.0: max(a - s, 0.0), 1.0: max(a + s - 1.0, 0.0)}
    return {k: v for k, v in out.items() if v > 0}


def density(x, alpha: float, alpha_star: float) -> np.ndarray:
    """rho(x) = sqrt((r2 - x)(x - r1)) / (2 pi x (1 - x)) on (r1, r2), 0 outside."""
    r1, r2 = edges(alpha, alpha_star)
    x = np.asarray(x, dtype=np.float64)
    inside = (x > r1) & (x < r2)
    xs = np.where(inside, x, 0.5 * (r1 + r2))
    val = np.sqrt((r2 - xs) * (xs - r1)) / (2 * np.pi * xs * (1 - xs))
    return np.where(inside, val, 0.0)


def continuous_mass(alpha: float, alpha_star: float) -> float:
    """Mass of the density part: alpha - (alpha - alpha*)_+ - (alpha + alpha* - 1)_+."""
    return alpha - sum(atoms(alpha, alpha_star).values())


def integrate_mu(g, alpha: float, alpha_star: float, *, epsabs: float = 1e-14, epsrel: float = 1e-12) -> float:
    """int g dmu: the atoms plus the density part by QAWS quadrature.  ``g`` maps a float x to a
    float and must be finite on [r1, r2] (it is never evaluated at x = 0 unless 0 is an atom)."""
    r1, r2 = edges(alpha, alpha_star)
    total = sum(w * g(x) for x, w in atoms(alpha, alpha_star).items())
    if r2 - r1 <= 0:
        return float(total)

    def h(x):
        # rho(x) sqrt((x - r1)(r2 - x)) = (x - r1)(r2 - x) / (2 pi x (1 - x)), written so that the
        # ratios stay finite when r1 = 0 or r2 = 1
        lo = (x - r1) / x if x > 0 else 1.0  # x = 0 only when r1 = 0
        hi = (r2 - x) / (1 - x) if x < 1 else 1.0  # x = 1 only when r2 = 1
        return lo * hi / (2 * np.pi) * g(x)

    val, _ = integrate.quad(h, r1, r2, weight="alg", wvar=(-0.5, -0.5), epsabs=epsabs, epsrel=epsrel, limit=400)
    return float(total + val)


def _check_ratios(alpha, alpha_star) -> tuple[float, float]:
    a = check_float("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    s = check_float("alpha_star", alpha_star, 0.0, 1.0, lo_open=True, hi_open=True)
    return a, s


def sample_spectrum(rng: np.random.Generator, d: int, alpha: float, alpha_star: float) -> np.ndarray:
    """Eigenvalues of Y = U^T U* U*^T U (m x m) for independent Haar U (d x m), U* (d x m*),
    m = round(alpha d), m* = round(alpha* d).

    By rotation invariance U* may span the first m* coordinates; with U = G (G^T G)^{-1/2} for
    a Gaussian d x m matrix G, Y is similar to (G^T G)^{-1/2} A (G^T G)^{-1/2} with
    A = G_1^T G_1 (G_1 the first m* rows of G), so its eigenvalues are those of the pencil
    (A, A + B), B = G_2^T G_2 (the Jacobi/MANOVA ensemble).  Costs O(d m^2), no QR."""
    from scipy.linalg import eigh

    m, ms = int(round(alpha * d)), int(round(alpha_star * d))
    G = rng.standard_normal((d, m))
    A = G[:ms].T @ G[:ms]
    B = G[ms:].T @ G[ms:]
    return np.clip(eigh(A, A + B, eigvals_only=True), 0.0, 1.0)


# ----------------------------------------------------------------------------------------
# the d -> infinity limit (Proposition 5.1)
# ----------------------------------------------------------------------------------------


def S_of_logJ(v: float, alpha: float, alpha_star: float) -> float:
    """S(J) = (1/alpha) int J x / (1 + (J - 1) x) dmu(x) at J = e^v, computed as
    int x / (x + (1 - x) eps) dmu with eps = 1/J (no overflow for huge J; the atom at 0 gives 0)."""
    eps = math.exp(-v)
    return integrate_mu(lambda x: 0.0 if x == 0 else x / (x + (1.0 - x) * eps), alpha, alpha_star) / alpha


def S_of_J(J: float, alpha: float, alpha_star: float) -> float:
    """S(J) for J >= 1 (see :func:`S_of_logJ`)."""
    return S_of_logJ(math.log(J), alpha, alpha_star)


def I2_of_logJ(v: float, w: float, alpha: float, alpha_star: float) -> float:
    """I2 = int ((w + (J - w) x) / (1 + (J - 1) x))^2 dmu(x) at J = e^v, as
    int ((w eps + (1 - w eps) x) / (eps + (1 - eps) x))^2 dmu with eps = 1/J (= w^2 at x = 0)."""
    eps = math.exp(-v)

    def g(x):
        if x == 0:
            return w * w
        return ((w * eps + (1.0 - w * eps) * x) / (eps + (1.0 - eps) * x)) ** 2

    return integrate_mu(g, alpha, alpha_star)


def I2_of(J: float, w: float, alpha: float, alpha_star: float) -> float:
    """I2 for J >= 1 (see :func:`I2_of_logJ`)."""
    return I2_of_logJ(math.log(J), w, alpha, alpha_star)


@dataclass
class Limit:
    """The d = infinity solution on the grid ``gamma``: phi, overlap chi, log f, log J."""

    alpha: float
    alpha_star: float
    gamma: np.ndarray
    phi: np.ndarray
    overlap: np.ndarray
    log_f: np.ndarray
    log_J: np.ndarray


def solve_limit(
    alpha: float,
    alpha_star: float,
    gamma: np.ndarray,
    *,
    overlap: bool = True,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> Limit:
    """Solve the d = infinity flow of Prop. 5.1 on the increasing grid ``gamma`` (>= 0)."""
    a, s = _check_ratios(alpha, alpha_star)
    gamma = np.asarray(gamma, dtype=np.float64)
    if gamma.ndim != 1 or gamma.size == 0 or gamma[0] < 0 or np.any(np.diff(gamma) < 0):
        raise ValueError("gamma: must be a non-empty increasing 1-d grid of values >= 0")

    def q_of(g, v):
        return math.expm1(4.0 * g / s - v)

    def rhs(g, y):
        _, v = y
        q = max(q_of(g, v), 0.0)
        den = a * (1.0 + q * S_of_logJ(v, a, s))
        return [4.0 / den, 4.0 * q / den]

    g_end = float(gamma[-1])
    if g_end > 0:
        sol = integrate.solve_ivp(rhs, (0.0, g_end), [0.0, 0.0], method="DOP853", t_eval=gamma, rtol=rtol, atol=atol)
        if not sol.success:
            raise RuntimeError(f"d = infinity solver failed: {sol.message}")
        u, v = sol.y
    else:
        u = v = np.zeros_like(gamma)
    phi = np.empty_like(gamma)
    chi = np.full_like(gamma, np.nan)
    for i, (g, ui, vi) in enumerate(zip(gamma, u, v, strict=True)):
        q = max(q_of(g, vi), 0.0)
        S = S_of_logJ(vi, a, s)
        phi[i] = 0.5 * (math.log1p(q * S) - ui)
        if overlap:
            w = math.exp(vi - 4.0 * g / s)
            chi[i] = a * S / math.sqrt(s * I2_of_logJ(vi, w, a, s))
    return Limit(a, s, gamma, phi, chi, u, v)


def limiting_overlap(alpha: float, alpha_star: float) -> float:
    """chi(infinity) = min(1, sqrt(alpha / alpha*)) (strong recovery iff alpha >= alpha*)."""
    a = check_float("alpha", alpha, 0.0, lo_open=True)
    s = check_float("alpha_star", alpha_star, 0.0, lo_open=True)
    return min(1.0, math.sqrt(a / s))


def initial_overlap(alpha: float, alpha_star: float) -> float:
    """chi(0) in the orthonormal limit: tr(M0 M*) = 1/d, ||M0|| = 1/sqrt(m), ||M*|| = 1/sqrt(m*),
    so chi(0) = sqrt(m m*) / d = sqrt(alpha alpha*)."""
    return math.sqrt(alpha * alpha_star)


def overlap_gap_reference(gamma: np.ndarray, alpha: float, alpha_star: float) -> tuple[np.ndarray, str]:
    """Shape of delta(gamma) = chi(inf) - chi(gamma) for large gamma (Fig. 6): gamma^-2 when
    alpha > alpha*, sqrt(gamma) e^{-2 gamma/alpha*} when alpha = alpha*, e^{-4 gamma/alpha*}
    when alpha < alpha*.  Returns (values up to a constant, LaTeX label)."""
    g = np.asarray(gamma, dtype=np.float64)
    if math.isclose(alpha, alpha_star):
        return np.sqrt(g) * np.exp(-2 * g / alpha_star), r"$\sqrt{\gamma}\,e^{-2\gamma/\alpha^*}$"
    if alpha > alpha_star:
        return g**-2.0, r"$\gamma^{-2}$"
    return np.exp(-4 * g / alpha_star), r"$e^{-4\gamma/\alpha^*}$"
