"""Batched runs of the masked engine: seeds and cells computed together give each run the
numbers it gets alone, whatever shares its batches; and a run whose loss reaches the float
rounding floor stops, recorded as converged to zero.

Tolerances: float64, rtol = 1e-12 on losses, traces and weights (batching changes the
matrix sizes inside the BLAS kernels, so the summation order; on this machine's CPU the
numbers came out bitwise equal, which is not asserted); float32, rtol = 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest

from maskedntk.studies.masked import engine
from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import rounding_floor, train, train_many
from maskedntk.studies.masked.metrics import summarize_trajectory
from maskedntk.studies.masked.spec import TrainSpec

RTOL = {"float64": 1e-12, "float32": 1e-5}


@pytest.fixture(scope="module")
def data():
    return make_synthetic("teacher", 12, 8, seed=0)


def _same(a, b, dtype, what):
    np.testing.assert_allclose(a, b, rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-3, err_msg=what)


def _assert_runs_equal(batched, alone, i, j, dtype):
    _same(batched.losses[i], alone.losses[j], dtype, "losses")
    _same(batched.weights[i], alone.weights[j], dtype, "weights")
    _same(batched.dead[i], alone.dead[j], dtype, "dead")
    if alone.trace is not None:
        _same(batched.trace[i], alone.trace[j], dtype, "trace")
    assert batched.rounds_run[i] == alone.rounds_run[j]
    assert batched.diverged_round[i] == alone.diverged_round[j]


@pytest.mark.parametrize("cap", [None, 400])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", [dict(xi=0.3, p=4), dict(xi=0.9, p=3), dict(mask="categorical", p=3)])
def test_seed_does_not_depend_on_its_batch(data, monkeypatch, cap, dtype, cell):
    """Five seeds together (one batch: cap None, the GPU setting; or split by the element
    cap into batches of other compositions) against each seed alone."""
    monkeypatch.setitem(engine.BATCH_ELEMENTS, "cpu", cap)
    spec = TrainSpec(m=30, tau=3, eta=0.3, rounds=8, trace=True, dtype=dtype, **cell)
    seeds = [0, 1, 2, 3, 4]
    together = train(data.X, data.y, spec, seeds, return_weights=True)
    assert not np.array_equal(together.losses[0], together.losses[1])  # the seeds are different runs
    for i, seed in enumerate(seeds):
        alone = train(data.X, data.y, spec, [seed], return_weights=True)
        _assert_runs_equal(together, alone, i, 0, dtype)
    reordered = train(data.X, data.y, spec, seeds[::-1], return_weights=True)
    _assert_runs_equal(together, reordered, 0, len(seeds) - 1, dtype)


@pytest.mark.parametrize("mix", [True, False])
def test_cells_batched_match_cells_alone(data, monkeypatch, mix):
    """train_many: cells of one shape group (different mask kinds, p, xi, eta, conventions)
    share batches (mix: the GPU setting, here on the CPU) or run side by side (the CPU
    setting); a cell of another tau runs in its own group; each cell's seeds get the numbers
    they get in a call of their own."""
    monkeypatch.setitem(engine.MIX_CELLS, "cpu", mix)
    base = dict(m=24, tau=2, rounds=10, dtype="float64", trace=True)
    specs = [
        TrainSpec(xi=0.2, p=3, eta=0.4, **base),
        TrainSpec(xi=0.9, p=2, eta=0.2, **base),
        TrainSpec(mask="categorical", p=4, eta=0.3, **base),
        TrainSpec(xi=0.5, p=2, eta=0.3, surrogate="inverse_xi", loss="mean", aggregation="zero_unheld", **base),
        TrainSpec(xi=1.0, p=3, eta=0.3, **base),
        TrainSpec(xi=0.5, p=2, eta=0.3, **dict(base, tau=3)),
    ]
    seeds = [[0, 1], [2], [0, 3], [1, 4], [0], [5, 6]]
    many = train_many(data.X, data.y, list(zip(specs, seeds, strict=True)), return_weights=True)
    assert len(many) == len(specs)
    for spec, sd, res in zip(specs, seeds, many, strict=True):
        alone = train(data.X, data.y, spec, sd, return_weights=True)
        assert res.seeds == sd and res.path == alone.path and res.selection == alone.selection
        for i in range(len(sd)):
            _assert_runs_equal(res, alone, i, i, "float64")


def test_full_gd_stops_at_the_rounding_floor():
    """xi = 1 (plain GD) with a large step: L_k falls to the float64 floor long before
    max_rounds; the run stops at the first round at or below it and is recorded as converged
    to zero (stationary, plateau 0).  Its first rounds are those of a run without the stop."""
    ds = make_synthetic("teacher", 6, 16, seed=0)
    spec = TrainSpec(m=200, xi=1.0, p=1, tau=2, eta=1.0, rounds=100, max_rounds=400, dtype="float64")
    res = train(ds.X, ds.y, spec, [0, 1])
    floor = rounding_floor(ds.y, "float64")
    short = train(ds.X, ds.y, spec.replace(rounds=20, max_rounds=None), [0, 1])
    for i in range(2):
        k = int(res.zero_round[i])
        assert 1 <= k < 400 and res.rounds_run[i] == k
        L = res.losses[i, : k + 1]
        assert L[-1] <= floor < L[-2]
        assert np.all(L[:-1] > floor)
        assert np.all(np.isnan(res.losses[i, k + 1 :]))
        np.testing.assert_allclose(res.losses[i, :21], short.losses[i], rtol=1e-12, atol=floor)
        row = summarize_trajectory(L, rounds=spec.rounds, converged_to_zero=True)
        assert row["stationary"] and row["plateau"] == 0.0 and "converged to zero" in row["stationarity_reason"]
        assert 0.0 < row["rate_empirical"] < 1.0
        # contrary: the same trajectory not flagged reads as a decay, not a plateau
        plain = summarize_trajectory(L, rounds=spec.rounds)
        assert not plain["stationary"] and np.isnan(plain["plateau"])


def test_floor_is_not_reached_with_masks(data):
    """xi < 1: the loss stays on its plateau, far above the floor; no run converges to zero."""
    spec = TrainSpec(m=30, xi=0.5, p=3, tau=2, eta=0.3, rounds=40, dtype="float64")
    res = train(data.X, data.y, spec, [0, 1, 2])
    assert res.zero_round.tolist() == [-1, -1, -1] and res.rounds_run.tolist() == [40, 40, 40]
    assert np.nanmin(res.losses) > 1e6 * rounding_floor(data.y, "float64")


def test_rounding_floor_hand_computed():
    y = np.array([1.0, -2.0, 2.0])  # ||y||^2 = 9
    assert rounding_floor(y, "float64") == pytest.approx((engine.FLOOR_ULPS * 2.0**-52) ** 2 * 9.0, rel=1e-15)
    assert rounding_floor(y, "float32") == pytest.approx((engine.FLOOR_ULPS * 2.0**-23) ** 2 * 9.0, rel=1e-15)
