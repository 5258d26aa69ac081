"""The local-convergence study's closed forms: arc-cosine kernel and loss gradients against hand
values, an independent autograd implementation and Monte Carlo."""

import math

import numpy as np
import pytest
import torch

from maskedntk.studies.local_convergence import problem, theory
from maskedntk.studies.local_convergence.metrics import (
    alignment_residual,
    far_mass,
    fit_linear_rate,
    fit_power_exponent,
    interval_time,
    neuron_geometry,
    teacher_mass,
)

D = torch.float64


def _rand(seed, *shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def test_kernel_hand_values():
    u = torch.tensor([[[3.0, 4.0]]], dtype=D)  # |u| = 5
    v_orth = torch.tensor([[[-8.0, 6.0]]], dtype=D)  # |v| = 10, orthogonal
    assert theory.arccos_kernel(u, u).item() == pytest.approx(12.5, rel=1e-14)  # |u|^2/2
    assert theory.arccos_kernel(u, v_orth).item() == pytest.approx(50 / (2 * math.pi), rel=1e-14)
    assert theory.arccos_kernel(u, -u).item() == pytest.approx(0.0, abs=1e-14)  # antiparallel
    # 60 degrees: J = sin(pi/3) + (2pi/3) cos(pi/3)
    w = torch.tensor([[[0.5, math.sqrt(3) / 2]]], dtype=D)
    e = torch.tensor([[[1.0, 0.0]]], dtype=D)
    J = math.sin(math.pi / 3) + (2 * math.pi / 3) * 0.5
    assert theory.arccos_kernel(e, w).item() == pytest.approx(J / (2 * math.pi), rel=1e-13)


def test_angles_accurate_for_nearly_parallel():
    u = torch.tensor([[1.0, 0.0, 0.0]], dtype=D)
    for eps in (1e-5, 1e-9, 1e-12):
        v = torch.tensor([[1.0, eps, 0.0]], dtype=D)
        assert theory.angles(u, v).item() == pytest.approx(math.atan(eps), rel=1e-10)


def test_kernel_monte_carlo():
    U, V = _rand(1, 3, 5), _rand(2, 4, 5)
    X = _rand(3, 400_000, 5)
    prod = torch.relu(X @ U.T)[:, :, None] * torch.relu(X @ V.T)[:, None, :]
    mc, se = prod.mean(0), prod.std(0) / math.sqrt(X.shape[0])
    k = theory.arccos_kernel(U, V)
    assert torch.all((mc - k).abs() < 5 * se)


def _autograd_loss(a, W, a_s, W_s):
    """An independent implementation: arccos of the cosine matrix, diagonal set by hand."""
    V = torch.cat([W, W_s], 1)
    c = torch.cat([a, -a_s], 1)
    n = V.norm(dim=-1)
    C = (V @ V.transpose(1, 2)) / (n[:, :, None] * n[:, None, :])
    eye = torch.eye(V.shape[1], dtype=torch.bool).expand_as(C)
    C = torch.where(eye, torch.zeros_like(C), C.clamp(-1, 1))
    t = torch.where(eye, torch.zeros_like(C), torch.arccos(C))
    K = n[:, :, None] * n[:, None, :] * (torch.sin(t) + (math.pi - t) * torch.cos(t)) / (2 * math.pi)
    return 0.5 * torch.einsum("si,sij,sj->s", c, K, c)


def test_population_gradient_against_autograd():
    a, W, a_s, W_s = _rand(4, 3, 6), _rand(5, 3, 6, 5), _rand(6, 3, 2).abs() + 0.5, _rand(7, 3, 2, 5)
    L, ga, gW = theory.population_loss_and_grad(a, W, a_s, W_s)
    a2, W2 = a.clone().requires_grad_(), W.clone().requires_grad_()
    La = _autograd_loss(a2, W2, a_s, W_s)
    La.sum().backward()
    assert torch.allclose(L, La, rtol=1e-12, atol=1e-12)
    assert torch.allclose(ga, a2.grad, rtol=1e-10, atol=1e-12)
    assert torch.allclose(gW, W2.grad, rtol=1e-10, atol=1e-12)


def test_population_loss_and_gradient_against_monte_carlo():
    a, W, a_s, W_s = _rand(8, 1, 5), _rand(9, 1, 5, 4), _rand(10, 1, 3).abs() + 0.5, _rand(11, 1, 3, 4)
    L, ga, gW = theory.population_loss_and_grad(a, W, a_s, W_s)
    X = _rand(12, 1, 400_000, 4)
    y = theory.relu_net(a_s, W_s, X)
    Le, gae, gWe = theory.empirical_loss_and_grad(a, W, X, y)
    scale = lambda g: g.abs().max().item()  # noqa: E731
    assert abs(Le.item() - L.item()) < 0.02 * L.item()
    assert (gae - ga).abs().max().item() < 0.03 * scale(ga)
    assert (gWe - gW).abs().max().item() < 0.03 * scale(gW)


def test_empirical_gradient_against_autograd():
    a, W = _rand(13, 2, 5), _rand(14, 2, 5, 3)
    X, y = _rand(15, 2, 50, 3), _rand(16, 2, 50)
    L, ga, gW = theory.empirical_loss_and_grad(a, W, X, y)
    a2, W2 = a.clone().requires_grad_(), W.clone().requires_grad_()
    f = (torch.relu(X @ W2.transpose(1, 2)) * a2[:, None, :]).sum(-1)
    (0.5 * ((f - y) ** 2).mean(-1)).sum().backward()
    assert torch.allclose(ga, a2.grad, rtol=1e-12, atol=1e-14)
    assert torch.allclose(gW, W2.grad, rtol=1e-12, atol=1e-14)


def test_balance_penalty_gradient_against_autograd():
    a, W = _rand(17, 2, 4), _rand(18, 2, 4, 3)
    R, ra, rW = theory.balance_penalty_and_grad(a, W, 0.7)
    a2, W2 = a.clone().requires_grad_(), W.clone().requires_grad_()
    (0.25 * 0.7 * ((a2**2 - (W2**2).sum(-1)) ** 2).sum(-1)).sum().backward()
    assert torch.allclose(ra, a2.grad) and torch.allclose(rW, W2.grad)


def test_teacher_split_is_a_global_minimum():
    a_s, W_s = problem.make_teacher(0, 3, 6)
    assert np.allclose(W_s @ W_s.T, np.eye(3), atol=1e-12)
    a0, W0 = problem.init_student(0, a_s, W_s, 12, 0.0)
    t = lambda x: torch.as_tensor(x[None], dtype=D)  # noqa: E731
    L, ga, gW = theory.population_loss_and_grad(t(a0), t(W0), t(a_s), t(W_s))
    assert abs(L.item()) < 1e-14 and ga.abs().max() < 1e-13 and gW.abs().max() < 1e-13
    # the copies of each teacher carry its output weight, with balanced norms
    assert np.allclose(np.bincount(np.arange(12) % 3, a0 * np.linalg.norm(W0, axis=1)), a_s)
    assert np.allclose(np.abs(a0), np.linalg.norm(W0, axis=1))
    # deterministic
    a1, W1 = problem.init_student(0, a_s, W_s, 12, 0.3)
    a2, W2 = problem.init_student(0, a_s, W_s, 12, 0.3)
    assert np.array_equal(a1, a2) and np.array_equal(W1, W2)


def test_geometry_metrics_hand_example():
    W_s = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=D)
    a_s = torch.tensor([[1.0, 1.0]], dtype=D)
    # neuron 0 on teacher 0 (mass 1), neuron 1 at 45 degrees (mass 0.5 * sqrt 2 * 1 ...)
    W = torch.tensor([[[2.0, 0.0], [1.0, 1.0]]], dtype=D)
    a = torch.tensor([[0.5, -0.25]], dtype=D)
    th, near, mu = neuron_geometry(a, W, W_s)
    assert th[0, 0].item() == pytest.approx(0.0, abs=1e-15)
    assert th[0, 1].item() == pytest.approx(math.pi / 4)
    assert mu[0].tolist() == pytest.approx([1.0, 0.25 * math.sqrt(2)])
    total = teacher_mass(a_s, W_s)
    assert far_mass(th, mu, total, 0.1).item() == pytest.approx(0.25 * math.sqrt(2) / 2)
    assert alignment_residual(th, mu, total).item() == pytest.approx(0.25 * math.sqrt(2) * (math.pi / 4) ** 2 / 2)


def test_rate_fits_and_intervals():
    t = np.arange(1, 2001, dtype=float)
    assert fit_power_exponent(t, 5.0 * t**-3.0, 1e-9, 1e-2) == pytest.approx(3.0, rel=1e-9)
    assert fit_linear_rate(t, 0.1 * 0.97**t, 1e-14, 1e-2) == pytest.approx(0.97, rel=1e-9)
    hit = np.array([[3, 10], [3, -1], [0, 5]])
    out = interval_time(hit, np.array([1e-3, 1e-6]), 1e-3, 1e-6)
    assert out[0] == 7 and np.isnan(out[1]) and out[2] == 5
