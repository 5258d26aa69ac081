"""The teacher, the student's initialisation near it, and teacher data.

Randomness (all drawn with numpy in float64, then moved to torch):
  * teacher of run ``seed``:   numpy.random.default_rng([seed, 0, m*, d])  -- shared by every
    width m and init distance rho of that seed, so comparisons across m are paired;
  * student init:              default_rng([seed, 1, m, d, round(rho * 1e6)]);
  * data (empirical variant):  default_rng([seed, 2, n, d]).

Teacher (reconstructed, see the docs page): W* has orthonormal rows (so the teachers are
Delta-separated with Delta = pi/2; needs m* <= d), |w*_k| = 1, and a*_k uniform in
[a_min, a_max] with a_min > 0.

Student init at distance rho ("teacher split + angular noise"): neuron i is assigned to
teacher k(i) = i mod m* (so every teacher has c_k = m/m* or so copies); the copies of
teacher k share its output weight with shares s_i ~ Dirichlet(1, ..., 1); the direction is
u_i = normalise(w*_k + rho g_i / sqrt(d)), g_i ~ N(0, I_d) (for large d the angle to w*_k is
about atan(rho)), |w_i| = sqrt(a*_k s_i) and a_i = sqrt(a*_k s_i) (1 + rho z_i / 2) with
z_i ~ N(0, 1) (the output weight is perturbed too; for rho >~ 1 some a_i change sign).  At
rho = 0 the student computes f* exactly (a global minimum) with balanced norms a_i = |w_i|.
"""

from __future__ import annotations

import numpy as np


def teacher_rng(seed: int, m_star: int, d: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), 0, int(m_star), int(d)])


def student_rng(seed: int, m: int, d: int, rho: float) -> np.random.Generator:
    return np.random.default_rng([int(seed), 1, int(m), int(d), int(round(rho * 1e6))])


def data_rng(seed: int, n: int, d: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), 2, int(n), int(d)])


def make_teacher(seed: int, m_star: int, d: int, a_range=(0.5, 1.5)) -> tuple[np.ndarray, np.ndarray]:
    """(a* (m*,), W* (m*, d)) with orthonormal rows W* and a* uniform in ``a_range``."""
    if m_star > d:
        raise ValueError(f"m_star = {m_star} > d = {d}: orthonormal teachers need m_star <= d")
    rng = teacher_rng(seed, m_star, d)
    Q, R = np.linalg.qr(rng.standard_normal((d, m_star)))
    Q = Q * np.sign(np.diag(R))[None, :]  # the Haar-distributed orthonormal frame
    a_star = rng.uniform(a_range[0], a_range[1], size=m_star)
    return a_star, Q.T.copy()


def init_student(
    seed: int, a_star: np.ndarray, W_star: np.ndarray, m: int, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """(a (m,), W (m, d)): the teacher split over m neurons, directions perturbed by rho."""
    m_star, d = W_star.shape
    if m < m_star:
        raise ValueError(f"m = {m} < m_star = {m_star}: the student needs at least m* neurons")
    rng = student_rng(seed, m, d, rho)
    owner = np.arange(m) % m_star
    shares = np.empty(m)
    for k in range(m_star):
        idx = np.flatnonzero(owner == k)
        shares[idx] = rng.dirichlet(np.ones(idx.size)) if idx.size > 1 else 1.0
    U = W_star[owner] + rho * rng.standard_normal((m, d)) / np.sqrt(d)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    scale = np.sqrt(a_star[owner] * shares * np.linalg.norm(W_star[owner], axis=1))
    a = scale * (1.0 + 0.5 * rho * rng.standard_normal(m))
    return a, U * scale[:, None]


def gaussian_data(seed: int, n: int, d: int, a_star: np.ndarray, W_star: np.ndarray, *, sphere: bool = False):
    """(X (n, d), y (n,)) with x ~ N(0, I_d) (or x/|x| on the unit sphere) and y = f*(x)."""
    X = data_rng(seed, n, d).standard_normal((n, d))
    if sphere:
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.maximum(X @ W_star.T, 0.0) @ a_star
    return X, y
