"""Closed forms of the model of Zhou, Ge & Jin (COLT 2021), Definition 2, for x ~ N(0, I_d).

    teacher  f*(x) = sum_{k=1}^{r} |w*_k . x|
    student  f(x)  = sum_{i=1}^{m} |w_i| |w_i . x|       (output weight tied to the norm)
    loss     L(W)  = 1/2 E[(f(x) - f*(x))^2]              (eq. 1)

With the effective neuron u_i = g(w_i) = |w_i| w_i the student is f(x) = sum_i |u_i . x|, so
with V = (U; W*) stacked and signs c = (+1, ..., +1, -1, ..., -1),

    L = 1/2 sum_{a,b} c_a c_b k(v_a, v_b),
    k(u, v) = E|u.x||v.x| = (2/pi) |u| |v| (sin t + (pi/2 - t) cos t),   t = angle(u, v) in [0, pi]

(docs/studies/local_convergence.md derives k from the arc-cosine kernel; k depends on t only
through the angle up to sign, min(t, pi - t)).  Its gradient in the first argument is

    dk/du = (2/pi) (|v| sin t u/|u| + (pi/2 - t) v)            (k(u, u) = |u|^2),

so dL/du_i = sum_b c_b dk(u_i, v_b)/du_i and, through the Jacobian of g (symmetric),
dL/dw_i = |w_i| (I + w^_i w^_i^T) dL/du_i  (the factor behind Lemma 8's (I + w^ w^T)^-1).

The ReLU variant (Appendix A.1: sigma = ReLU in teacher and student) uses the arc-cosine
kernel k_relu(u, v) = |u| |v| (sin t + (pi - t) cos t) / (2 pi) and dk_relu/du =
(|v| sin t u^ + (pi - t) v) / (2 pi) in the same formulas.

Angles come from the Gram matrix (:func:`angles`).
Every function is batched over a leading run axis S and works in the input's dtype (float64).
"""

from __future__ import annotations

import math

import torch

#: norms below this count as a zero neuron (its terms vanish; padding of narrower students)
NORM_FLOOR = 1e-300
ACTIVATIONS = ("abs", "relu")


def angles(U: torch.Tensor, V: torch.Tensor, *, same: bool = False) -> torch.Tensor:
    """Pairwise angles t_ab = angle(U_a, V_b) in [0, pi]: (..., p, d) x (..., q, d) -> (..., p, q).

    From the Gram matrix: t = atan2(sqrt(1 - c^2), c), c = u^.v^, whose round-off is about
    1e-16 / t (negligible unless two neurons are parallel to 1e-8); ``same`` (U is V) sets the
    diagonal to exactly 0, where the formula would give about 1e-8."""
    Uh = U / U.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)
    Vh = V / V.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)
    c = (Uh @ Vh.transpose(-1, -2)).clamp(-1.0, 1.0)
    s = (1.0 - c * c).clamp_min(0.0).sqrt()
    if same:
        eye = torch.eye(c.shape[-1], dtype=torch.bool)
        c, s = c.masked_fill(eye, 1.0), s.masked_fill(eye, 0.0)
    return torch.atan2(s, c)


def angle_up_to_sign(t: torch.Tensor) -> torch.Tensor:
    """The paper's angle (Section 2, Notations): min(t, pi - t) in [0, pi/2]."""
    return torch.minimum(t, math.pi - t)


def _shape(t: torch.Tensor, activation: str) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(J(t), the lateral factor of dk/du, the constant) with k = const |u||v| J(t)."""
    if activation == "abs":
        return torch.sin(t) + (0.5 * math.pi - t) * torch.cos(t), 0.5 * math.pi - t, 2.0 / math.pi
    if activation == "relu":
        return torch.sin(t) + (math.pi - t) * torch.cos(t), math.pi - t, 0.5 / math.pi
    raise ValueError(f"activation = {activation!r}: must be one of {list(ACTIVATIONS)}")


def kernel(U: torch.Tensor, V: torch.Tensor, activation: str = "abs") -> torch.Tensor:
    """k(U_a, V_b) = E[sigma(U_a.x) sigma(V_b.x)]: (..., p, d) x (..., q, d) -> (..., p, q)."""
    J, _, const = _shape(angles(U, V), activation)
    return const * U.norm(dim=-1).unsqueeze(-1) * V.norm(dim=-1).unsqueeze(-2) * J


def effective(W: torch.Tensor) -> torch.Tensor:
    """u_i = |w_i| w_i (the student's neuron with its tied output weight folded in)."""
    return W.norm(dim=-1, keepdim=True) * W


def loss_and_grad_u(U: torch.Tensor, W_star: torch.Tensor, activation: str = "abs", *, need_grad: bool = True):
    """L and dL/dU for f = sum_i sigma(u_i.x), f* = sum_k sigma(w*_k.x): U (S, m, d), W* (S, r, d)."""
    m = U.shape[-2]
    V = torch.cat([U, W_star], dim=-2)
    c = torch.cat([torch.ones_like(U[..., 0]), -torch.ones_like(W_star[..., 0])], dim=-1)
    t = angles(V, V, same=True)
    J, lat, const = _shape(t, activation)
    nv = V.norm(dim=-1)
    K = const * nv.unsqueeze(-1) * nv.unsqueeze(-2) * J
    Kc = (K @ c.unsqueeze(-1)).squeeze(-1)
    L = 0.5 * (c * Kc).sum(-1)
    if not need_grad:
        return L, None
    radial = (torch.sin(t[..., :m, :]) * (c * nv).unsqueeze(-2)).sum(-1)  # (S, m)
    Uh = U / U.norm(dim=-1, keepdim=True).clamp_min(NORM_FLOOR)
    lateral = (lat[..., :m, :] * c.unsqueeze(-2)) @ V
    return L, const * (Uh * radial.unsqueeze(-1) + lateral)


def chain_to_w(W: torch.Tensor, gU: torch.Tensor) -> torch.Tensor:
    """dL/dw_i = |w_i| (I + w^_i w^_i^T) dL/du_i (Jacobian of u = |w| w, symmetric)."""
    n = W.norm(dim=-1, keepdim=True)
    Wh = W / n.clamp_min(NORM_FLOOR)
    return n * (gU + Wh * (Wh * gU).sum(-1, keepdim=True))


def population_loss_and_grad(W: torch.Tensor, W_star: torch.Tensor, activation: str = "abs", *, need_grad=True):
    """L(W) of eq. (1) and dL/dW (closed form): W (S, m, d), W* (S, r, d) -> L (S,), G (S, m, d)."""
    L, gU = loss_and_grad_u(effective(W), W_star, activation, need_grad=need_grad)
    return L, (chain_to_w(W, gU) if need_grad else None)


def network(W: torch.Tensor, X: torch.Tensor, activation: str = "abs") -> torch.Tensor:
    """f(x) = sum_i |w_i| sigma(w_i . x) for X (S, n, d) -> (S, n)."""
    Z = X @ W.transpose(-1, -2)
    act = Z.abs() if activation == "abs" else torch.relu(Z)
    return (act * W.norm(dim=-1).unsqueeze(-2)).sum(-1)


def teacher(W_star: torch.Tensor, X: torch.Tensor, activation: str = "abs") -> torch.Tensor:
    """f*(x) = sum_k sigma(w*_k . x) for X (S, n, d) -> (S, n)."""
    Z = X @ W_star.transpose(-1, -2)
    return (Z.abs() if activation == "abs" else torch.relu(Z)).sum(-1)


def empirical_loss_and_grad(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, *, need_grad: bool = True):
    """Section 3.4's L^(W) = 1/(2N) sum_k (f(x_k) - y_k)^2 and its gradient (sgn(0) = 0).

    W (S, m, d), X (S, N, d), y (S, N)."""
    N = X.shape[-2]
    Z = X @ W.transpose(-1, -2)  # (S, N, m)
    n = W.norm(dim=-1)  # (S, m)
    res = (Z.abs() * n.unsqueeze(-2)).sum(-1) - y  # (S, N)
    L = 0.5 * (res * res).sum(-1) / N
    if not need_grad:
        return L, None
    # d/dw_i |w_i| |w_i.x| = w^_i |w_i.x| + |w_i| sgn(w_i.x) x
    Wh = W / n.unsqueeze(-1).clamp_min(NORM_FLOOR)
    radial = (Z.abs() * res.unsqueeze(-1)).sum(-2) / N  # (S, m)
    lateral = (torch.sign(Z) * res.unsqueeze(-1)).transpose(-1, -2) @ X / N  # (S, m, d)
    return L, Wh * radial.unsqueeze(-1) + n.unsqueeze(-1) * lateral
