"""The compiled CPU passes of the masked engine (engine.FUSED, maskedntk.studies.masked.fused)
against the same engine with tensor operations (the GPU's path, run here on the CPU).

The two compute the same products; only the sums over neurons run in another order
(float reassociation): float64 agrees to rtol = 1e-12, float32 to rtol = 1e-5 (losses,
traces; weights also to that fraction of max |W| in absolute terms); the rounds run,
divergence and dead-neuron fractions agree exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from maskedntk.studies.masked import engine
from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import train
from maskedntk.studies.masked.spec import TrainSpec

RTOL = {"float64": 1e-12, "float32": 1e-5}
CELLS = {
    "bernoulli_gather_trace": dict(mask="bernoulli", p=3, tau=3, xi=0.5, trace=True),
    "bernoulli_masked": dict(mask="bernoulli", p=4, tau=2, xi=0.9, selection="masked"),
    "categorical": dict(mask="categorical", p=3, tau=2),
    "full_gd_duplicates": dict(mask="bernoulli", p=2, tau=2, xi=1.0),
    "autograd_relu_zero_unheld": dict(
        mask="bernoulli", p=3, tau=2, xi=0.4, relu_grad_at_zero=0.0, aggregation="zero_unheld"
    ),
    "half_relu_grad_zero_unheld": dict(
        mask="bernoulli", p=3, tau=2, xi=0.3, relu_grad_at_zero=0.5, aggregation="zero_unheld"
    ),
}


@pytest.fixture(scope="module", params=[1, 3], ids=["d_out1", "d_out3"])
def data(request):
    return make_synthetic("teacher", 12, 8, seed=0, n_outputs=request.param)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_fused_matches_tensor_operations(data, monkeypatch, cell, dtype):
    spec = TrainSpec(m=24, eta=0.2, rounds=8, dtype=dtype, **CELLS[cell])
    seeds = [0, 1]
    runs = {}
    for fused in (True, False):
        monkeypatch.setitem(engine.FUSED, "cpu", fused)
        runs[fused] = train(data.X, data.y, spec, seeds, return_weights=True)
    got, want = runs[True], runs[False]
    assert np.all(np.isfinite(want.losses)) and want.losses[0, -1] < 0.9 * want.losses[0, 0]  # it trained
    tol = dict(rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-3)
    np.testing.assert_allclose(got.losses, want.losses, **tol, err_msg="losses")
    # a weight near 0 carries the rounding of its neighbours: absolute tolerance on the scale of W
    w_tol = RTOL[dtype] * np.abs(want.weights).max()
    np.testing.assert_allclose(got.weights, want.weights, rtol=RTOL[dtype], atol=w_tol, err_msg="weights")
    if spec.trace:
        np.testing.assert_allclose(got.trace, want.trace, **tol, err_msg="trace")
    np.testing.assert_array_equal(got.dead, want.dead)
    np.testing.assert_array_equal(got.rounds_run, want.rounds_run)
    np.testing.assert_array_equal(got.diverged_round, want.diverged_round)
    assert got.flops == want.flops


def test_fused_flags_divergence_like_tensor_operations(monkeypatch):
    ds = make_synthetic("teacher", 12, 8, seed=0)
    spec = TrainSpec(m=10, p=3, tau=2, xi=0.5, eta=1e3, rounds=8, trace=True)
    runs = {}
    for fused in (True, False):
        monkeypatch.setitem(engine.FUSED, "cpu", fused)
        runs[fused] = train(ds.X, ds.y, spec, [0, 1])
    assert np.all(runs[False].diverged_round >= 0)
    np.testing.assert_array_equal(runs[True].diverged_round, runs[False].diverged_round)
    np.testing.assert_array_equal(np.isnan(runs[True].losses), np.isnan(runs[False].losses))
