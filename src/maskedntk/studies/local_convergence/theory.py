"""Closed forms for two-layer ReLU networks under standard Gaussian inputs.

Notation (Zhou, Ge & Jin, COLT 2021, arXiv 2102.02410; see docs/studies/local_convergence.md
for which items are verified from the paper and which are reconstructed):

    student  f(x)  = sum_{i=1}^{m}  a_i  sigma(w_i . x)
    teacher  f*(x) = sum_{k=1}^{m*} a*_k sigma(w*_k . x),   sigma = ReLU,  x ~ N(0, I_d)
    population loss  L(a, W) = 1/2 E_x[(f(x) - f*(x))^2]

Everything reduces to the arc-cosine kernel of degree 1 (Cho & Saul 2009):

    k(u, v) = E[sigma(u.x) sigma(v.x)] = |u| |v| J(t) / (2 pi),
    J(t) = sin t + (pi - t) cos t,   t = angle(u, v) in [0, pi],

so with c = (a, -a*) and V = (W; W*) stacked, L = 1/2 c^T K c, K_ij = k(v_i, v_j).  Its
gradient in the first argument is

    dk/du = (|v| sin t u/|u| + (pi - t) v) / (2 pi)            (k(u, u) = |u|^2 / 2),

which gives dL/da_i = sum_j c_j K_ij and dL/dw_i = a_i sum_j c_j dk(w_i, v_j)/dw_i.

Angles are computed as t = 2 atan2(|u^ - v^|, |u^ + v^|) (u^ = u/|u|) from direct pairwise
distances, accurate to a few ulps also for nearly parallel vectors, where arccos(u^ . v^) loses
half the digits; the loss is driven to ~1e-15 so this matters for the gradient's sin t term.
The predicted convergence forms are in :mod:`.rates`.
"""

from __future__ import annotations

import math

import torch

TWO_PI = 2.0 * math.pi
#: norms below this count as a zero neuron (its direction is arbitrary; its terms vanish)
NORM_FLOOR = 1e-300


def angles(U: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Pairwise angles t_ij = angle(U_i, V_j) in [0, pi]: (..., p, d) x (..., q, d) -> (..., p, q)."""
    Uh = U / U.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)
    Vh = V / V.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)
    # direct pairwise differences (not the |u|^2 + |v|^2 - 2 u.v expansion, which cancels)
    diff = torch.cdist(Uh, Vh, compute_mode="donot_use_mm_for_euclid_dist")
    summ = torch.cdist(Uh, -Vh, compute_mode="donot_use_mm_for_euclid_dist")
    return 2.0 * torch.atan2(diff, summ)


def arccos_kernel(U: torch.Tensor, V: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
    """k(U_i, V_j) = E[relu(U_i.x) relu(V_j.x)], x ~ N(0, I): (..., p, d) x (..., q, d) -> (..., p, q)."""
    if t is None:
        t = angles(U, V)
    J = torch.sin(t) + (math.pi - t) * torch.cos(t)
    return U.norm(dim=-1).unsqueeze(-1) * V.norm(dim=-1).unsqueeze(-2) * J / TWO_PI


def population_loss_and_grad(
    a: torch.Tensor, W: torch.Tensor, a_star: torch.Tensor, W_star: torch.Tensor, *, need_grad: bool = True
):
    """L = 1/2 E[(f - f*)^2] and (dL/da, dL/dW), batched over a leading seed axis.

    a (S, m), W (S, m, d), a_star (S, m*), W_star (S, m*, d).  Returns L (S,), ga (S, m),
    gW (S, m, d) (the gradients are None when ``need_grad`` is false)."""
    m = a.shape[-1]
    V = torch.cat([W, W_star], dim=-2)  # (S, q, d)
    c = torch.cat([a, -a_star], dim=-1)  # (S, q)
    t = angles(V, V)
    K = arccos_kernel(V, V, t)
    Kc = (K @ c.unsqueeze(-1)).squeeze(-1)  # (S, q)
    L = 0.5 * (c * Kc).sum(-1)
    if not need_grad:
        return L, None, None
    ga = Kc[..., :m]
    # dL/dw_i = a_i/(2 pi) [ w^_i sum_j c_j |v_j| sin t_ij + sum_j c_j (pi - t_ij) v_j ]
    tW = t[..., :m, :]  # (S, m, q)
    nv = V.norm(dim=-1)  # (S, q)
    radial = (torch.sin(tW) * (c * nv).unsqueeze(-2)).sum(-1)  # (S, m)
    Wh = W / W.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)
    lateral = ((math.pi - tW) * c.unsqueeze(-2)) @ V  # (S, m, d)
    gW = a.unsqueeze(-1) * (Wh * radial.unsqueeze(-1) + lateral) / TWO_PI
    return L, ga, gW


def balance_penalty_and_grad(a: torch.Tensor, W: torch.Tensor, lam: float):
    """R = lam/4 sum_i (a_i^2 - |w_i|^2)^2 and its gradients (the norm-balance term; lam = 0 off)."""
    gap = a * a - (W * W).sum(-1)  # (S, m)
    R = 0.25 * lam * (gap * gap).sum(-1)
    return R, lam * gap * a, -lam * gap.unsqueeze(-1) * W


def relu_net(a: torch.Tensor, W: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """f(x) = sum_i a_i relu(w_i . x) for X (S, n, d): -> (S, n)."""
    return (torch.relu(X @ W.transpose(-1, -2)) * a.unsqueeze(-2)).sum(-1)


def empirical_loss_and_grad(a, W, X, y, *, need_grad: bool = True):
    """L_n = 1/(2n) sum_s (f(x_s) - y_s)^2 and its gradients, closed form (relu'(0) = 0).

    a (S, m), W (S, m, d), X (S, n, d), y (S, n)."""
    n = X.shape[-2]
    Z = X @ W.transpose(-1, -2)  # (S, n, m)
    H = torch.relu(Z)
    r = (H * a.unsqueeze(-2)).sum(-1) - y  # (S, n)
    L = 0.5 * (r * r).sum(-1) / n
    if not need_grad:
        return L, None, None
    ga = (H * r.unsqueeze(-1)).sum(-2) / n
    G = (Z > 0).to(X.dtype) * r.unsqueeze(-1) * a.unsqueeze(-2)  # (S, n, m)
    gW = G.transpose(-1, -2) @ X / n
    return L, ga, gW


# the rate predictions (numpy only) live in .rates
