"""Teachers (Assumptions 1-2), student initialisations, and the constructions of Claims 1-2.

Randomness (numpy, float64), derived from the run's seed and a tag per use, never from a
position in a batch:
  * teacher:  default_rng([seed, 0, r, d])        -- shared by every width of that seed;
  * student:  default_rng([seed, 1, tag, m, d])   -- ``tag`` names the initialisation.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import nnls

from .theory import kernel

#: rejection-sampling attempts for Delta-separated teacher directions
MAX_TRIES = 20000
TAGS = {"split": 1, "gaussian": 2, "algorithm1": 3}


def student_rng(seed: int, tag: str, m: int, d: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), 1, TAGS[tag], int(m), int(d)])


def angle_up_to_sign(u: np.ndarray, v: np.ndarray) -> float:
    """angle(u, v) = arccos(|u.v| / (|u||v|)) in [0, pi/2] (Section 2, Notations)."""
    c = abs(float(u @ v)) / (np.linalg.norm(u) * np.linalg.norm(v))
    return math.acos(min(1.0, c))


def make_teacher(seed: int, r: int, d: int, delta: float, w_min: float, w_max: float) -> np.ndarray:
    """W* (r, d): directions uniform on the sphere, conditioned on pairwise angles (up to sign)
    >= ``delta`` (Assumption 1, by rejection); norms uniform in [w_min, w_max] (Assumption 2)."""
    rng = np.random.default_rng([int(seed), 0, int(r), int(d)])
    for _ in range(MAX_TRIES):
        D = rng.standard_normal((r, d))
        D /= np.linalg.norm(D, axis=1, keepdims=True)
        if all(angle_up_to_sign(D[i], D[j]) >= delta for i in range(r) for j in range(i)):
            return D * rng.uniform(w_min, w_max, size=(r, 1))
    raise ValueError(
        f"teacher.Delta = {delta}: no {r} directions in d = {d} with pairwise angles >= Delta found "
        f"in {MAX_TRIES} draws; lower Delta or raise d"
    )


def split_init(seed: int, W_star: np.ndarray, m: int, rho: float) -> np.ndarray:
    """W (m, d) near the teachers (the local regime of Theorem 5): student i serves teacher
    k = i mod r with a Dirichlet(1, ..., 1) share s_i of it, so that sum_{i in T_k} |w_i| w_i = w*_k
    at rho = 0; then the direction is perturbed, u^ = normalise(w^*_k + rho g / sqrt(d)),
    the norm multiplied by exp(rho z / 2) and the sign flipped at random (|.| is even)."""
    r, d = W_star.shape
    if m < r:
        raise ValueError(f"m = {m} < r = {r}: the student needs at least r neurons (Definition 2)")
    rng = student_rng(seed, "split", m, d)
    owner = np.arange(m) % r
    shares = np.empty(m)
    for k in range(r):
        idx = np.flatnonzero(owner == k)
        shares[idx] = rng.dirichlet(np.ones(idx.size)) if idx.size > 1 else 1.0
    nstar = np.linalg.norm(W_star, axis=1)
    U = W_star[owner] / nstar[owner, None] + rho * rng.standard_normal((m, d)) / math.sqrt(d)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    norm = np.sqrt(shares * nstar[owner]) * np.exp(0.5 * rho * rng.standard_normal(m))
    sign = rng.choice([-1.0, 1.0], size=m)
    return U * (norm * sign)[:, None]


def gaussian_init(seed: int, m: int, d: int, scale: float) -> np.ndarray:
    """W (m, d) with w_i ~ N(0, scale^2 I_d / d) (Figure 1's large- and small-scale regimes)."""
    return scale * student_rng(seed, "gaussian", m, d).standard_normal((m, d)) / math.sqrt(d)


def algorithm1(seed: int, W_star: np.ndarray, m: int) -> np.ndarray:
    """Algorithm 1 (Appendix E.1): directions w_i ~ N(0, I_d), norms from the non-negative
    least squares min_{z >= 0} 1/2 E(sum_i z_i |w^_i.x| - f*(x))^2, then w'_i = sqrt(z_i) w^_i.

    The quadratic is 1/2 z^T K z - b^T z + const with K_ij = k(w^_i, w^_j), b_i = sum_k
    k(w^_i, w*_k) (theory.kernel); it is solved as ||R z - R^-T b|| with K = R^T R."""
    D = algorithm1_directions(seed, m, W_star.shape[1])
    Dt, Wt = torch.as_tensor(D), torch.as_tensor(W_star)
    K = kernel(Dt, Dt).numpy()
    b = kernel(Dt, Wt).numpy().sum(1)
    K = K + 1e-12 * np.trace(K) / m * np.eye(m)  # round-off guard for nearly parallel draws
    R = np.linalg.cholesky(K).T
    z, _ = nnls(R, np.linalg.solve(R.T, b), maxiter=50 * m)
    return D * np.sqrt(z)[:, None]


def algorithm1_directions(seed: int, m: int, d: int) -> np.ndarray:
    """Algorithm 1's directions w^_i (m, d): normalised N(0, I_d) draws of run ``seed``."""
    D = student_rng(seed, "algorithm1", m, d).standard_normal((m, d))
    return D / np.linalg.norm(D, axis=1, keepdims=True)


def claim1_counterexample(seed: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Appendix A.2: teachers with sum_k w*_k = 0 (r = 3, random, d >= 2) and students
    |w_i| w_i = -w*_i.  With ReLU the loss is 0 while every student points away from its
    teacher (angle pi, no other teacher at angle 0)."""
    rng = np.random.default_rng([int(seed), 4, int(d)])
    A = rng.standard_normal((2, d))
    W_star = np.vstack([A, -A.sum(0)])
    n = np.linalg.norm(W_star, axis=1, keepdims=True)
    return W_star, -W_star / np.sqrt(n)


def claim2_pair(delta: float, d: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Section 4 / Claim 2 (Figure 2): w* = e_1; two students at angles +-delta with norms
    1/sqrt(2 cos delta) (so |w_1| w_1 + |w_2| w_2 = w*); one student at angle delta, norm 1.
    Returns (W*, W_two, W_one)."""
    e1, e2 = np.eye(d)[0], np.eye(d)[1]
    c, s = math.cos(delta), math.sin(delta)
    n = 1.0 / math.sqrt(2.0 * c)
    W_two = np.vstack([n * (c * e1 + s * e2), n * (c * e1 - s * e2)])
    return e1[None, :], W_two, (c * e1 + s * e2)[None, :]
