"""Gradient descent on W of Definition 2 (Theorem 5) and its fresh-sample SGD (Theorem 7),
batched over independent runs, in float64.

One call trains S runs that share the shapes (m, r, d): W (S, m, d), teachers W* (S, r, d).
Narrower students are padded with zero neurons, which stay zero (their gradient is
|w| (I + w^ w^T) dL/du = 0), so widths can share a batch.  Each step is

    w_i <- w_i - eta * grad_{w_i} L(W)          (population loss, closed form, Theorem 5)
    w_i <- w_i - eta * grad_{w_i} L^_t(W)       (N fresh samples at step t, Theorem 7)

Recorded per run: the population loss and ||grad L||_F at log-spaced checkpoints, the first
step with L <= each level, the smallest ||grad L||_F / L over the steps with L >= ``ratio_floor``
(Theorem 4's ratio; with SGD these use the mini-batch loss between checkpoints), optionally
the parameters at the checkpoints (trajectories), and the final W.  A run whose loss turns
non-finite or exceeds ``divergence_factor * max(L_0, 1)`` is frozen and flagged as diverged
(not an error).  Population GD stops early once every run is at L <= ``stop_below`` (float64
round-off of the closed form); the remaining checkpoints repeat the current values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .theory import empirical_loss_and_grad, population_loss_and_grad, teacher

DTYPE = torch.float64


@dataclass
class GDResult:
    """steps (C,); loss, grad (S, C) population loss and ||grad L||_F at the checkpoints;
    levels (K,), hit (S, K) first step with L <= level (-1: never); min_ratio (S,);
    diverged (S,); W (S, m, d) final; traj (S, C, m, d) or None; seconds."""

    steps: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    levels: np.ndarray
    hit: np.ndarray
    min_ratio: np.ndarray
    diverged: np.ndarray
    W: np.ndarray
    traj: np.ndarray | None
    seconds: float


def log_checkpoints(steps: int, n: int) -> np.ndarray:
    """About n distinct steps in [0, steps], log-spaced (0 and ``steps`` included)."""
    pts = np.unique(np.round(np.logspace(0, np.log10(steps + 1), n) - 1).astype(np.int64))
    return np.unique(np.concatenate([[0], pts, [steps]]))


def _t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=DTYPE)


def train(
    W0,
    W_star,
    *,
    eta,
    steps: int,
    levels=(),
    n_checkpoints: int = 40,
    activation: str = "abs",
    batch: int | None = None,
    sample_seeds=None,
    keep_traj: bool = False,
    ratio_floor: float = 1e-12,
    stop_below: float = 1e-14,
    divergence_factor: float = 1e6,
) -> GDResult:
    """Run ``steps`` steps from W0 (S, m, d) against teachers W_star (S, r, d).

    ``eta`` is a number or one step size per run; ``batch`` = N selects Theorem 7's SGD with N
    fresh Gaussian samples per step, drawn for run s from ``torch.Generator`` seeded
    ``sample_seeds[s]`` (so a run's samples do not depend on the other runs of the batch)."""
    if steps < 1:
        raise ValueError(f"steps = {steps}: need steps >= 1")
    t0 = time.perf_counter()
    W, Ws = _t(W0).clone(), _t(W_star)
    S, m, d = W.shape
    eta_t = _t(np.broadcast_to(np.asarray(eta, dtype=np.float64), (S,)).copy())
    if (eta_t <= 0).any():
        raise ValueError(f"eta = {eta}: every step size must be > 0")
    gens = None
    if batch is not None:
        if sample_seeds is None or len(sample_seeds) != S:
            raise ValueError("SGD (batch = N) needs one sample seed per run")
        gens = [torch.Generator().manual_seed(int(s)) for s in sample_seeds]
    levels = np.asarray(levels, dtype=np.float64)
    lv = _t(levels)
    ckpts = log_checkpoints(steps, n_checkpoints)
    C = ckpts.size
    out_loss, out_grad = np.full((S, C), np.nan), np.full((S, C), np.nan)
    traj = np.full((S, C, m, d), np.nan) if keep_traj else None
    hit = torch.full((S, levels.size), -1, dtype=torch.int64)
    min_ratio = torch.full((S,), float("inf"), dtype=DTYPE)
    alive = torch.ones(S, dtype=torch.bool)
    limit = None
    ci = 0
    with torch.no_grad():
        for k in range(steps + 1):
            X = None
            if gens is not None:
                X = torch.stack([torch.randn(batch, d, generator=g, dtype=DTYPE) for g in gens])
                Lt, Gt = empirical_loss_and_grad(W, X, teacher(Ws, X))
            if gens is None or k == ckpts[ci] or k == steps:
                L, G = population_loss_and_grad(W, Ws, activation)
            else:  # SGD between checkpoints: the mini-batch loss only watches for divergence
                L, G = Lt, Gt
            if limit is None:
                limit = divergence_factor * torch.clamp(L, min=1.0)
            alive &= torch.isfinite(L) & (L <= limit)
            gn = G.flatten(1).norm(dim=-1)
            ok = alive & (L >= ratio_floor)
            min_ratio = torch.where(ok, torch.minimum(min_ratio, gn / L.clamp_min(ratio_floor)), min_ratio)
            if levels.size:
                newly = (hit < 0) & (L.unsqueeze(-1) <= lv) & alive.unsqueeze(-1)
                hit[newly] = k
            if k == ckpts[ci]:
                out_loss[:, ci] = np.where(alive.numpy(), L.numpy(), np.nan)
                out_grad[:, ci] = np.where(alive.numpy(), gn.numpy(), np.nan)
                if keep_traj:
                    traj[:, ci] = W.numpy()
                ci += 1
            if k == steps:
                break
            if not gens and bool((~alive | (L <= stop_below)).all()):
                # every run is at float64 round-off (or frozen): the rest of the curve is flat
                rest = ckpts > k
                now = alive.numpy()[:, None]
                out_loss[:, rest] = np.where(now, L.numpy()[:, None], np.nan)
                out_grad[:, rest] = np.where(now, gn.numpy()[:, None], np.nan)
                if keep_traj:
                    traj[:, rest] = W.numpy()[:, None]
                break
            if gens is not None:
                G = Gt
            step = (eta_t * alive.to(DTYPE))[:, None, None]
            W -= step * torch.nan_to_num(G)
    return GDResult(
        steps=ckpts,
        loss=out_loss,
        grad=out_grad,
        levels=levels,
        hit=hit.numpy(),
        min_ratio=np.where(np.isfinite(min_ratio.numpy()), min_ratio.numpy(), np.nan),
        diverged=(~alive).numpy(),
        W=W.numpy(),
        traj=traj,
        seconds=time.perf_counter() - t0,
    )
