"""Per-neuron geometry and trajectory summaries.

For student neuron i with parameters (a_i, w_i) and teachers w*_k:
  * theta_i = min_k angle(w_i, w*_k): the angle to the nearest teacher direction;
  * mu_i = |a_i| |w_i|: its output mass (f is 1-homogeneous in (a_i, w_i) jointly, so this is
    what the neuron contributes; under balanced norms it equals a_i^2);
  * far mass F_delta = sum_{i: theta_i > delta} mu_i / sum_k |a*_k| |w*_k|: the share of the
    output weight carried by neurons farther than delta from every teacher;
  * alignment residual A = sum_i mu_i theta_i^2 / sum_k |a*_k| |w*_k|: zero iff every neuron
    is either aligned with a teacher or carries no mass -- the theorem's conclusion.
"""

from __future__ import annotations

import numpy as np
import torch

from .theory import angles


def neuron_geometry(a: torch.Tensor, W: torch.Tensor, W_star: torch.Tensor):
    """(theta (S, m), nearest teacher index (S, m), mu (S, m))."""
    t = angles(W, W_star)  # (S, m, m*)
    theta, nearest = t.min(dim=-1)
    mu = a.abs() * W.norm(dim=-1)
    return theta, nearest, mu


def teacher_mass(a_star: torch.Tensor, W_star: torch.Tensor) -> torch.Tensor:
    return (a_star.abs() * W_star.norm(dim=-1)).sum(-1)


def far_mass(theta: torch.Tensor, mu: torch.Tensor, total: torch.Tensor, delta: float) -> torch.Tensor:
    return (mu * (theta > delta)).sum(-1) / total


def alignment_residual(theta: torch.Tensor, mu: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    return (mu * theta * theta).sum(-1) / total


def log_checkpoints(steps: int, n: int) -> np.ndarray:
    """About n distinct integer steps in [0, steps], log-spaced, always including 0, 1 and steps."""
    pts = np.unique(np.round(np.geomspace(1, max(steps, 1), max(n - 1, 2))).astype(np.int64))
    return np.unique(np.concatenate([[0], pts, [steps]]))


def interval_time(hit: np.ndarray, levels: np.ndarray, hi: float, lo: float) -> np.ndarray:
    """Steps from first reaching loss <= hi to first reaching loss <= lo, per row of ``hit``
    (S, len(levels)) first-hitting steps (-1 = never).  NaN when either level is never hit."""
    i = int(np.argmin(np.abs(np.log10(levels) - np.log10(hi))))
    j = int(np.argmin(np.abs(np.log10(levels) - np.log10(lo))))
    a, b = hit[:, i].astype(float), hit[:, j].astype(float)
    out = b - a
    out[(a < 0) | (b < 0)] = np.nan
    return out


def fit_power_exponent(steps: np.ndarray, loss: np.ndarray, lo: float, hi: float) -> float:
    """beta of L ~ C t^-beta, least squares in log-log over checkpoints with lo <= L <= hi."""
    steps = np.asarray(steps, dtype=float)
    loss = np.asarray(loss, dtype=float)
    ok = (steps > 0) & np.isfinite(loss) & (loss >= lo) & (loss <= hi)
    if ok.sum() < 3:
        return float("nan")
    slope = np.polyfit(np.log(steps[ok]), np.log(loss[ok]), 1)[0]
    return float(-slope)


def fit_linear_rate(steps: np.ndarray, loss: np.ndarray, lo: float, hi: float) -> float:
    """rho of L ~ C rho^t (log-linear least squares) over checkpoints with lo <= L <= hi."""
    steps = np.asarray(steps, dtype=float)
    loss = np.asarray(loss, dtype=float)
    ok = np.isfinite(loss) & (loss >= lo) & (loss <= hi)
    if ok.sum() < 3:
        return float("nan")
    slope = np.polyfit(steps[ok], np.log(loss[ok]), 1)[0]
    return float(np.exp(slope))
