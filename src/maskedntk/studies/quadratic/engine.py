"""Gradient descent on the population risk, batched over a leading axis (seeds, or cells of the
same shape), in float64.

Population risk (the factor is the one in the authors' Model.py): with A = W W^T - M* and
x ~ N(0, I_d), E[(x^T A x)^2] = 2 ||A||_F^2 + (tr A)^2, and

    L(W) = E[(f(x) - f*(x))^2] / 4 = ||A||_F^2 / 2 + (tr A)^2 / 4,
    grad L(W) = (2 A + tr(A) I_d) W.

GD: W_{k+1} = W_k - eta grad L(W_k); continuous time t = eta k, high-dimensional time
gamma = eta k / d (the paper's high-dimensional time).  Tracked along the run, at the steps in ``record``:

* the loss L(W_k);
* tr A_k;
* phi_k = eta sum_{j<k} tr A_j, the Riemann sum of phi(t) = int_0^t tr(W W^T - M*) ds
  (phi_d(gamma) of Figs. 2 and 4; phi_0 = 0);
* the overlap chi_k = |tr(M_k M*)| / (||M_k||_F ||M*||_F), M_k = W_k W_k^T.

Everything is computed from m x m and m* x m Gram matrices, never a d x d matrix:
||A||_F^2 = ||W^T W||^2 - 2 ||V^T W||^2 + ||V^T V||^2, tr(M M*) = ||V^T W||_F^2,
||M||_F = ||W^T W||_F, tr A = ||W||_F^2 - ||V||_F^2, and
grad = 2 (W (W^T W) - V (V^T W)) + tr(A) W.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...core.validate import check_float, check_int


def _fro2(X: torch.Tensor) -> torch.Tensor:
    return (X * X).sum(dim=(-2, -1))


def population_stats(W: torch.Tensor, V: torch.Tensor) -> dict[str, torch.Tensor]:
    """Loss, tr A, overlap and ||A||_F^2 of a batch (W: (B, d, m), V: (B, d, m*))."""
    WtW = W.transpose(-1, -2) @ W
    VtW = V.transpose(-1, -2) @ W
    VtV = V.transpose(-1, -2) @ V
    nM2, cross, nT2 = _fro2(WtW), _fro2(VtW), _fro2(VtV)
    trA = _fro2(W) - _fro2(V)
    A2 = nM2 - 2.0 * cross + nT2
    loss = 0.5 * A2 + 0.25 * trA**2
    overlap = cross / torch.sqrt(nM2 * nT2)
    return {"loss": loss, "trA": trA, "overlap": overlap, "A2": A2}


def population_loss(W: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """L(W) = ||W W^T - V V^T||_F^2 / 2 + tr(W W^T - V V^T)^2 / 4 (batched)."""
    return population_stats(W, V)["loss"]


def population_grad(W: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """grad L(W) = (2 A + tr(A) I) W = 2 (W W^T W - V V^T W) + tr(A) W (batched)."""
    trA = _fro2(W) - _fro2(V)
    return 2.0 * (W @ (W.transpose(-1, -2) @ W) - V @ (V.transpose(-1, -2) @ W)) + trA[:, None, None] * W


@dataclass
class Trajectory:
    """Recorded quantities, shape (B, T) each, at the steps ``steps`` (T,)."""

    steps: np.ndarray
    loss: np.ndarray
    trA: np.ndarray
    phi: np.ndarray
    overlap: np.ndarray
    W_final: torch.Tensor


def blank_diverged(out: dict[str, np.ndarray], key: str, i: int) -> bool:
    """Set every recorded quantity of the runs whose ``out[key]`` is non-finite at column ``i`` to
    NaN from ``i`` on; True when every run has diverged (the caller stops)."""
    bad = ~np.isfinite(out[key][:, i])
    if not bad.any():
        return False
    for k in out:
        out[k][bad, i:] = np.nan
    return bool(bad.all())


def record_steps(n_steps: int, n_log: int = 200, n_lin: int = 200) -> np.ndarray:
    """Steps at which to record: 0, ``n_log`` log-spaced and ``n_lin`` evenly spaced up to
    ``n_steps`` (figures use log and linear time axes)."""
    n_steps = check_int("n_steps", n_steps, 1)
    logs = np.unique(np.round(np.geomspace(1, n_steps, n_log)).astype(np.int64))
    lins = np.round(np.linspace(0, n_steps, n_lin + 1)).astype(np.int64)
    return np.unique(np.concatenate([[0], logs, lins]))


def run_population_gd(
    W0: torch.Tensor,
    V: torch.Tensor,
    eta: float,
    n_steps: int,
    record: np.ndarray | None = None,
    *,
    dense_loss: bool = False,
) -> Trajectory:
    """``n_steps`` steps of GD on the population risk from W0 (B, d, m), teachers V (B, d, m*).

    ``dense_loss`` computes ||A||_F^2 from the d x d matrix A at recorded steps (no
    cancellation between the Gram-matrix terms; needed when the loss falls below ~1e-10 of
    ||M*||_F^2).  A run whose loss becomes non-finite keeps NaN from then on (checked at
    recorded steps)."""
    eta = check_float("eta", eta, 0.0, lo_open=True)
    n_steps = check_int("n_steps", n_steps, 1)
    record = record_steps(n_steps) if record is None else np.asarray(record, dtype=np.int64)
    if record.min() < 0 or record.max() > n_steps:
        raise ValueError(f"record: steps must lie in [0, {n_steps}]")
    W = W0.clone().to(torch.float64)
    V = V.to(torch.float64)
    B = W.shape[0]
    out = {k: np.full((B, len(record)), np.nan) for k in ("loss", "trA", "phi", "overlap")}
    phi = torch.zeros(B, dtype=torch.float64)
    want = {int(s): i for i, s in enumerate(record)}
    VtV = V.transpose(-1, -2) @ V
    nT2 = _fro2(VtV)
    trT = _fro2(V)
    for k in range(n_steps + 1):
        WtW = W.transpose(-1, -2) @ W
        trA = torch.diagonal(WtW, dim1=-2, dim2=-1).sum(-1) - trT
        if k in want:
            i = want[k]
            VtW = V.transpose(-1, -2) @ W
            nM2, cross = _fro2(WtW), _fro2(VtW)
            if dense_loss:
                A2 = _fro2(W @ W.transpose(-1, -2) - V @ V.transpose(-1, -2))
            else:
                A2 = nM2 - 2.0 * cross + nT2
            out["loss"][:, i] = (0.5 * A2 + 0.25 * trA**2).numpy()
            out["trA"][:, i] = trA.numpy()
            out["phi"][:, i] = phi.numpy()
            out["overlap"][:, i] = (cross / torch.sqrt(nM2 * nT2)).numpy()
            if blank_diverged(out, "loss", i):
                break
        if k == n_steps:
            break
        phi = phi + eta * trA
        G = 2.0 * (W @ WtW - V @ (V.transpose(-1, -2) @ W)) + trA[:, None, None] * W
        W = W - eta * G
    return Trajectory(record, out["loss"], out["trA"], out["phi"], out["overlap"], W)
