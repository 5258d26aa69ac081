"""The masked engine on a GPU (skipped without CUDA; CI has none, a lent GPU machine runs it):
the same cell on cuda and on cpu gives the same losses to float64 rounding, for both
selections, both mask kinds and the authors' conventions, and a seed's numbers do not depend
on the device's presence in the run (masks and initialisation are drawn on the host)."""

import numpy as np
import pytest
import torch

from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import train, train_many
from maskedntk.studies.masked.spec import TrainSpec

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.fixture(scope="module")
def data():
    return make_synthetic("teacher", 24, 16, seed=0)


@pytest.mark.parametrize(
    "cell",
    [
        dict(mask="bernoulli", xi=0.5, p=3, selection="gather"),
        dict(mask="bernoulli", xi=0.5, p=3, selection="masked"),
        dict(mask="bernoulli", xi=1.0, p=2),
        dict(mask="categorical", p=4),
        dict(mask="bernoulli", xi=0.3, p=2, surrogate="inverse_xi", loss="mean", aggregation="zero_unheld"),
    ],
)
def test_cuda_matches_cpu(data, cell):
    spec = TrainSpec(m=64, tau=3, eta=0.2, rounds=30, dtype="float64", trace=True, **cell)
    cpu = train(data.X, data.y, spec, [0, 1], return_weights=True)
    gpu = train(data.X, data.y, spec.replace(device="cuda"), [0, 1], return_weights=True)
    np.testing.assert_allclose(gpu.losses, cpu.losses, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gpu.weights, cpu.weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gpu.trace, cpu.trace, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(gpu.diverged_round, cpu.diverged_round)


def test_cuda_float32_auto(data):
    """dtype auto on the GPU: float32 away from xi_eff = 1, close to the float64 run."""
    spec = TrainSpec(m=64, p=3, xi=0.5, tau=3, eta=0.2, rounds=30, dtype="auto", device="cuda")
    r32 = train(data.X, data.y, spec, [0])
    r64 = train(data.X, data.y, spec.replace(dtype="float64", device="cpu"), [0])
    np.testing.assert_allclose(r32.losses, r64.losses, rtol=1e-4)


def test_cuda_batched_cells_match_cpu(data):
    """Cells and seeds batched on the GPU (no element cap there) against the same call on
    the CPU: the device-batched path gives the CPU's numbers to float64 rounding."""
    base = dict(m=64, tau=3, rounds=30, dtype="float64", trace=True)
    specs = [
        TrainSpec(xi=0.3, p=3, eta=0.3, **base),
        TrainSpec(xi=0.9, p=2, eta=0.2, **base),
        TrainSpec(mask="categorical", p=4, eta=0.3, **base),
        TrainSpec(xi=1.0, p=2, eta=0.3, **base),
    ]
    seeds = [0, 1, 2]
    cpu = train_many(data.X, data.y, [(s, seeds) for s in specs], return_weights=True)
    gpu = train_many(data.X, data.y, [(s.replace(device="cuda"), seeds) for s in specs], return_weights=True)
    for c, g in zip(cpu, gpu, strict=True):
        np.testing.assert_allclose(g.losses, c.losses, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(g.weights, c.weights, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g.trace, c.trace, rtol=1e-10, atol=1e-14)
        np.testing.assert_array_equal(g.rounds_run, c.rounds_run)
