"""The batched GD / SGD engine against a hand-written loop, and its bookkeeping."""

import numpy as np
import torch

from maskedntk.studies.local_convergence import engine as E
from maskedntk.studies.local_convergence import problem as P
from maskedntk.studies.local_convergence import theory as T


def _setup(seeds=(0, 1), m=4, r=2, d=3, rho=0.2):
    Ws = np.stack([P.make_teacher(s, r, d, 0.5, 0.5, 1.0) for s in seeds])
    W0 = np.stack([P.split_init(s, Ws[i], m, rho) for i, s in enumerate(seeds)])
    return W0, Ws


def test_gd_matches_a_plain_loop_and_runs_do_not_interact():
    W0, Ws = _setup()
    res = E.train(W0, Ws, eta=0.1, steps=7, n_checkpoints=3)
    for i in range(2):
        W = torch.as_tensor(W0[i : i + 1]).clone()
        for _ in range(7):
            W = W - 0.1 * T.population_loss_and_grad(W, torch.as_tensor(Ws[i : i + 1]))[1]
        np.testing.assert_allclose(res.W[i], W[0].numpy(), rtol=1e-13, atol=1e-15)
        alone = E.train(W0[i : i + 1], Ws[i : i + 1], eta=0.1, steps=7, n_checkpoints=3)
        np.testing.assert_array_equal(alone.W[0], res.W[i])


def test_levels_checkpoints_and_gradient_ratio():
    W0, Ws = _setup()
    res = E.train(W0, Ws, eta=0.1, steps=400, levels=[1e-3, 1e-5], n_checkpoints=10)
    assert res.steps[0] == 0 and res.steps[-1] == 400
    assert (res.loss[:, -1] < res.loss[:, 0]).all()
    for i in range(2):
        for j, lv in enumerate(res.levels):
            k = res.hit[i, j]
            if k >= 0:
                again = E.train(W0[i : i + 1], Ws[i : i + 1], eta=0.1, steps=max(k, 1), n_checkpoints=2)
                assert again.loss[0, -1] <= lv or k == 0
    L, G = T.population_loss_and_grad(torch.as_tensor(W0), torch.as_tensor(Ws))
    assert (res.min_ratio <= (G.flatten(1).norm(dim=-1) / L).numpy() + 1e-12).all()


def test_divergence_is_recorded_not_raised():
    W0, Ws = _setup()
    res = E.train(W0, Ws, eta=[0.1, 50.0], steps=200, n_checkpoints=5)
    assert list(res.diverged) == [False, True]
    assert np.isnan(res.loss[1, -1]) and np.isfinite(res.loss[0, -1])


def test_sgd_is_reproducible_per_run_and_tends_to_gd_for_large_batches():
    W0, Ws = _setup()
    a = E.train(W0, Ws, eta=0.05, steps=30, batch=64, sample_seeds=[5, 6], n_checkpoints=3)
    b = E.train(W0[1:], Ws[1:], eta=0.05, steps=30, batch=64, sample_seeds=[6], n_checkpoints=3)
    np.testing.assert_array_equal(a.W[1], b.W[0])
    gd = E.train(W0, Ws, eta=0.05, steps=30, n_checkpoints=3)
    big = E.train(W0, Ws, eta=0.05, steps=30, batch=20_000, sample_seeds=[5, 6], n_checkpoints=3)
    assert np.abs(big.W - gd.W).max() < 0.02 * np.abs(W0 - gd.W).max() + 1e-3
    assert np.abs(a.W - gd.W).max() > np.abs(big.W - gd.W).max()


def test_trajectories_and_early_stop():
    W0, Ws = _setup(seeds=(0,), m=2, r=2)
    res = E.train(W0, Ws, eta=0.1, steps=20_000, n_checkpoints=20, keep_traj=True)
    assert res.traj.shape == (1, res.steps.size, 2, 3)
    np.testing.assert_array_equal(res.traj[0, 0], W0[0])
    np.testing.assert_array_equal(res.traj[0, -1], res.W[0])
    assert res.loss[0, -1] <= 1e-14 and np.isfinite(res.loss).all()
