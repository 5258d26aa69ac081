"""The fast engine against a slow, literal reference implementation of Algorithm 1.

Tolerances: float64 engine vs reference (losses L_k, final weights W_K, local-step traces)
agree to rtol = atol = 1e-10; float32 vs float64 to rtol = 1e-3; mask frequencies within
4 standard errors.  Problems are tiny (n = 6, d = 4, m <= 12) so the file runs in seconds.
The engine is checked in its three layouts (LAYOUTS): the CPU's compiled passes on ragged
batches, and the tensor operations (a GPU's path) on padded batches, gathered or masked.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from reference_impl import reference_train

from maskedntk.studies.masked import engine
from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import init_params, train
from maskedntk.studies.masked.masks import bernoulli_masks, categorical_masks, holder_counts, sample_masks
from maskedntk.studies.masked.presets import PRESETS, apply_preset
from maskedntk.studies.masked.rng import generator
from maskedntk.studies.masked.spec import TrainSpec

RTOL = 1e-10
ATOL = 1e-10
SEEDS = [0, 1]
N, D = 6, 4  # n < 2d, so path='auto' would pick 'gram'; both paths are forced below


@pytest.fixture(scope="module")
def data():
    return make_synthetic("teacher", N, D, seed=0)


@pytest.fixture(scope="module")
def data3():
    """Three label columns (for output_scale='sqrt_dout' and the authors' preset)."""
    return make_synthetic("teacher", N, D, seed=0, n_outputs=3)


def _close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


def _masks_of(spec, seed):
    return [sample_masks(spec.mask, seed, k, spec.p, spec.m, spec.xi) for k in range(spec.rounds)]


def _compare_with_reference(X, y, spec, seeds, *, check_trace=False):
    res = train(X, y, spec, seeds, return_weights=True)
    K = spec.rounds
    assert res.losses.shape == (len(seeds), K + 1)
    assert res.weights.shape == (len(seeds), spec.m, X.shape[1])
    assert np.all(res.diverged_round == -1)
    for i, seed in enumerate(seeds):
        ref = reference_train(X, y, spec, seed)
        assert np.all(np.isfinite(ref.losses))
        # the comparison is only meaningful if training actually moved the loss
        assert abs(ref.losses[-1] - ref.losses[0]) > 1e-3 * ref.losses[0]
        _close(res.losses[i], ref.losses, f"L_k, seed {seed}")
        _close(res.weights[i], ref.weights, f"W_K, seed {seed}")
        W0, a = init_params(spec, seed, X.shape[1], np.asarray(y).reshape(len(y), -1).shape[1])
        np.testing.assert_array_equal(res.second_layer[i], a)
        if check_trace:
            assert res.trace.shape == (len(seeds), K, spec.tau + 1)
            _close(res.trace[i], ref.trace, f"trace, seed {seed}")
    return res


# ---------------------------------------------------------------------------------------------
# engine vs reference, the paper's conventions
# ---------------------------------------------------------------------------------------------

BASE = dict(m=10, eta=0.3, rounds=6)
CASES = {
    "bernoulli_p3_tau3_xi0.5": dict(mask="bernoulli", p=3, tau=3, xi=0.5),
    "categorical_p3_tau2": dict(mask="categorical", xi=None, p=3, tau=2),
    "dropout_p1_tau1_xi0.6": dict(mask="bernoulli", p=1, tau=1, xi=0.6),
    "multi_sample_dropout_p4_tau1": dict(mask="bernoulli", p=4, tau=1, xi=0.5),
    "xi1_p2_tau2": dict(mask="bernoulli", p=2, tau=2, xi=1.0),
    "small_xi0.2_p2_m8_unheld": dict(mask="bernoulli", p=2, tau=2, xi=0.2, m=8),
}


#: the CPU engine's compiled passes on ragged batches, and its tensor operations (a GPU's) on
#: padded ones, gathered or masked
LAYOUTS = {"ragged": (True, "auto"), "gather": (False, "gather"), "masked": (False, "masked")}


def _layout(monkeypatch, layout: str) -> str:
    """Set engine.FUSED for ``layout``; returns the spec's selection."""
    fused, selection = LAYOUTS[layout]
    monkeypatch.setitem(engine.FUSED, "cpu", fused)
    return selection


@pytest.mark.parametrize("selection", list(LAYOUTS))
@pytest.mark.parametrize("path", ["gram", "direct"])
@pytest.mark.parametrize("case", list(CASES))
def test_engine_matches_reference(data, monkeypatch, case, path, selection):
    spec = TrainSpec(**{**BASE, **CASES[case]}, path=path, selection=_layout(monkeypatch, selection))
    counts = [holder_counts(M) for s in SEEDS for M in _masks_of(spec, s)]
    if case.startswith("small_xi"):
        # the case exists to exercise unheld neurons: some round must have one
        assert any(np.any(c == 0) for c in counts)
        # and some neuron held by both subnetworks (the 1/X aggregation with X = 2)
        assert any(np.any(c == 2) for c in counts)
    if spec.mask == "categorical":
        assert all(np.all(c == 1) for c in counts)
    if spec.xi == 1.0:
        assert all(np.all(c == spec.p) for c in counts)
    res = _compare_with_reference(data.X, data.y, spec, SEEDS)
    assert res.path == path
    assert res.selection == selection


@pytest.mark.parametrize("selection", list(LAYOUTS))
@pytest.mark.parametrize(
    "case,extra",
    [
        ("bernoulli_p3_tau3_xi0.5", {}),
        ("categorical_p3_tau2", {}),
        ("small_xi0.2_p2_m8_unheld", {"path": "direct"}),
        ("bernoulli_p3_tau3_xi0.5", {"surrogate": "inverse_xi", "loss": "mean", "eta": 0.5}),
    ],
    ids=["bernoulli_p3_tau3", "categorical_p3_tau2", "small_xi_direct", "inverse_xi_mean"],
)
def test_trace_matches_reference(data, monkeypatch, case, extra, selection):
    spec = TrainSpec(**{**BASE, **CASES[case], **extra}, selection=_layout(monkeypatch, selection), trace=True)
    _compare_with_reference(data.X, data.y, spec, SEEDS, check_trace=True)


# ---------------------------------------------------------------------------------------------
# special case: xi = 1, p = 1 is plain gradient descent
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("selection", list(LAYOUTS))
def test_full_gd_is_plain_gradient_descent(monkeypatch, data, selection):
    selection = _layout(monkeypatch, selection)
    tau, K, eta, m = 3, 4, 0.3, 10
    spec = TrainSpec(m=m, mask="bernoulli", xi=1.0, p=1, tau=tau, eta=eta, rounds=K, trace=True, selection=selection)
    assert spec == apply_preset("full_gd", m=m, tau=tau, eta=eta, rounds=K, trace=True, selection=selection)
    X, y = data.X, data.y
    seed = 3
    W, a = init_params(spec, seed, X.shape[1], 1)
    s = 1.0 / math.sqrt(m)

    def loss_and_grad(W):
        Z = X @ W.T  # (n, m)
        E = s * np.maximum(Z, 0.0) @ a - y  # f - y, (n, 1)
        # dL/dw_r = s a_r sum_i (f_i - y_i) 1{z_ir >= 0} x_i  for L = 1/2 ||y - f||^2
        grad = s * ((Z >= 0) * E * a[:, 0][None, :]).T @ X
        return float((E**2).sum()), grad

    step_losses = []  # ||y - f||^2 before every GD step, and after the last
    for _ in range(tau * K):
        L, g = loss_and_grad(W)
        step_losses.append(L)
        W = W - eta * g
    step_losses.append(loss_and_grad(W)[0])
    step_losses = np.array(step_losses)

    res = train(X, y, spec, [seed], return_weights=True)
    _close(res.losses[0], step_losses[::tau], "L_k vs GD")
    _close(res.weights[0], W, "W_K vs GD")
    for k in range(K):
        _close(res.trace[0, k], step_losses[k * tau : (k + 1) * tau + 1], f"trace of round {k} vs GD")
    assert step_losses[-1] < 0.5 * step_losses[0]


# ---------------------------------------------------------------------------------------------
# aggregation on a hand-computed example
# ---------------------------------------------------------------------------------------------


def _find_seed_with_counts_0_1_2(spec, X):
    for seed in range(1000):
        M = sample_masks("bernoulli", seed, 0, spec.p, spec.m, spec.xi)
        if sorted(holder_counts(M).tolist()) != [0, 1, 2]:
            continue
        W0, _ = init_params(spec, seed, X.shape[1], 1)
        if np.all((X @ W0.T >= 0).any(axis=0)):  # every neuron active on some x_i, so it moves
            return seed, M
    raise AssertionError("no seed with holder counts {0, 1, 2} in round 0")


@pytest.mark.parametrize("aggregation", ["paper", "zero_unheld"])
@pytest.mark.parametrize("selection", list(LAYOUTS))
@pytest.mark.parametrize("path", ["gram", "direct"])
def test_aggregation_hand_computed(monkeypatch, path, selection, aggregation):
    selection = _layout(monkeypatch, selection)
    X = np.array([[1.0, 0.0], [0.6, 0.8]])  # n = 2 unit rows, d = 2
    y = np.array([[0.5], [-0.3]])
    m, p, eta, xi = 3, 2, 0.4, 0.5
    spec = TrainSpec(m=m, p=p, tau=1, xi=xi, eta=eta, rounds=1, aggregation=aggregation, path=path, selection=selection)
    seed, M = _find_seed_with_counts_0_1_2(spec, X)
    W0, a = init_params(spec, seed, 2, 1)
    a = a[:, 0]
    s = 1.0 / math.sqrt(m)

    # one GD step of each subnetwork, written out scalar by scalar
    deltas = np.zeros((p, m, 2))
    for sub in range(p):
        f = [s * sum(a[r] * M[sub, r] * max(W0[r] @ X[i], 0.0) for r in range(m)) for i in range(2)]
        for r in range(m):
            g = np.zeros(2)
            for i in range(2):
                ind = 1.0 if W0[r] @ X[i] >= 0 else 0.0
                g += s * a[r] * M[sub, r] * (f[i] - y[i, 0]) * ind * X[i]
            deltas[sub, r] = -eta * g
    W1 = W0.copy()
    count = M.sum(axis=0)
    for r in range(m):
        if count[r] == 2:
            W1[r] = W0[r] + (deltas[0, r] + deltas[1, r]) / 2.0
        elif count[r] == 1:
            W1[r] = W0[r] + deltas[0, r] + deltas[1, r]
        elif aggregation == "zero_unheld":
            W1[r] = 0.0
    # the example is non-degenerate: held neurons moved, the two copies of the shared one differ
    r2, r1, r0 = (int(np.flatnonzero(count == c)[0]) for c in (2, 1, 0))
    assert np.all(np.abs(deltas[:, r2]).sum(axis=1) > 1e-3)
    assert not np.allclose(deltas[0, r2], deltas[1, r2])
    assert np.abs(W1[r1] - W0[r1]).sum() > 1e-3

    res = train(X, y, spec, [seed], return_weights=True)
    _close(res.weights[0], W1, "W_1 vs hand computation")
    if aggregation == "paper":
        np.testing.assert_array_equal(res.weights[0, r0], W0[r0])  # unheld: kept exactly
    else:
        np.testing.assert_array_equal(res.weights[0, r0], np.zeros(2))  # unheld: zeroed exactly
    L1 = float(((y[:, 0] - xi * s * np.maximum(X @ W1.T, 0.0) @ a) ** 2).sum())
    L0 = float(((y[:, 0] - xi * s * np.maximum(X @ W0.T, 0.0) @ a) ** 2).sum())
    _close(res.losses[0], [L0, L1], "L_0, L_1 vs hand computation")


# ---------------------------------------------------------------------------------------------
# masks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("xi", [0.1, 0.5, 0.9])
def test_bernoulli_mask_frequency(xi):
    p, m, rounds = 4, 250, 100
    masks = np.stack([sample_masks("bernoulli", seed, k, p, m, xi) for seed in range(2) for k in range(rounds)])
    N = masks.size
    se = math.sqrt(xi * (1 - xi) / N)
    assert abs(masks.mean() - xi) < 4 * se
    # each subnetwork separately
    for sub in range(p):
        row = masks[:, sub, :]
        assert abs(row.mean() - xi) < 4 * math.sqrt(xi * (1 - xi) / row.size)
    # subnetworks are drawn independently: P(row 0 and row 1 agree at a neuron) = xi^2 + (1-xi)^2
    agree = masks[:, 0, :] == masks[:, 1, :]
    q = xi**2 + (1 - xi) ** 2
    assert abs(agree.mean() - q) < 4 * math.sqrt(q * (1 - q) / agree.size)


def test_bernoulli_xi_one_selects_everything():
    M = sample_masks("bernoulli", 5, 7, 3, 50, 1.0)
    assert M.dtype == bool and M.shape == (3, 50) and M.all()


@pytest.mark.parametrize("p", [1, 3, 5])
def test_categorical_masks_partition_uniform_owner(p):
    m, rounds = 200, 100
    masks = np.stack([sample_masks("categorical", 11, k, p, m, None) for k in range(rounds)])
    assert masks.shape == (rounds, p, m) and masks.dtype == bool
    np.testing.assert_array_equal(masks.sum(axis=1), np.ones((rounds, m), dtype=int))
    owners = masks.argmax(axis=1).ravel()
    N = owners.size
    freq = np.bincount(owners, minlength=p) / N
    se = math.sqrt((1 / p) * (1 - 1 / p) / N) if p > 1 else 0.0
    assert np.all(np.abs(freq - 1 / p) <= 4 * se)
    if p > 1:
        from scipy.stats import chisquare

        assert chisquare(np.bincount(owners, minlength=p)).pvalue > 1e-4


def test_mask_helpers_agree_with_sample_masks():
    rng = generator(3, 2, 4)  # the mask stream of seed 3, round 4
    np.testing.assert_array_equal(bernoulli_masks(rng, 2, 30, 0.3), sample_masks("bernoulli", 3, 4, 2, 30, 0.3))
    rng = generator(3, 2, 4)
    np.testing.assert_array_equal(categorical_masks(rng, 4, 30), sample_masks("categorical", 3, 4, 4, 30, None))
    M = np.array([[1, 0, 1], [1, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(holder_counts(M), [2, 0, 1])


@pytest.mark.parametrize("kind,xi", [("bernoulli", 0.5), ("categorical", None)])
def test_masks_keyed_by_seed_and_round(kind, xi):
    p, m = 3, 64
    first = sample_masks(kind, 7, 4, p, m, xi)
    _ = [sample_masks(kind, 7, k, p, m, xi) for k in range(10)]  # other draws in between
    again = sample_masks(kind, 7, 4, p, m, xi)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, sample_masks(kind, 7, 5, p, m, xi))  # other round
    assert not np.array_equal(first, sample_masks(kind, 8, 4, p, m, xi))  # other seed
    assert not np.array_equal(sample_masks(kind, 0, 1, p, m, xi), sample_masks(kind, 1, 0, p, m, xi))


# ---------------------------------------------------------------------------------------------
# determinism and batch invariance
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("selection", list(LAYOUTS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_determinism_and_seed_batch_invariance(monkeypatch, data, dtype, selection):
    selection = _layout(monkeypatch, selection)
    spec = TrainSpec(m=10, p=3, tau=2, xi=0.5, eta=0.3, rounds=6, trace=True, dtype=dtype, selection=selection)
    seeds = [0, 1, 2, 3]
    together = train(data.X, data.y, spec, seeds, return_weights=True)
    twice = train(data.X, data.y, spec, seeds, return_weights=True)
    assert np.all(np.isfinite(together.losses)) and np.all(np.isfinite(together.trace))
    np.testing.assert_array_equal(together.losses, twice.losses)
    np.testing.assert_array_equal(together.trace, twice.trace)
    np.testing.assert_array_equal(together.weights, twice.weights)
    # seeds are batched: alone, a seed gets its numbers to rounding (tests/masked/test_masked_batching.py)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    for i, seed in enumerate(seeds):
        alone = train(data.X, data.y, spec, [seed], return_weights=True)
        np.testing.assert_allclose(alone.losses[0], together.losses[i], rtol=rtol, err_msg=f"losses of seed {seed}")
        np.testing.assert_allclose(alone.trace[0], together.trace[i], rtol=rtol, err_msg=f"trace of seed {seed}")
        np.testing.assert_allclose(alone.weights[0], together.weights[i], rtol=rtol, atol=rtol * 1e-3)
    # different seeds really are different runs
    assert not np.array_equal(together.losses[0], together.losses[1])


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value,allowed",
    [
        ("xi", 0, "(0, 1]"),
        ("xi", 1.5, "(0, 1]"),
        ("p", 0, "[1, inf)"),
        ("tau", 0, "[1, inf)"),
        ("eta", 0, "(0, inf)"),
        ("eta", -1, "(0, inf)"),
        ("m", 0, "[1, inf)"),
        ("rounds", 0, "[1, inf)"),
        ("mask", "foo", "'bernoulli', 'categorical'"),
    ],
)
def test_bad_spec_values_raise(field, value, allowed):
    with pytest.raises(ValueError) as err:
        TrainSpec(**{field: value})
    msg = str(err.value)
    assert re.match(rf"^{field} = ", msg), msg  # names the parameter first
    assert allowed in msg, msg


@pytest.mark.parametrize("y_shape", [(5,), (5, 1), (7, 2)])
def test_train_rejects_mismatched_shapes(data, y_shape):
    spec = TrainSpec(m=4, rounds=1)
    y = np.zeros(y_shape)
    with pytest.raises(ValueError) as err:
        train(data.X, y, spec, [0])
    msg = str(err.value)
    assert str(data.X.shape) in msg, msg
    assert f"({y_shape[0]}," in msg, msg


# ---------------------------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------------------------


def test_huge_step_diverges_and_is_returned(data):
    spec = TrainSpec(m=10, p=3, tau=2, xi=0.5, eta=1e3, rounds=8, trace=True)
    res = train(data.X, data.y, spec, [0, 1, 2, 3], return_weights=True)
    assert res.diverged.all()
    for i, seed in enumerate(res.seeds):
        k = int(res.diverged_round[i])
        assert 1 <= k <= spec.rounds  # L_0 is the initial loss and never flagged
        assert np.all(np.isfinite(res.losses[i, :k]))
        assert np.all(np.isnan(res.losses[i, k:]))
        assert np.all(np.isnan(res.trace[i, k - 1 :]))
        ref = reference_train(data.X, data.y, spec, seed, check_gradient=False)
        _close(res.losses[i, :k], ref.losses[:k], f"losses before divergence, seed {seed}")
        limit = spec.divergence_factor * max(ref.losses[0], 1.0)
        assert not (ref.losses[k] <= limit)  # the flagged round really crosses the limit (or is NaN)


def test_divergence_flags_only_the_seeds_that_diverge(data):
    # eta = 8 is past the stable range for some initialisations and masks but not for others
    spec = TrainSpec(m=10, p=3, tau=2, xi=0.5, eta=8.0, rounds=10, trace=True)
    seeds = list(range(8))
    res = train(data.X, data.y, spec, seeds, return_weights=True)
    assert res.diverged.any() and not res.diverged.all()  # precondition: a mixed call
    for i, seed in enumerate(seeds):
        ref = reference_train(data.X, data.y, spec, seed)
        limit = spec.divergence_factor * max(ref.losses[0], 1.0)
        k = int(res.diverged_round[i])
        if k < 0:
            assert np.all(ref.losses <= limit)
            _close(res.losses[i], ref.losses, f"non-diverged seed {seed}")
            _close(res.trace[i], ref.trace, f"trace of non-diverged seed {seed}")
            alone = train(data.X, data.y, spec, [seed])
            np.testing.assert_array_equal(alone.losses[0], res.losses[i])
        else:
            # flagged at the first round that crosses the limit
            assert np.all(ref.losses[:k] <= limit) and not (ref.losses[k] <= limit)
            _close(res.losses[i, :k], ref.losses[:k], f"diverged seed {seed} before round {k}")
            assert np.all(np.isnan(res.losses[i, k:]))


# ---------------------------------------------------------------------------------------------
# the authors'-code conventions (docs/masked/mathematics.md sec. 6), one at a time and all together
# ---------------------------------------------------------------------------------------------

CONV_BASE = dict(m=10, p=3, tau=2, xi=0.5, eta=0.3, rounds=6, trace=True)
CONVENTIONS = {
    "surrogate_inverse_xi": dict(surrogate="inverse_xi", eta=0.1),
    "aggregation_zero_unheld": dict(aggregation="zero_unheld"),
    "loss_mean": dict(loss="mean", eta=1.0),
    "init_fan_in_m": dict(init="fan_in_m"),
    "output_scale_sqrt_dout": dict(output_scale="sqrt_dout", eta=0.05),
    "relu_grad_at_zero_0": dict(relu_grad_at_zero=0.0),
    "zero_unheld_with_relu_grad_0": dict(aggregation="zero_unheld", relu_grad_at_zero=0.0),
}


@pytest.mark.parametrize("selection", list(LAYOUTS))
@pytest.mark.parametrize("convention", list(CONVENTIONS))
def test_convention_matches_reference(monkeypatch, data, data3, convention, selection):
    selection = _layout(monkeypatch, selection)
    spec = TrainSpec(**{**CONV_BASE, **CONVENTIONS[convention]}, selection=selection)
    ds = data3 if spec.output_scale == "sqrt_dout" else data
    if spec.aggregation == "zero_unheld":
        assert any(np.any(holder_counts(M) == 0) for s in SEEDS for M in _masks_of(spec, s))
    _compare_with_reference(ds.X, ds.y, spec, SEEDS, check_trace=True)


@pytest.mark.parametrize("selection", list(LAYOUTS))
def test_authors_code_preset_matches_reference(monkeypatch, data3, selection):
    selection = _layout(monkeypatch, selection)
    spec = apply_preset("authors_code", m=10, p=3, tau=2, xi=0.5, eta=0.5, rounds=6, trace=True, selection=selection)
    for key, value in PRESETS["authors_code"][0].items():
        assert getattr(spec, key) == value
    assert any(np.any(holder_counts(M) == 0) for s in SEEDS for M in _masks_of(spec, s))
    _compare_with_reference(data3.X, data3.y, spec, SEEDS, check_trace=True)


def test_relu_grad_at_zero_matters_after_zeroing(data):
    """With zeroed neurons (z = 0 exactly), sigma'(0) = 1 revives them and 0 keeps them dead:
    the two conventions must give different runs, so the tests above can tell them apart."""
    spec = TrainSpec(**CONV_BASE, aggregation="zero_unheld")
    r1 = train(data.X, data.y, spec, SEEDS)
    r0 = train(data.X, data.y, spec.replace(relu_grad_at_zero=0.0), SEEDS)
    assert np.abs(r1.losses[:, -1] - r0.losses[:, -1]).max() > 1e-3
    ref1 = reference_train(data.X, data.y, spec, 0, relu_grad_at_zero=1.0)
    ref0 = reference_train(data.X, data.y, spec, 0, relu_grad_at_zero=0.0)
    _close(r1.losses[0], ref1.losses, "sigma'(0) = 1")
    _close(r0.losses[0], ref0.losses, "sigma'(0) = 0")


def test_relu_grad_at_zero_intermediate_value(data):
    """TrainSpec accepts relu_grad_at_zero anywhere in [0, 1] and documents it as the value of
    sigma'(0); a value of 0.5 must then be used as such (here it matters: zeroed neurons)."""
    spec = TrainSpec(**CONV_BASE, aggregation="zero_unheld", relu_grad_at_zero=0.5)
    _compare_with_reference(data.X, data.y, spec, SEEDS, check_trace=True)


# ---------------------------------------------------------------------------------------------
# docs/masked/mathematics.md sec. 6: authors' convention (y, eta) == paper's convention (xi y, eta / xi^2)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        dict(mask="bernoulli", p=3, tau=3, xi=0.5),
        dict(mask="bernoulli", p=2, tau=2, xi=0.3),
        dict(mask="categorical", p=4, tau=2, xi=None),
    ],
    ids=["bernoulli_xi0.5", "bernoulli_xi0.3", "categorical_p4"],
)
def test_inverse_xi_equals_rescaled_paper_convention(data, kw):
    eta = 0.05
    authors = TrainSpec(m=12, eta=eta, rounds=8, trace=True, surrogate="inverse_xi", aggregation="paper", **kw)
    xi = authors.xi_eff
    paper = authors.replace(surrogate="paper", eta=eta / xi**2)
    seeds = [0, 1, 2]
    ra = train(data.X, data.y, authors, seeds, return_weights=True)
    rp = train(data.X, xi * data.y, paper, seeds, return_weights=True)
    assert np.all(np.isfinite(ra.losses)) and not ra.diverged.any()
    assert np.all(ra.losses[:, -1] < ra.losses[:, 0])
    np.testing.assert_allclose(rp.losses, xi**2 * ra.losses, rtol=1e-10, atol=0)
    np.testing.assert_allclose(rp.trace, xi**2 * ra.trace, rtol=1e-10, atol=0)
    np.testing.assert_allclose(rp.weights, ra.weights, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("selection", list(LAYOUTS))
def test_float32_agrees_with_float64(monkeypatch, data, selection):
    selection = _layout(monkeypatch, selection)
    spec = TrainSpec(m=20, p=3, tau=2, xi=0.5, eta=0.3, rounds=20, selection=selection)
    r64 = train(data.X, data.y, spec, [0, 1, 2], return_weights=True)
    r32 = train(data.X, data.y, spec.replace(dtype="float32"), [0, 1, 2], return_weights=True)
    assert r32.losses.dtype == np.float64 and np.all(np.isfinite(r32.losses))
    np.testing.assert_allclose(r32.losses, r64.losses, rtol=1e-3)
    np.testing.assert_allclose(r32.weights, r64.weights, rtol=0, atol=1e-4)
    assert not np.array_equal(r32.losses, r64.losses)  # it really ran in single precision


def test_extension_past_rounds_is_deterministic_and_stops_when_stationary():
    """max_rounds: the first `rounds` rounds are bit-identical to a run without it; a seed
    that is not stationary after K rounds trains on (K at a time) and each seed stops at the
    first multiple of K where its L_k passes the stationarity test (or at max_rounds)."""
    from maskedntk.studies.masked.stationarity import stationarity_test

    ds = make_synthetic("teacher", 20, 8, seed=0)
    base = dict(m=60, mask="bernoulli", xi=0.5, p=2, tau=1, eta=0.2, rounds=20, dtype="float64")
    short = train(ds.X, ds.y, TrainSpec(**base), [0, 1])
    long = train(ds.X, ds.y, TrainSpec(**base, max_rounds=200), [0, 1])
    for i in range(2):
        K = int(long.rounds_run[i])
        assert K % 20 == 0 and 20 <= K <= 200
        np.testing.assert_array_equal(long.losses[i, :21], short.losses[i])
        L = long.losses[i, : K + 1]
        assert np.all(np.isfinite(L)) and np.all(np.isnan(long.losses[i, K + 1 :]))
        # stopped at the first K' in 20, 40, ... whose L_0..L_K' is stationary (or at the cap)
        passed = [stationarity_test(L[: k + 1]).stationary for k in range(20, K + 1, 20)]
        assert not any(passed[:-1])
        assert passed[-1] or K == 200
    assert short.rounds_run.tolist() == [20, 20]


@pytest.mark.parametrize(
    "cell, resolved",
    [
        (dict(mask="bernoulli", xi=1.0, p=3), "float64"),
        (dict(mask="categorical", p=1), "float64"),
        (dict(mask="bernoulli", xi=0.5, p=3), "float32"),
        (dict(mask="categorical", p=3), "float32"),
    ],
)
def test_auto_dtype_is_float64_exactly_where_the_loss_vanishes(data, cell, resolved):
    """dtype 'auto' runs float64 where xi_eff = 1 (L_k -> 0, so float32 rounding would set the
    floor) and float32 elsewhere, and gives the same numbers as naming that dtype."""
    spec = TrainSpec(m=40, tau=2, eta=0.3, rounds=8, dtype="auto", **cell)
    assert spec.resolved_dtype == resolved
    auto = train(data.X, data.y, spec, [0, 1])
    named = train(data.X, data.y, spec.replace(dtype=resolved), [0, 1])
    np.testing.assert_array_equal(auto.losses, named.losses)
    if resolved == "float32":
        exact = train(data.X, data.y, spec.replace(dtype="float64"), [0, 1])
        assert not np.array_equal(auto.losses, exact.losses)
        np.testing.assert_allclose(auto.losses, exact.losses, rtol=1e-4)
