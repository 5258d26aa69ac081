"""A slow, literal reference implementation of Algorithm 1 (Liao & Kyrillidis, arXiv 2112.02668v1).

Written independently of :mod:`maskedntk.studies.masked.engine`: it shares only the
initialisation (:func:`maskedntk.studies.masked.engine.init_params`) and the masks
(:func:`maskedntk.studies.masked.masks.sample_masks`),
so that the fast engine and this code see the same random draws.  Everything else follows
docs/masked/mathematics.md sections 1, 2 and 6 word for word:

* a Python loop over global rounds k, over subnetworks l and over local steps t;
* every subnetwork gets its own float64 copy of W with ``requires_grad``; its surrogate loss
  is built from plain torch ops and differentiated with ``torch.autograd.grad``; the update
  is an explicit ``W <- W - eta * grad``;
* the aggregation is done neuron by neuron with the holder counts X_{k,r}.

The ReLU derivative at exactly 0 is a parameter (``relu_grad_at_zero``): the paper's indicator
1{z >= 0} is ``1.0``, autograd's / TensorFlow's convention is ``0.0``.  It is implemented by a
custom autograd Function, and every autograd gradient is cross-checked against the literal
formula of docs/masked/mathematics.md sec. 2 (dL_l/dw_r = s a_r m_r sum_i (f_l(x_i) - y_i) x_i sigma'(z_ir)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from maskedntk.studies.masked.engine import init_params
from maskedntk.studies.masked.masks import sample_masks

DTYPE = torch.float64


class _ReLU(torch.autograd.Function):
    """relu(z) = max(z, 0) with derivative 1{z > 0} + g0 * 1{z == 0} (g0 = sigma'(0))."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, g0: float) -> torch.Tensor:
        ctx.save_for_backward(z)
        ctx.g0 = g0
        return torch.where(z > 0, z, torch.zeros_like(z))

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (z,) = ctx.saved_tensors
        return grad_out * relu_derivative(z, ctx.g0), None


def relu_derivative(z: torch.Tensor, g0: float) -> torch.Tensor:
    """sigma'(z) = 1 for z > 0, g0 for z == 0, 0 for z < 0."""
    one = torch.ones_like(z)
    return torch.where(z > 0, one, torch.where(z == 0, g0 * one, torch.zeros_like(z)))


def relu(z: torch.Tensor, g0: float) -> torch.Tensor:
    if g0 == 0.0:
        return torch.relu(z)  # autograd's own relu: derivative 0 at z = 0
    return _ReLU.apply(z, g0)


@dataclass
class ReferenceResult:
    losses: np.ndarray  # (K+1,) tracked error L_k
    weights: np.ndarray  # (m, d) final W_K
    trace: np.ndarray  # (K, tau+1) mean over subnetworks of ||y - f_l||^2 at local step t
    holder_counts: list  # per round, the (m,) array X_{k,r}


def network_output(W: torch.Tensor, a: torch.Tensor, X: torch.Tensor, scale: float, g0: float, mask=None):
    """scale * sum_r a_r [m_r] relu(<w_r, x_i>) for every i, as an (n, d_out) tensor."""
    H = relu(X @ W.T, g0)  # (n, m)
    if mask is not None:
        H = H * mask[None, :]
    return scale * (H @ a)


def literal_gradient(W, a, X, Y, mask, scale, g0, loss_coef):
    """dL_l/dw_r = loss_coef * scale * m_r * sum_i sum_o (f_l(x_i) - y_i)_o a_{r,o} sigma'(z_ir) x_i."""
    with torch.no_grad():
        Z = X @ W.T  # (n, m)
        F = network_output(W, a, X, scale, g0, mask)  # (n, d_out)
        E = F - Y  # (n, d_out)
        grad = torch.zeros_like(W)
        m = W.shape[0]
        for r in range(m):
            if mask[r] == 0:
                continue
            sd = relu_derivative(Z[:, r], g0)  # (n,)
            coeff = (E @ a[r]) * sd  # (n,)
            grad[r] = loss_coef * scale * mask[r] * (coeff[:, None] * X).sum(dim=0)
        return grad


def reference_train(
    X,
    y,
    spec,
    seed: int,
    *,
    surrogate: str | None = None,
    aggregation: str | None = None,
    loss: str | None = None,
    output_scale: str | None = None,
    relu_grad_at_zero: float | None = None,
    check_gradient: bool = True,
) -> ReferenceResult:
    """Run Algorithm 1 literally for one seed.

    ``spec`` supplies m, p, tau, eta, rounds, the mask kind and xi, and (through
    ``init_params``) the initialisation, including ``init='fan_in_m'``.  The conventions of
    docs/masked/mathematics.md sec. 6 are explicit options of this function; each defaults to the value in
    ``spec``:

    surrogate : 'paper' (f_l = s sum_r a_r m_r relu, tracked u = xi f) or 'inverse_xi'
        (f_l divided by xi, tracked u = f).
    aggregation : 'paper' (unheld neurons keep their weights) or 'zero_unheld' (set to 0).
    loss : 'sum' (1/2 ||y - f_l||^2) or 'mean' (1/2 ||y - f_l||^2 / n).
    output_scale : 'sqrt_m' (s = 1/sqrt(m)) or 'sqrt_dout' (s = 1/sqrt(d_out)).
    relu_grad_at_zero : sigma'(0), 1.0 for the paper, 0.0 for autograd.
    """
    surrogate = spec.surrogate if surrogate is None else surrogate
    aggregation = spec.aggregation if aggregation is None else aggregation
    loss = spec.loss if loss is None else loss
    output_scale = spec.output_scale if output_scale is None else output_scale
    g0 = float(spec.relu_grad_at_zero if relu_grad_at_zero is None else relu_grad_at_zero)
    assert surrogate in ("paper", "inverse_xi")
    assert aggregation in ("paper", "zero_unheld")
    assert loss in ("sum", "mean")
    assert output_scale in ("sqrt_m", "sqrt_dout")

    Xt = torch.tensor(np.asarray(X, dtype=np.float64), dtype=DTYPE)
    Yn = np.asarray(y, dtype=np.float64)
    if Yn.ndim == 1:
        Yn = Yn[:, None]
    Yt = torch.tensor(Yn, dtype=DTYPE)
    n, d = Xt.shape
    d_out = Yt.shape[1]
    m, p, tau, eta, K = spec.m, spec.p, spec.tau, spec.eta, spec.rounds
    xi = float(spec.xi) if spec.mask == "bernoulli" else 1.0 / p

    s = 1.0 / math.sqrt(m) if output_scale == "sqrt_m" else 1.0 / math.sqrt(d_out)
    surrogate_scale = s / xi if surrogate == "inverse_xi" else s
    tracked_factor = xi if surrogate == "paper" else 1.0
    loss_coef = 1.0 / n if loss == "mean" else 1.0

    W0, a0 = init_params(spec, seed, d, d_out)
    W = torch.tensor(W0, dtype=DTYPE)
    a = torch.tensor(a0, dtype=DTYPE)

    losses, trace, counts_per_round = [], [], []
    for k in range(K + 1):
        with torch.no_grad():
            u = tracked_factor * network_output(W, a, Xt, s, g0)
            losses.append(float(((Yt - u) ** 2).sum()))
        if k == K:
            break
        M = sample_masks(spec.mask, seed, k, p, m, spec.xi)  # (p, m) bool
        Mt = torch.tensor(M.astype(np.float64), dtype=DTYPE)

        deltas = []
        errs = np.zeros((p, tau + 1))
        for sub in range(p):
            Wl = W.clone().requires_grad_(True)
            for t in range(tau + 1):
                f_l = network_output(Wl, a, Xt, surrogate_scale, g0, Mt[sub])
                sq_err = ((Yt - f_l) ** 2).sum()
                errs[sub, t] = float(sq_err.detach())
                if t == tau:
                    break
                L_l = loss_coef * 0.5 * sq_err
                (grad,) = torch.autograd.grad(L_l, Wl)
                if check_gradient:
                    lit = literal_gradient(Wl.detach(), a, Xt, Yt, Mt[sub], surrogate_scale, g0, loss_coef)
                    torch.testing.assert_close(grad, lit, rtol=1e-12, atol=1e-14, equal_nan=True)
                Wl = (Wl.detach() - eta * grad).requires_grad_(True)
            deltas.append(Wl.detach() - W)
        trace.append(errs.mean(axis=0))

        # aggregation, neuron by neuron
        W_next = W.clone()
        counts = np.zeros(m, dtype=np.int64)
        for r in range(m):
            X_kr = int(sum(int(M[sub, r]) for sub in range(p)))
            counts[r] = X_kr
            if X_kr >= 1:
                total = torch.zeros(d, dtype=DTYPE)
                for sub in range(p):
                    total = total + deltas[sub][r]
                W_next[r] = W[r] + total / X_kr
            elif aggregation == "zero_unheld":
                W_next[r] = torch.zeros(d, dtype=DTYPE)
            else:
                W_next[r] = W[r]
        counts_per_round.append(counts)
        W = W_next

    return ReferenceResult(
        losses=np.array(losses),
        weights=W.numpy().copy(),
        trace=np.array(trace).reshape(K, tau + 1),
        holder_counts=counts_per_round,
    )
