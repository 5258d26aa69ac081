"""The closed forms of theory.py against hand values, Monte Carlo, a slow loop implementation
and torch autograd."""

import math

import numpy as np
import pytest
import torch

from maskedntk.studies.local_convergence import problem
from maskedntk.studies.local_convergence import theory as T

D = torch.float64


def _rand(shape, seed):
    return torch.as_tensor(np.random.default_rng(seed).standard_normal(shape))


def _mc(seed, n, d):
    return torch.as_tensor(np.random.default_rng(seed).standard_normal((n, d)))


@pytest.mark.parametrize("act", ["abs", "relu"])
def test_kernel_hand_values(act):
    e1, e2 = torch.eye(3, dtype=D)[:1], torch.eye(3, dtype=D)[1:2]
    u = 2.0 * e1
    # t = 0: E[sigma(u.x)^2] = |u|^2 (abs), |u|^2 / 2 (relu)
    assert T.kernel(u, u, act).item() == pytest.approx(4.0 if act == "abs" else 2.0, rel=1e-14)
    # t = pi/2: E|g1||g2| = 2/pi; E relu(g1) relu(g2) = 1/(2 pi)
    assert T.kernel(u, 3 * e2, act).item() == pytest.approx(
        6 * (2 / math.pi if act == "abs" else 1 / (2 * math.pi)), rel=1e-14
    )


def test_abs_kernel_even_in_sign_and_relu_identity():
    U, V = _rand((4, 5), 0), _rand((3, 5), 1)
    K = T.kernel(U, V)
    torch.testing.assert_close(T.kernel(-U, V), K, rtol=1e-13, atol=1e-13)
    # |a||b| = sum of the four relu products: k_abs(u, v) = 2 k_relu(u, v) + 2 k_relu(u, -v)
    torch.testing.assert_close(K, 2 * T.kernel(U, V, "relu") + 2 * T.kernel(U, -V, "relu"), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("act", ["abs", "relu"])
def test_kernel_against_monte_carlo(act):
    U, V = _rand((3, 4), 2), _rand((3, 4), 3)
    X = _mc(4, 400_000, 4)
    f = (lambda z: z.abs()) if act == "abs" else torch.relu
    A, B = f(X @ U.T), f(X @ V.T)  # (n, 3)
    prod = A.unsqueeze(-1) * B.unsqueeze(-2)
    mc, se = prod.mean(0), prod.std(0) / math.sqrt(X.shape[0])
    assert ((T.kernel(U, V, act) - mc).abs() <= 5 * se).all()


@pytest.mark.parametrize("act", ["abs", "relu"])
def test_population_loss_against_monte_carlo(act):
    W, Ws = _rand((1, 5, 3), 5) * 0.7, _rand((1, 2, 3), 6)
    X = _mc(7, 400_000, 3).unsqueeze(0)
    sq = 0.5 * (T.network(W, X, act) - T.teacher(Ws, X, act)) ** 2
    L, _ = T.population_loss_and_grad(W, Ws, act)
    assert abs(L.item() - sq.mean().item()) <= 5 * sq.std().item() / math.sqrt(X.shape[1])


def _slow_loss(W, Ws):
    """Definition 2's loss by plain loops, in the arcsin form (2/pi)(sqrt(1 - c^2) + c asin c)."""
    vecs = [(w.norm() * w, 1.0) for w in W] + [(w, -1.0) for w in Ws]
    total = 0.0
    for u, a in vecs:
        for v, b in vecs:
            nu, nv = u.norm(), v.norm()
            c = torch.clamp((u @ v) / (nu * nv), -1 + 1e-15, 1 - 1e-15)
            total = total + a * b * (2 / math.pi) * nu * nv * (torch.sqrt(1 - c * c) + c * torch.asin(c))
    return 0.5 * total


def test_gradient_against_autograd_of_slow_loop():
    for seed in range(3):
        W = _rand((4, 3), 10 + seed).requires_grad_(True)
        Ws = _rand((2, 3), 20 + seed)
        Ls = _slow_loss(W, Ws)
        (g,) = torch.autograd.grad(Ls, W)
        L, G = T.population_loss_and_grad(W.detach()[None], Ws[None])
        assert L.item() == pytest.approx(Ls.item(), rel=1e-11, abs=1e-12)
        torch.testing.assert_close(G[0], g, rtol=1e-8, atol=1e-9)


def test_relu_gradient_against_autograd_of_closed_form():
    W = _rand((1, 4, 3), 30).requires_grad_(True)
    Ws = _rand((1, 2, 3), 31)
    U = T.effective(W)
    V = torch.cat([U, Ws], 1)
    c = torch.tensor([1.0] * 4 + [-1.0] * 2, dtype=D)
    nv = V.norm(dim=-1)
    cos = ((V @ V.transpose(-1, -2)) / (nv.unsqueeze(-1) * nv.unsqueeze(-2))).clamp(-1 + 1e-15, 1 - 1e-15)
    t = torch.acos(cos)
    K = nv.unsqueeze(-1) * nv.unsqueeze(-2) * (torch.sin(t) + (math.pi - t) * torch.cos(t)) / (2 * math.pi)
    (g,) = torch.autograd.grad(0.5 * c @ K[0] @ c, W)
    _, G = T.population_loss_and_grad(W.detach(), Ws, "relu")
    torch.testing.assert_close(G, g, rtol=1e-7, atol=1e-8)


def test_empirical_loss_and_gradient_against_autograd():
    W = _rand((2, 4, 3), 40).requires_grad_(True)
    X, Ws = _rand((2, 50, 3), 41), _rand((2, 2, 3), 42)
    y = T.teacher(Ws, X)
    Lref = 0.5 * ((T.network(W, X) - y) ** 2).mean(-1)
    (g,) = torch.autograd.grad(Lref.sum(), W)
    L, G = T.empirical_loss_and_grad(W.detach(), X, y)
    torch.testing.assert_close(L, Lref.detach(), rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(G, g, rtol=1e-12, atol=1e-13)


def test_empirical_gradient_tends_to_population_gradient():
    W, Ws = _rand((1, 3, 3), 50), _rand((1, 2, 3), 51)
    X = _mc(52, 400_000, 3).unsqueeze(0)
    _, Ge = T.empirical_loss_and_grad(W, X, T.teacher(Ws, X))
    _, Gp = T.population_loss_and_grad(W, Ws)
    assert (Ge - Gp).norm() < 0.02 * Gp.norm()


def test_zero_loss_at_the_teacher_and_zero_neurons_are_inert():
    Ws = _rand((1, 3, 4), 60)
    W = Ws / Ws.norm(dim=-1, keepdim=True).sqrt()  # |w| w = w*
    L, G = T.population_loss_and_grad(W, Ws)
    assert abs(L.item()) < 1e-13 and G.abs().max() < 1e-12
    Wp = torch.cat([W + 0.01 * _rand((1, 3, 4), 61), torch.zeros(1, 2, 4, dtype=D)], 1)
    L2, G2 = T.population_loss_and_grad(Wp, Ws)
    L1, G1 = T.population_loss_and_grad(Wp[:, :3], Ws)
    assert L2.item() == pytest.approx(L1.item(), rel=1e-13)
    assert (G2[:, 3:] == 0).all()
    torch.testing.assert_close(G2[:, :3], G1, rtol=1e-13, atol=1e-15)


def test_claim2_losses_hand_values():
    # one student at angle delta, norms 1: L = 1 - (2/pi)(sin d + (pi/2 - d) cos d) ~ d^2/2
    for delta in (1e-3, 0.01, 0.1):
        Ws, W2, W1 = (torch.as_tensor(a)[None] for a in problem.claim2_pair(delta))
        L1 = T.population_loss_and_grad(W1, Ws, need_grad=False)[0].item()
        hand = 1 - (2 / math.pi) * (math.sin(delta) + (math.pi / 2 - delta) * math.cos(delta))
        assert L1 == pytest.approx(hand, rel=1e-6, abs=1e-15)
        assert L1 == pytest.approx(delta**2 / 2, rel=0.1)
        # two students of Claim 2: sum |w_i| w_i = w*, loss of order delta^3 (far below one student's)
        L2 = T.population_loss_and_grad(W2, Ws, need_grad=False)[0].item()
        assert 0.05 * delta**3 < L2 < 1.0 * delta**3
        torch.testing.assert_close(T.effective(W2).sum(1), Ws[:, 0], rtol=1e-14, atol=1e-14)
