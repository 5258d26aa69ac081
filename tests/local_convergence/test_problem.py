"""Teachers, initialisations and the constructions of Claims 1-2."""

import math

import numpy as np
import pytest
import torch

from maskedntk.studies.local_convergence import problem as P
from maskedntk.studies.local_convergence import theory as T


def test_teacher_satisfies_assumptions_1_and_2_and_is_deterministic():
    W = P.make_teacher(3, 4, 5, 0.7, 0.5, 1.5)
    n = np.linalg.norm(W, axis=1)
    assert ((n >= 0.5) & (n <= 1.5)).all()
    assert min(P.angle_up_to_sign(W[i], W[j]) for i in range(4) for j in range(i)) >= 0.7
    np.testing.assert_array_equal(W, P.make_teacher(3, 4, 5, 0.7, 0.5, 1.5))


def test_impossible_separation_names_the_key():
    with pytest.raises(ValueError, match="teacher.Delta"):
        P.make_teacher(0, 4, 2, 1.2, 0.5, 1.0)


def test_split_init_at_rho_zero_is_a_global_minimum():
    Ws = P.make_teacher(0, 3, 4, 0.5, 0.5, 1.0)
    W = P.split_init(0, Ws, 7, 0.0)
    L = T.population_loss_and_grad(torch.as_tensor(W)[None], torch.as_tensor(Ws)[None], need_grad=False)[0]
    assert abs(L.item()) < 1e-13
    with pytest.raises(ValueError, match="m = 2 < r = 3"):
        P.split_init(0, Ws, 2, 0.1)


def test_algorithm1_solves_the_nonnegative_least_squares():
    Ws = P.make_teacher(1, 2, 2, 0.5, 0.5, 1.0)
    W = P.algorithm1(1, Ws, 10)
    D = P.algorithm1_directions(1, 10, 2)
    z = (W * W).sum(1)  # |w'_i|^2 = z_i
    np.testing.assert_allclose(
        W / np.sqrt(np.maximum(z, 1e-300))[:, None] * (z > 0)[:, None], D * (z > 0)[:, None], atol=1e-12
    )
    Dt, Wt = torch.as_tensor(D), torch.as_tensor(Ws)
    K, b = T.kernel(Dt, Dt).numpy(), T.kernel(Dt, Wt).numpy().sum(1)
    grad = K @ z - b
    # KKT of min_{z >= 0} 1/2 z'Kz - b'z: grad = 0 where z > 0, grad >= 0 where z = 0
    assert np.abs(grad[z > 1e-10]).max() < 1e-6 and grad[z <= 1e-10].min() > -1e-6
    L = lambda W: T.population_loss_and_grad(torch.as_tensor(W)[None], Wt[None], need_grad=False)[0].item()  # noqa: E731
    assert L(W) < L(0.5 * W) and L(W) < L(np.zeros_like(W))


def test_claim1_counterexample_relu_zero_loss_abs_aligned():
    Ws, W = P.claim1_counterexample(0, 4)
    np.testing.assert_allclose(Ws.sum(0), 0, atol=1e-12)
    Wt, Wst = torch.as_tensor(W)[None], torch.as_tensor(Ws)[None]
    assert abs(T.population_loss_and_grad(Wt, Wst, "relu", need_grad=False)[0].item()) < 1e-13
    t = T.angles(Wt[0], Wst[0])
    assert t.min() > 0.1  # no student points along a teacher (ReLU: w and -w differ)
    assert T.angle_up_to_sign(t).min(-1).values.max() < 1e-6  # up to sign each matches one
    assert math.isclose(t.max().item(), math.pi, rel_tol=1e-6)
