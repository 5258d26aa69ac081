"""Formulas of the sublinear-activation setting (Qin, Song, Yang 2023, arXiv 2307.06565, and
the related Song, Yang, Zhang 2021, arXiv 2110.04622), in their notation.

Network: f(W, x, a) = m^{-1/2} sum_{r=1}^m a_r sigma_b(<w_r, x>), sigma_b(z) = max(z - b, 0),
w_r ~ N(0, I_d) i.i.d., a_r uniform on {-1, +1} (fixed), ||x||_2 = 1.

Then <w_r, x> ~ N(0, 1) exactly for every unit x, so neuron r fires on x with probability

    p(b) = Pr[N(0, 1) > b] = Q(b) = erfc(b / sqrt 2) / 2,

and the number of active neurons k(x) = |S_fire(x)| is Binomial(m, Q(b)).  With the threshold
b = sqrt(c log m) (c = 0.4 in 2110.04622) the Chernoff/Gaussian-tail bound
Q(b) <= exp(-b^2 / 2) = m^{-c/2} gives E k <= m^{1 - c/2} = m^{4/5}: sublinear in m.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

#: the threshold constant of b = sqrt(c log m) in Song, Yang, Zhang (2021); 2307.06565 is
#: reconstructed to use the same choice (see docs/studies/sublinear.md)
C_THRESHOLD = 0.4


def threshold(m: int, c: float = C_THRESHOLD) -> float:
    """b(m) = sqrt(c ln m), the shift of the shifted ReLU (natural log)."""
    if m < 2:
        raise ValueError(f"m must be >= 2, got {m}")
    return math.sqrt(c * math.log(m))


def fire_probability(b: float) -> float:
    """p(b) = Pr[<w, x> > b] = Q(b) for w ~ N(0, I_d) and a unit x (exact, any d)."""
    return float(0.5 * special.erfc(b / math.sqrt(2.0)))


def expected_active(m: int, b: float) -> float:
    """E|S_fire(x)| = m Q(b) (the active count is Binomial(m, Q(b)) at initialisation)."""
    return m * fire_probability(b)


def active_quantiles(m: int, b: float, q) -> np.ndarray:
    """Quantiles of the active count, Binomial(m, Q(b)), at initialisation."""
    return stats.binom.ppf(np.asarray(q, dtype=np.float64), m, fire_probability(b))


def active_upper_bound(m: int, c: float = C_THRESHOLD) -> float:
    """The papers' bound m exp(-b^2/2) = m^{1 - c/2} on E|S_fire| (m^{4/5} for c = 0.4)."""
    return float(m) ** (1.0 - c / 2.0)


def mills_approximation(m: int, b: float) -> float:
    """m phi(b) / b, the leading term of m Q(b) for large b (Mills ratio); for b = sqrt(c ln m)
    it is m^{1-c/2} / (b sqrt(2 pi)), so the bound m^{4/5} is loose by a factor ~ b sqrt(2 pi)."""
    return m * math.exp(-b * b / 2.0) / (b * math.sqrt(2.0 * math.pi))


def local_exponent(ms, c: float = C_THRESHOLD) -> np.ndarray:
    """d log E k / d log m of E k = m Q(sqrt(c ln m)), evaluated at each m: the slope the
    active-count curve should show on a log-log plot (it tends to 1 - c/2 from below)."""
    ms = np.asarray(ms, dtype=np.float64)
    b = np.sqrt(c * np.log(ms))
    q = 0.5 * special.erfc(b / np.sqrt(2.0))
    phi = np.exp(-b * b / 2.0) / np.sqrt(2.0 * np.pi)
    # d log Q / d log m = -(phi / Q) * db/dlog m,  db/dlog m = c / (2 b)
    return 1.0 - (phi / q) * c / (2.0 * b)


def sgd_steps_bound(M: float, eps: float, const: float = 1.0) -> float:
    """T(eps) = const * M^2 / eps^2, the reconstructed form of the paper's O(M^2 / eps^2)
    convergence time for a target with coefficient norm M (const is not given)."""
    return const * M * M / (eps * eps)


def width(M: float, eps: float, constant: float, m_min: int, m_max: int) -> tuple[int, bool]:
    """(m, meets): the width for target norm M and error eps, m = constant * M^2 / eps^2 (the
    abstract's network size, quadratic in M and 1/eps, with the unknown constant given) rounded
    up to a power of two and at least m_min; capped at m_max, in which case ``meets`` is False
    (the run is trained at m_max, narrower than the condition asks)."""
    need = constant * M * M / (eps * eps)
    m = max(int(m_min), 2 ** math.ceil(math.log2(max(need, 1.0))))
    if m > m_max:
        return int(m_max), False
    return int(m), True


def sgd_rate_envelope(T, M: float, const: float = 1.0) -> np.ndarray:
    """eps(T) = const * M / sqrt(T), the same statement solved for the error after T steps."""
    return const * M / np.sqrt(np.asarray(T, dtype=np.float64))


def halfspace_query_exponent(d: int) -> float:
    """Exponent of m in the query time O(m^{1 - 1/floor(d/2)} + k) of the exact half-space
    reporting structure (Agarwal, Eppstein, Matousek 1992) used by the papers; 1 - 1/floor(d/2)
    tends to 1 as d grows, so the guarantee is sublinear only for small d."""
    if d < 2:
        raise ValueError(f"d must be >= 2, got {d}")
    return 1.0 - 1.0 / (d // 2)
