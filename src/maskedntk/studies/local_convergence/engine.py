"""Gradient descent on both layers of a two-layer ReLU network, batched over runs.

One call trains S independent runs (seeds, and any other axis the caller stacks) that share
the shapes (m, m*, d): parameters are tensors a (S, m), W (S, m, d), the teacher a* (S, m*),
W* (S, m*, d).  Each step is plain full gradient descent on both layers,

    (a, W) <- (a, W) - eta * grad [ L(a, W) + R_lam(a, W) ],

with L the population loss in closed form (:func:`theory.population_loss_and_grad`) or the
empirical loss on n teacher samples (:func:`theory.empirical_loss_and_grad`), and
R_lam = lam/4 sum_i (a_i^2 - |w_i|^2)^2 the optional norm-balance term (lam = 0: off).
All in float64.  The runs of a batch do not interact (every operation is per leading index).

Recorded: the loss at log-spaced checkpoints, the first step at which the loss falls below
each of a list of levels, the geometry summaries of :mod:`.metrics` at the checkpoints, and
the final per-neuron (theta_i, mu_i).  A run whose loss becomes non-finite or exceeds
``divergence_factor * max(L_0, 1)`` is frozen and flagged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from . import metrics as M
from .theory import balance_penalty_and_grad, empirical_loss_and_grad, population_loss_and_grad

DTYPE = torch.float64


@dataclass
class GDResult:
    """steps (C,) checkpoint steps; loss (S, C); far_mass, align (S, C); hit (S, len(levels))
    first step with L <= level (-1: never); theta, mu, nearest (S, m) at the end; diverged (S,);
    a, W the final parameters; loss_pop (S, C) the population loss at the checkpoints when
    training on the empirical loss (else None); seconds."""

    steps: np.ndarray
    loss: np.ndarray
    far_mass: np.ndarray
    align: np.ndarray
    levels: np.ndarray
    hit: np.ndarray
    theta: np.ndarray
    mu: np.ndarray
    nearest: np.ndarray
    diverged: np.ndarray
    a: np.ndarray
    W: np.ndarray
    loss_pop: np.ndarray | None
    seconds: float


def _t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=DTYPE)


def train(
    a0,
    W0,
    a_star,
    W_star,
    *,
    eta: float,
    steps: int,
    levels=(1e-3, 1e-6, 1e-9, 1e-12),
    n_checkpoints: int = 60,
    lam: float = 0.0,
    delta: float = 0.1,
    X=None,
    y=None,
    divergence_factor: float = 1e6,
) -> GDResult:
    """Run ``steps`` GD steps from (a0, W0) for every run of the batch (see module docstring).

    Arrays: a0 (S, m), W0 (S, m, d), a_star (S, m*), W_star (S, m*, d); X (S, n, d) and
    y (S, n) select the empirical loss (population loss when None)."""
    if eta <= 0 or steps < 1:
        raise ValueError(f"eta = {eta}, steps = {steps}: need eta > 0 and steps >= 1")
    t0 = time.perf_counter()
    a, W, As, Ws = _t(a0).clone(), _t(W0).clone(), _t(a_star), _t(W_star)
    empirical = X is not None
    if empirical:
        Xt, yt = _t(X), _t(y)

    def loss_grad(a, W, need_grad=True):
        if empirical:
            L, ga, gW = empirical_loss_and_grad(a, W, Xt, yt, need_grad=need_grad)
        else:
            L, ga, gW = population_loss_and_grad(a, W, As, Ws, need_grad=need_grad)
        if lam > 0:
            R, ra, rW = balance_penalty_and_grad(a, W, lam)
            L = L + R
            if need_grad:
                ga, gW = ga + ra, gW + rW
        return L, ga, gW

    S = a.shape[0]
    levels = np.asarray(levels, dtype=np.float64)
    lv = _t(levels)
    ckpts = M.log_checkpoints(steps, n_checkpoints)
    C = ckpts.size
    out_loss = np.full((S, C), np.nan)
    out_pop = np.full((S, C), np.nan) if empirical else None
    out_far = np.full((S, C), np.nan)
    out_align = np.full((S, C), np.nan)
    hit = torch.full((S, levels.size), -1, dtype=torch.int64)
    total = M.teacher_mass(As, Ws)
    alive = torch.ones(S, dtype=torch.bool)
    limit = None
    ci = 0
    with torch.no_grad():
        for k in range(steps + 1):
            L, ga, gW = loss_grad(a, W, need_grad=k < steps)
            if limit is None:
                limit = divergence_factor * torch.clamp(L, min=1.0)
            bad = ~torch.isfinite(L) | (L > limit)
            alive &= ~bad
            newly = (hit < 0) & (L.unsqueeze(-1) <= lv) & alive.unsqueeze(-1)
            hit[newly] = k
            if k == ckpts[ci]:
                th, _, mu = M.neuron_geometry(a, W, Ws)
                out_loss[:, ci] = np.where(alive.numpy(), L.numpy(), np.nan)
                out_far[:, ci] = M.far_mass(th, mu, total, delta).numpy()
                out_align[:, ci] = M.alignment_residual(th, mu, total).numpy()
                if empirical:
                    Lp, _, _ = population_loss_and_grad(a, W, As, Ws, need_grad=False)
                    out_pop[:, ci] = Lp.numpy()
                ci += 1
            if k == steps:
                break
            step = alive.to(DTYPE)
            a -= eta * step.unsqueeze(-1) * torch.nan_to_num(ga)
            W -= eta * step[:, None, None] * torch.nan_to_num(gW)
        theta, nearest, mu = M.neuron_geometry(a, W, Ws)
    return GDResult(
        steps=ckpts,
        loss=out_loss,
        far_mass=out_far,
        align=out_align,
        levels=levels,
        hit=hit.numpy(),
        theta=theta.numpy(),
        mu=mu.numpy(),
        nearest=nearest.numpy(),
        diverged=(~alive).numpy(),
        a=a.numpy(),
        W=W.numpy(),
        loss_pop=out_pop,
        seconds=time.perf_counter() - t0,
    )
