"""The local-convergence study's GD engine, configuration and the link to the core engine."""

import math

import numpy as np
import pytest
import torch

from maskedntk.studies.local_convergence import engine, problem, theory
from maskedntk.studies.local_convergence.experiments import validate
from maskedntk.studies.local_convergence.runs import _core


def _batch(seeds, m_star, d, m, rho):
    out = [[], [], [], []]
    for s in seeds:
        a_s, W_s = problem.make_teacher(s, m_star, d)
        a0, W0 = problem.init_student(s, a_s, W_s, m, rho)
        for lst, x in zip(out, (a0, W0, a_s, W_s), strict=False):
            lst.append(x)
    return [np.stack(x) for x in out]


def test_steps_match_a_plain_loop():
    a0, W0, a_s, W_s = _batch([0, 1], 2, 4, 6, 0.4)
    res = engine.train(a0, W0, a_s, W_s, eta=0.3, steps=5, n_checkpoints=6, lam=0.2)
    t = lambda x: torch.as_tensor(x, dtype=torch.float64)  # noqa: E731
    a, W = t(a0), t(W0)
    for _ in range(5):
        _, ga, gW = theory.population_loss_and_grad(a, W, t(a_s), t(W_s))
        _, ra, rW = theory.balance_penalty_and_grad(a, W, 0.2)
        a, W = a - 0.3 * (ga + ra), W - 0.3 * (gW + rW)
    assert np.allclose(res.a, a.numpy(), rtol=0, atol=1e-15)
    assert np.allclose(res.W, W.numpy(), rtol=0, atol=1e-15)
    assert res.steps[0] == 0 and res.steps[-1] == 5 and np.all(np.diff(res.steps) > 0)


def test_runs_of_a_batch_do_not_interact():
    a0, W0, a_s, W_s = _batch([0, 1, 2], 2, 4, 4, 0.5)
    both = engine.train(a0, W0, a_s, W_s, eta=0.5, steps=200)
    one = engine.train(a0[1:2], W0[1:2], a_s[1:2], W_s[1:2], eta=0.5, steps=200)
    assert np.allclose(both.loss[1], one.loss[0], rtol=1e-10, atol=1e-18)
    assert np.array_equal(both.hit[1], one.hit[0])


def test_exact_parameterisation_converges_linearly_and_faster_seeds_as_replicates():
    """Every seed: m = m* reaches 1e-12 in fewer steps than m = 2m* reaches 1e-6."""
    lv = [1e-6, 1e-12]
    seeds = [0, 1, 2, 3]
    r1 = engine.train(*_batch(seeds, 3, 6, 3, 0.2), eta=0.5, steps=1500, levels=lv)
    r2 = engine.train(*_batch(seeds, 3, 6, 6, 0.2), eta=0.5, steps=1500, levels=lv)
    assert np.all(r1.hit[:, 1] > 0)
    assert np.all((r2.hit[:, 0] < 0) | (r2.hit[:, 0] > r1.hit[:, 1]))
    assert np.all(r2.loss[:, -1] < r2.loss[:, 0])  # still converging


def test_divergence_is_flagged_and_frozen():
    a0, W0, a_s, W_s = _batch([0], 2, 4, 4, 0.3)
    res = engine.train(a0 * 30, W0 * 30, a_s, W_s, eta=5.0, steps=50)
    assert res.diverged[0] and np.all(np.isfinite(res.W))


def test_empirical_variant_tracks_population_loss():
    a_s, W_s = problem.make_teacher(3, 2, 4)
    a0, W0 = problem.init_student(3, a_s, W_s, 4, 0.5)
    X, y = problem.gaussian_data(3, 4000, 4, a_s, W_s)
    res = engine.train(a0[None], W0[None], a_s[None], W_s[None], eta=0.5, steps=300, X=X[None], y=y[None])
    assert res.loss[0, -1] < 1e-3 * res.loss[0, 0]
    assert res.loss_pop[0, 0] == pytest.approx(res.loss[0, 0], rel=0.1)  # n = 4000: L_n ~ L at init


def test_validate_names_the_key():
    cfg = validate({})
    assert cfg["m_star"] == 4 and cfg["ratios"] == [1, 2, 4, 8]
    for bad, key in (
        ({"ratios": [0, 2]}, "ratios[0]"),
        ({"eta": -1}, "eta"),
        ({"curves": {"steps": 0}}, "curves.steps"),
        ({"nonsense": 1}, "nonsense"),
        ({"claims": {"level_lo": 1.0, "level_hi": 0.1}}, "claims.level_lo"),
        ({"m_star": 20}, "m_star"),
    ):
        with pytest.raises(ValueError, match=key.replace("[", r"\[").replace("]", r"\]")):
            validate(bad)


def test_core_engine_link_matches_plain_gd():
    """The core's engine at xi = 1, p = 1, tau = 1 is plain GD on W with a fixed: checks that the
    link calls it with the conventions this study assumes (mean loss, 1/sqrt(m) scaling)."""
    train, TrainSpec = _core()
    a_s, W_s = problem.make_teacher(0, 2, 4)
    X, y = problem.gaussian_data(0, 30, 4, a_s, W_s)
    spec = TrainSpec(m=8, kappa=1.0, mask="bernoulli", xi=1.0, p=1, tau=1, eta=0.2, rounds=5, loss="mean")
    res = train(X, y, spec, [0], return_weights=True)
    from maskedntk.studies.masked.engine import init_params

    W, a = init_params(spec, 0, 4, 1)
    a = a[:, 0] / math.sqrt(8)
    losses = []
    for _ in range(6):
        Z = X @ W.T
        r = np.maximum(Z, 0) @ a - y
        losses.append(float(r @ r))
        W = W - 0.2 * ((Z >= 0) * r[:, None] * a[None, :]).T @ X / 30
    assert np.allclose(res.losses[0], losses, rtol=1e-10)
