"""Engine of the quadratic study: closed forms against autograd, Monte Carlo and plain loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from maskedntk.studies.quadratic import empirical, engine, masked, problems
from maskedntk.studies.quadratic.experiments import validate

torch.set_num_threads(1)


def _rand(B=3, d=7, m=4, ms=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(B, d, m, generator=g, dtype=torch.float64) / np.sqrt(d)
    V = torch.randn(B, d, ms, generator=g, dtype=torch.float64) / np.sqrt(d)
    return W, V


def _dense_loss(W, V):
    A = W @ W.transpose(-1, -2) - V @ V.transpose(-1, -2)
    tr = torch.diagonal(A, dim1=-2, dim2=-1).sum(-1)
    return 0.5 * (A * A).sum((-2, -1)) + 0.25 * tr**2


def test_loss_matches_dense_formula():
    W, V = _rand()
    assert torch.allclose(engine.population_loss(W, V), _dense_loss(W, V), rtol=1e-12, atol=1e-15)


def test_closed_form_gradient_matches_autograd():
    W, V = _rand(seed=1)
    Wg = W.clone().requires_grad_(True)
    _dense_loss(Wg, V).sum().backward()
    assert torch.allclose(engine.population_grad(W, V), Wg.grad, rtol=1e-11, atol=1e-13)


def test_population_loss_is_quarter_mean_square_error_monte_carlo():
    W, V = _rand(B=1, d=5, m=3, ms=2, seed=2)
    A = (W @ W.transpose(-1, -2) - V @ V.transpose(-1, -2))[0].numpy()
    x = np.random.default_rng(0).standard_normal((400_000, 5))
    sq = np.einsum("ni,ij,nj->n", x, A, x) ** 2 / 4
    mc, se = sq.mean(), sq.std() / np.sqrt(sq.size)
    assert abs(mc - float(engine.population_loss(W, V)[0])) < 5 * se


def _reference_gd(W0, V, eta, n):
    """Plain loop, one problem at a time, autograd gradient of the dense loss."""
    out = []
    for b in range(W0.shape[0]):
        W = W0[b : b + 1].clone()
        phi, rec = 0.0, []
        for _ in range(n + 1):
            Wg = W.clone().requires_grad_(True)
            L = _dense_loss(Wg, V[b : b + 1]).sum()
            L.backward()
            M, T = W[0] @ W[0].T, V[b] @ V[b].T
            chi = float(torch.trace(M @ T) / (torch.linalg.norm(M) * torch.linalg.norm(T)))
            trA = float(torch.trace(M - T))
            rec.append((float(L.detach()), phi, chi))
            phi += eta * trA
            W = W - eta * Wg.grad
        out.append(rec)
    return np.array(out)  # (B, n+1, 3)


def test_gd_matches_reference_loop():
    W, V = _rand(B=2, d=6, m=3, ms=2, seed=3)
    ref = _reference_gd(W, V, 0.1, 30)
    tr = engine.run_population_gd(W, V, 0.1, 30, np.arange(31))
    assert np.allclose(tr.loss, ref[:, :, 0], rtol=1e-10, atol=1e-14)
    assert np.allclose(tr.phi, ref[:, :, 1], rtol=1e-10, atol=1e-14)
    assert np.allclose(tr.overlap, ref[:, :, 2], rtol=1e-10)
    dense = engine.run_population_gd(W, V, 0.1, 30, np.arange(31), dense_loss=True)
    assert np.allclose(dense.loss, tr.loss, rtol=1e-10)


def test_batch_invariance_and_determinism():
    p = problems.make_problem("orthonormal", 12, 6, 3, [0, 1, 2])
    q = problems.make_problem("orthonormal", 12, 6, 3, [2])
    assert torch.equal(p.W0[2], q.W0[0]) and torch.equal(p.V[2], q.V[0])
    a = engine.run_population_gd(p.W0, p.V, 0.05, 50)
    b = engine.run_population_gd(q.W0, q.V, 0.05, 50)
    assert np.allclose(a.phi[2], b.phi[0], rtol=1e-12, atol=1e-14)


def test_problem_generators():
    p = problems.make_problem("orthonormal", 30, 10, 6, [0, 1])
    VtV = p.V.transpose(-1, -2) @ p.V
    assert torch.allclose(VtV, torch.eye(6, dtype=torch.float64)[None] / 6, atol=1e-13)
    assert torch.allclose((p.W0**2).sum((-2, -1)), torch.ones(2, dtype=torch.float64))
    s = problems.make_problem("gaussian", 30, 10, 6, [0, 1], shared_teacher=True)
    assert torch.equal(s.V[0], s.V[1]) and not torch.equal(s.W0[0], s.W0[1])
    with pytest.raises(ValueError, match="setup"):
        problems.make_problem("uniform", 30, 10, 6, [0])
    with pytest.raises(ValueError, match="m = 40"):
        problems.make_problem("orthonormal", 30, 40, 6, [0])


def test_empirical_gradient_and_expectation():
    W, V = _rand(B=2, d=5, m=3, ms=2, seed=4)
    X = empirical.draw_samples(0, [0, 1], 5, 3, 2, 50)
    Wg = W.clone().requires_grad_(True)
    empirical.empirical_loss(Wg, V, X).sum().backward()
    assert torch.allclose(empirical.empirical_grad(W, V, X), Wg.grad, rtol=1e-11, atol=1e-13)
    Xbig = empirical.draw_samples(1, [0], 5, 3, 2, 200_000)
    assert (
        abs(float(empirical.empirical_loss(W[:1], V[:1], Xbig)) / float(engine.population_loss(W[:1], V[:1])) - 1)
        < 0.03
    )


def test_masked_full_mask_equals_gd_and_subnetwork_gradient():
    W, V = _rand(B=2, d=6, m=4, ms=2, seed=5)
    full = masked.run_masked(W, V, eta=0.05, rounds=7, p=3, tau=1, xi=1.0, seeds=[0, 1])
    gd = engine.run_population_gd(W, V, 0.05, 7, np.arange(8))
    assert np.allclose(full["loss"], gd.loss, rtol=1e-10)
    # one round, tau = 2, against a loop with autograd on each subnetwork
    xi, p, tau, eta = 0.5, 3, 2, 0.05
    res = masked.run_masked(W, V, eta=eta, rounds=1, p=p, tau=tau, xi=xi, seeds=[0, 1], base_seed=7)
    msk = masked.round_masks(7, [0, 1], 6, 4, 2, 0, p, xi).to(torch.float64)
    for b in range(2):
        deltas = torch.zeros_like(W[b])
        for sub in range(p):
            D = torch.diag(msk[b, sub])
            Wl = W[b].clone()
            for _ in range(tau):
                Wg = Wl.clone().requires_grad_(True)
                A = Wg @ D @ Wg.T / xi - V[b] @ V[b].T
                (0.5 * (A * A).sum() + 0.25 * torch.trace(A) ** 2).backward()
                Wl = Wl - eta * Wg.grad
            deltas += Wl - W[b]
        cnt = msk[b].sum(0)
        Wn = W[b] + deltas * torch.where(cnt > 0, 1 / cnt.clamp(min=1), torch.zeros_like(cnt))
        ref = float(_dense_loss(Wn[None], V[b : b + 1])[0])
        assert abs(res["loss"][b, -1] - ref) < 1e-12 * max(1.0, ref)


def test_config_validation_names_the_key():
    import yaml

    cfg = yaml.safe_load(open("config/quadratic.yaml"))["quadratic"]
    validate(cfg)
    bad = {**cfg, "flow": {**cfg["flow"], "setups": ["orthonormal", "uniform"]}}
    with pytest.raises(ValueError, match=r"quadratic\.flow\.setups\[1\]"):
        validate(bad)
    with pytest.raises(ValueError, match=r"quadratic: unknown key\(s\) \['colour'\]"):
        validate({**cfg, "colour": 1})
    with pytest.raises(ValueError, match=r"quadratic\.regimes\.over"):
        validate({**cfg, "regimes": {**cfg["regimes"], "over": [0.5]}})


@pytest.mark.parametrize(
    "section,key,value,message",
    [
        ("flow", "eta", "1e-3", r"quadratic\.flow\.eta = '1e-3': must be of type number"),
        ("flow", "dims", [40, 20], r"quadratic\.flow\.dims = \[40, 20\]: must be strictly increasing"),
        ("masked", "xi", 1.5, r"quadratic\.masked\.xi = 1\.5: must be in \(0, 1\]"),
        ("claims", "late_slope_window", [10.0, 6.0], r"quadratic\.claims\.late_slope_window = .*low < high"),
        ("phase", "alphas", [], r"quadratic\.phase\.alphas = \[\]: must list at least 1"),
    ],
)
def test_schema_errors_name_the_key_and_the_allowed_values(section, key, value, message):
    import yaml

    cfg = yaml.safe_load(open("config/quadratic.yaml"))["quadratic"]
    with pytest.raises(ValueError, match=message):
        validate({**cfg, section: {**cfg[section], key: value}})


def test_schema_missing_keys_and_integers():
    import yaml

    cfg = yaml.safe_load(open("config/quadratic.yaml"))["quadratic"]
    limit = {k: v for k, v in cfg["limit"].items() if k != "gaussian_nodes"}
    with pytest.raises(ValueError, match=r"quadratic\.limit\.gaussian_nodes: missing key; required keys are"):
        validate({**cfg, "limit": limit})
    assert validate({"limit": limit}, partial=True) == {"limit": limit}  # a job's own part
    out = validate({**cfg, "seeds": 5.0})
    assert out["seeds"] == 5 and isinstance(out["seeds"], int)
    with pytest.raises(ValueError, match=r"quadratic\.seeds = True: must be of type integer"):
        validate({**cfg, "seeds": True})
