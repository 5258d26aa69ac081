"""Masked training of the quadratic network (beyond the paper): the core study's scheme
(Liao & Kyrillidis, Algorithm 1) on the population risk.

One global round k: draw a mask m^l in {0,1}^m with i.i.d. Bernoulli(xi) entries for each of
the p subnetworks; subnetwork l starts from W_k and takes tau GD steps (step eta) on the
population risk of its own network

    f_l(x) = x^T W D_l W^T x / xi,   D_l = diag(m^l)

(the 1/xi makes E f_l = f, the "inverse_xi" surrogate of the core study; the paper's network
is xi = 1), i.e. on L(W D_l^{1/2} / sqrt(xi)), whose gradient is
(2 A_l + tr(A_l) I) W D_l / xi with A_l = W D_l W^T / xi - M*.  The neurons (columns of W) are
then aggregated: w_r <- w_r + (1 / X_r) sum_l Delta w_r^l with X_r = sum_l m^l_r; a neuron held
by no subnetwork keeps its weights.  gamma counts local steps: gamma = eta tau k / d.

Masks of seed s, round k: ``default_rng([base_seed, s, d, m, m*, k, 4])``.
"""

from __future__ import annotations

import numpy as np
import torch

from ...core.validate import check_float, check_int
from .engine import population_stats


def round_masks(base_seed: int, seeds, d: int, m: int, m_star: int, k: int, p: int, xi: float) -> torch.Tensor:
    """Boolean masks (S, p, m) of round k: entry < xi for a uniform draw."""
    ms = [np.random.default_rng([int(base_seed), int(s), d, m, m_star, k, 4]).random((p, m)) < xi for s in seeds]
    return torch.from_numpy(np.stack(ms))


def run_masked(
    W0: torch.Tensor,
    V: torch.Tensor,
    *,
    eta: float,
    rounds: int,
    p: int,
    tau: int,
    xi: float,
    seeds,
    base_seed: int = 0,
    record_every: int = 1,
) -> dict[str, np.ndarray]:
    """Run ``rounds`` global rounds; returns {'round', 'loss', 'overlap'} recorded every
    ``record_every`` rounds (and at the last), population quantities of the full network."""
    eta = check_float("eta", eta, 0.0, lo_open=True)
    rounds = check_int("rounds", rounds, 1)
    p = check_int("p", p, 1)
    tau = check_int("tau", tau, 1)
    xi = check_float("xi", xi, 0.0, 1.0, lo_open=True)
    S, d, m = W0.shape
    m_star = V.shape[-1]
    W = W0.clone()
    Vp = V[:, None]  # (S, 1, d, m*)
    trT = (V * V).sum((-2, -1))[:, None]
    rec_rounds, losses, overlaps = [], [], []
    for k in range(rounds + 1):
        if k % record_every == 0 or k == rounds:
            st = population_stats(W, V)
            rec_rounds.append(k)
            losses.append(st["loss"].numpy())
            overlaps.append(st["overlap"].numpy())
        if k == rounds:
            break
        masks = round_masks(base_seed, seeds, d, m, m_star, k, p, xi).to(torch.float64)  # (S, p, m)
        Wl = W[:, None].expand(S, p, d, m).clone()  # subnetwork copies
        Dm = masks[:, :, None, :] / xi  # column scaling D_l / xi
        for _ in range(tau):
            WD = Wl * Dm
            trA = (Wl * WD).sum((-2, -1)) - trT  # tr(W D W^T / xi) - tr M*
            G = 2.0 * (WD @ (Wl.transpose(-1, -2) @ WD) - Vp @ (Vp.transpose(-1, -2) @ WD)) + trA[..., None, None] * WD
            Wl = Wl - eta * G
        delta = (Wl - W[:, None]).sum(1)  # (S, d, m); unheld columns have zero change
        counts = masks.sum(1)  # (S, m)
        inv = torch.where(counts > 0, 1.0 / counts.clamp(min=1.0), torch.zeros_like(counts))
        W = W + delta * inv[:, None, :]
    return {"round": np.asarray(rec_rounds), "loss": np.stack(losses, 1), "overlap": np.stack(overlaps, 1)}
