"""References the plateau predictor (:mod:`.prediction`) is checked against (tests/masked/test_prediction.py).

* :func:`simulate_linear_recursion`: Monte Carlo of the linear stochastic recursion with the
  contributions fixed at initialisation and the exact masks, per-subnetwork kernels and S_l;
  :func:`linear_recursion_moments` is the moment closure of the same recursion.
* :func:`train_frozen_patterns`: the network with frozen activation patterns, trained exactly
  by Algorithm 1 with the engine's masks (contribution space).

Scalar labels (d_out = 1); docs/masked/prediction.md sec. 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .masks import sample_masks
from .prediction import Prediction, predict_plateau
from .prediction_init import initial_contributions, resolve_settings, weighted_kernel
from .spec import TrainSpec


@dataclass(frozen=True)
class _Fixed:
    G: np.ndarray  # X X^T
    P0: np.ndarray
    c0: np.ndarray
    xi: float


def _fixed(X, spec: TrainSpec, seed: int) -> _Fixed:
    P0, c0 = initial_contributions(X, spec, seed)
    return _Fixed(X @ X.T, P0, c0, spec.xi_eff)


# ----------------------------------------------------------------------------------------
# rung (1): the linear recursion with the contributions fixed at initialisation
# ----------------------------------------------------------------------------------------


def _round_operators(q: _Fixed, spec: TrainSpec, masks: np.ndarray):
    """For one mask set: (A_k, b_k) of the exact linear recursion e' = A_k e + b_k with the
    contributions fixed at c0 (per-subnetwork kernels H_l, weights M_lr / X_r, S_l)."""
    n = q.G.shape[0]
    m = spec.m
    M = masks.astype(np.float64)
    cnt = M.sum(axis=0)
    wts = M * np.where(cnt > 0, 1.0 / np.maximum(cnt, 1.0), 0.0)[None, :]
    Hl = weighted_kernel(q.G, q.P0, M / m)
    Gl = weighted_kernel(q.G, q.P0, wts / m)
    nu = (q.c0 @ (M - q.xi).T).T  # (p, n)
    A = np.eye(n)
    b = np.zeros(n)
    for sub in range(M.shape[0]):
        A1 = np.eye(n) - spec.eta * Hl[sub]
        S = np.zeros((n, n))
        T = np.eye(n)
        for _ in range(spec.tau):
            S += T
            T = T @ A1
        GS = q.xi * spec.eta * Gl[sub] @ S
        A -= GS
        b += GS @ nu[sub]
    return A, b


def simulate_linear_recursion(
    X,
    y,
    settings,
    seed: int = 0,
    eta: float | None = None,
    *,
    rounds: int | None = None,
    replicas: int = 4,
    mask_seed: int = 1000,
) -> np.ndarray:
    """Monte Carlo of the linear stochastic recursion the moments describe (contributions fixed
    at initialisation, exact per-subnetwork kernels, weights and S_l):

        e_{k+1} = e_k - xi eta sum_l G_l S_l (e_k - nu_l),  G_l = (1/m) sum_r (M_lr / X_r) K_r,

    e_0 = y - xi f(W_0).  Replica j uses the masks sample_masks(kind, mask_seed + j, k, ...).
    Returns ||e_k||^2 as a (replicas, K+1) array."""
    spec = resolve_settings(X, y, settings, eta)
    X = np.asarray(X, dtype=np.float64)
    y1 = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)[:, 0]
    K = spec.rounds if rounds is None else int(rounds)
    q = _fixed(X, spec, seed)
    out = np.empty((replicas, K + 1))
    for j in range(replicas):
        e = y1 - q.xi * q.c0.sum(axis=1)
        out[j, 0] = e @ e
        for k in range(K):
            A, b = _round_operators(q, spec, sample_masks(spec.mask, mask_seed + j, k, spec.p, spec.m, spec.xi))
            e = A @ e + b
            out[j, k + 1] = e @ e
    return out


def linear_recursion_moments(
    X, y, settings, seed: int = 0, eta: float | None = None, *, rounds: int | None = None, **kw
) -> Prediction:
    """The moment closure for the recursion of :func:`simulate_linear_recursion` (no evolution
    of the contributions): ``predict_plateau(..., evolve=False)``."""
    return predict_plateau(X, y, settings, seed, eta, rounds=rounds, evolve=False, **kw)


# ----------------------------------------------------------------------------------------
# rung (2): the network with frozen activation patterns, trained exactly
# ----------------------------------------------------------------------------------------


def train_frozen_patterns(
    X,
    y,
    settings,
    seed: int = 0,
    eta: float | None = None,
    *,
    rounds: int | None = None,
    return_contributions: bool = False,
):
    """Algorithm 1 on the linearised network f(W, x_i) = (1/sqrt m) sum_r a_r 1{<w_r(0), x_i> >= 0} <w_r, x_i>
    with the engine's masks (sample_masks(kind, seed, k, ...)), exactly (in contribution space).

    Returns L_0..L_K (tracked L_k = ||y - xi f||^2), and the final contributions (n, m) when
    ``return_contributions``."""
    spec = resolve_settings(X, y, settings, eta)
    X = np.asarray(X, dtype=np.float64)
    y1 = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)[:, 0]
    K = spec.rounds if rounds is None else int(rounds)
    n = X.shape[0]
    m, p, tau, eta_ = spec.m, spec.p, spec.tau, spec.eta
    xi = spec.xi_eff
    G = X @ X.T
    P0, c = initial_contributions(X, spec, seed)
    L = np.empty(K + 1)
    for k in range(K + 1):
        e = y1 - xi * c.sum(axis=1)
        L[k] = e @ e
        if k == K:
            break
        M = sample_masks(spec.mask, seed, k, p, m, spec.xi).astype(np.float64)
        cnt = M.sum(axis=0)
        Hl = weighted_kernel(G, P0, M / m)
        r = y1[None, :] - (c @ M.T).T  # (p, n): y - f_l
        acc = np.zeros((p, n))
        for _ in range(tau):
            acc += r
            r = r - eta_ * np.einsum("lij,lj->li", Hl, r)
        wts = M * np.where(cnt > 0, 1.0 / np.maximum(cnt, 1.0), 0.0)[None, :]
        Vn = acc.T @ wts  # (n, m): sum_l (M_lr / X_r) sum_t r_l^t
        c = c + (eta_ / m) * P0 * (G @ (P0 * Vn))
    return (L, c) if return_contributions else L


def missing_pieces(ps=(2, 4, 8), seeds=(0, 1), m: int = 1000, tau: int = 5, rounds: int = 200):
    """Per categorical cell and seed on the default data: the prediction (and its mean and
    kernel terms), the frozen-pattern network and the real network (window means of L_k),
    docs/masked/prediction.md sec. 7.  Yields dicts."""
    from .data import make_synthetic
    from .engine import train
    from .runner import resolve_cell_eta
    from .stationarity import stationarity_window
    from .stepsize import EtaRule

    ds = make_synthetic("teacher", 100, 128, 0)
    first, last = stationarity_window(rounds)
    for p in ps:
        spec = TrainSpec(m=m, tau=tau, rounds=rounds, mask="categorical", p=p, xi=None)
        spec, _, _ = resolve_cell_eta(spec, ds, EtaRule())
        for seed in seeds:
            pred = predict_plateau(ds.X, ds.y, spec, seed)
            frozen = float(train_frozen_patterns(ds.X, ds.y, spec, seed)[first : last + 1].mean())
            real = float(train(ds.X, ds.y, spec, [seed]).losses[0, first : last + 1].mean())
            yield {
                "p": p,
                "seed": seed,
                "predicted": pred.plateau_predicted,
                "mean_term": pred.mean_term,
                "kernel_term": pred.noise_kernel,
                "frozen": frozen,
                "real": real,
                "closure_gap": (frozen - pred.plateau_predicted) / real,
                "pattern_movement": (real - frozen) / real,
            }


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    for row in missing_pieces():
        print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
