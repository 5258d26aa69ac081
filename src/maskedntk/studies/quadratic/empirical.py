"""Gradient descent on the empirical risk with n samples (beyond the paper).

Samples x_i ~ N(0, I_d), labels y_i = x_i^T M* x_i (noiseless), student f(x) = x^T W W^T x.
The empirical risk is scaled like the paper's population risk (engine module), so that its
expectation over the samples is L(W):

    L_n(W) = (1 / (4 n)) sum_i (x_i^T A x_i)^2,   A = W W^T - M*,
    grad L_n(W) = (1 / n) sum_i r_i x_i x_i^T W = X^T diag(r) X W / n,   r_i = x_i^T A x_i.

The population risk, trace and overlap of the iterates are recorded with the engine's
closed forms.  Samples of seed s come from ``default_rng([base_seed, s, d, m, m*, n, 3])``.
"""

from __future__ import annotations

import numpy as np
import torch

from ...core.validate import check_float, check_int
from .engine import Trajectory, blank_diverged, population_stats, record_steps


def draw_samples(base_seed: int, seeds, d: int, m: int, m_star: int, n: int) -> torch.Tensor:
    """X of shape (S, n, d), rows i.i.d. N(0, I_d), one independent draw per seed."""
    n = check_int("n", n, 1)
    xs = [np.random.default_rng([int(base_seed), int(s), d, m, m_star, n, 3]).standard_normal((n, d)) for s in seeds]
    return torch.from_numpy(np.stack(xs))


def empirical_residuals(W: torch.Tensor, V: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """r_i = x_i^T (W W^T - V V^T) x_i = ||W^T x_i||^2 - ||V^T x_i||^2, shape (S, n)."""
    return ((X @ W) ** 2).sum(-1) - ((X @ V) ** 2).sum(-1)


def empirical_loss(W: torch.Tensor, V: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """L_n(W) = mean_i r_i^2 / 4 (batched)."""
    return 0.25 * (empirical_residuals(W, V, X) ** 2).mean(-1)


def empirical_grad(W: torch.Tensor, V: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """grad L_n(W) = X^T diag(r) X W / n (batched)."""
    r = empirical_residuals(W, V, X)
    XW = X @ W
    return X.transpose(-1, -2) @ (r[..., None] * XW) / X.shape[-2]


def run_empirical_gd(
    W0: torch.Tensor, V: torch.Tensor, X: torch.Tensor, eta: float, n_steps: int, record=None
) -> tuple[Trajectory, np.ndarray]:
    """GD on L_n; returns the population-risk trajectory of the iterates and the training
    loss L_n at the recorded steps, shape (S, T)."""
    eta = check_float("eta", eta, 0.0, lo_open=True)
    n_steps = check_int("n_steps", n_steps, 1)
    record = record_steps(n_steps) if record is None else np.asarray(record, dtype=np.int64)
    W = W0.clone()
    S = W.shape[0]
    out = {k: np.full((S, len(record)), np.nan) for k in ("loss", "trA", "phi", "overlap", "train")}
    phi = torch.zeros(S, dtype=torch.float64)
    want = {int(s): i for i, s in enumerate(record)}
    for k in range(n_steps + 1):
        st = population_stats(W, V)
        if k in want:
            i = want[k]
            for key in ("loss", "trA", "overlap"):
                out[key][:, i] = st[key].numpy()
            out["phi"][:, i] = phi.numpy()
            out["train"][:, i] = empirical_loss(W, V, X).numpy()
            if blank_diverged(out, "train", i):
                break
        if k == n_steps:
            break
        phi = phi + eta * st["trA"]
        W = W - eta * empirical_grad(W, V, X)
    traj = Trajectory(record, out["loss"], out["trA"], out["phi"], out["overlap"], W)
    return traj, out["train"]
