"""Algorithm 1 of Liao & Kyrillidis (arXiv 2112.02668v1), all p subnetworks as one computation.

Model (sec. 3.1): f(W, x) = s * sum_r a_r relu(<w_r, x>) with s = 1/sqrt(m), a_r uniform on
{-1, +1} and fixed, w_r ~ N(0, kappa^2 I).  One global round k:

1. sample M_k in {0,1}^{p x m} (Bernoulli(xi) entries, or categorical: one owner per neuron);
2. every subnetwork l starts from W_k and takes tau full-batch GD steps with step eta on
   L_l(W) = 1/2 ||y - f_l(W, X)||^2,  f_l = s * sum_r a_r m^l_r relu(<w_r, x>);
3. w_{k+1,r} = w_{k,r} + (1/X_{k,r}) sum_l Delta w^l_{k,r} with X_{k,r} = sum_l m^l_{k,r};
   a neuron held by no subnetwork keeps its weights.

Tracked: L_k = ||y - xi f(W_k, X)||^2 for k = 0..K (xi = 1/p for categorical masks).

How it is computed (exact; docs/masked/mathematics.md sec. 8).  A GD step of subnetwork l changes W by
-eta G^T X with G[i, r] = 1{z_ir >= 0} (f_l(x_i) - y_i) s a_r m^l_r, so the pre-activations
Z = X W^T change by -eta (X X^T) G.  The engine never forms a subnetwork's weights: the tau
local steps of all p subnetworks run together on a (p, n, M') tensor of pre-activations
(M' = m, or only the held neurons when ``selection='gather'``), applying the Gram matrix
K = X X^T (or X (X^T G) when that is cheaper).  G is summed over steps and subnetworks in
neuron space and divided by X_{k,r}; W = W_anchor + C^T X is kept implicitly, C being the
accumulated aggregated coefficients, and Z is updated by the same operator.  W is formed
only on request.
The products with K are one BLAS GEMM per local step over every subnetwork of a batch; on a
CPU the elementwise work around them (forward, gradient, the tracked loss) runs as compiled
passes, one per quantity (:mod:`maskedntk.studies.masked.fused`, ``FUSED``), instead of
several tensor operations each.

Runs are batched.  All seeds of a call (and, through :func:`train_many` on a GPU, the seeds
of several cells that share the data and the shapes m, tau, dtype, device, path, sigma'(0)
and trace; ``MIX_CELLS``) advance round by round together: their states are stacked, one tracked-loss product
and one aggregation product serve them all, and the subnetworks of runs whose widths are
close run their tau local steps as one batch (:mod:`maskedntk.studies.masked.kernels`),
up to ``BATCH_ELEMENTS`` numbers per batch tensor on a CPU (beyond that the tensors leave
the caches) and without a limit on a GPU.  Masks and initialisations are drawn on the host
per seed, so batching changes a run's numbers only by float rounding (measured in
tests/masked/test_engine_batching.py).

A run stops at ``rounds`` (or later, with ``max_rounds``, while it is not stationary), when
it diverges, or when L_k falls to the float rounding floor (:func:`rounding_floor`): it has
then converged to zero, and later rounds carry no information.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from maskedntk.core.validate import check_int

from .batched_runs import (
    BATCH_ELEMENTS,
    FLOOR_ULPS,
    FUSED,
    GATHER_MAX_FRACTION,
    MIX_CELLS,
    WIDTH_SLACK,
    Batch,
    Run,
    choose_path,
    choose_selection,
    init_params,
    resolve_device,
    rounding_floor,
)
from .spec import TrainSpec

#: the engine's public names; the settings of the computation (``FUSED``, ...) are the objects
#: :mod:`.batched_runs` reads, so ``engine.FUSED["cpu"] = False`` changes what the runs do
__all__ = [
    "BATCH_ELEMENTS",
    "FLOOR_ULPS",
    "FUSED",
    "GATHER_MAX_FRACTION",
    "MIX_CELLS",
    "WIDTH_SLACK",
    "TrainResult",
    "batch_key",
    "choose_path",
    "choose_selection",
    "init_params",
    "resolve_device",
    "rounding_floor",
    "run_many",
    "train",
    "train_many",
]


@dataclass
class TrainResult:
    """Outcome of :func:`train` for S seeds.

    losses : (S, K_max+1) float64, L_k = ||y - xi f(W_k, X)||^2 (NaN after divergence, and
        after a seed's last round when seeds ran different numbers of rounds).
    rounds_run : (S,) int, the rounds K each seed ran: ``spec.rounds``, or more when
        ``spec.max_rounds`` extended it until its L_k passed the stationarity test.
    diverged_round : (S,) int, the first round k flagged as diverged, -1 if none.
    zero_round : (S,) int, the round k >= 1 at which L_k fell to the rounding floor and the
        run stopped, converged to zero (then rounds_run = zero_round), -1 if none.
    trace : (S, K, tau+1) mean over subnetworks of ||y - f_l(W^l_{k,t}, X)||^2 for
        t = 0..tau (t = 0: right after M_k is sampled), or None.
    dead : (S, K+1) fraction of neurons inactive on every sample (max_i <w_r, x_i> <= 0) at
        round k, NaN after divergence.  Zeroed neurons (``aggregation='zero_unheld'``) count.
    weights : (S, m, d) final W_K, or None.
    second_layer : (S, m, d_out) the fixed a, or None.
    selection : how a batch held the subnetworks' neurons: 'ragged' (the compiled CPU path:
        the held neurons only), or the tensor operations' padded 'gather' or 'masked'.
    flops : multiply-adds x 2 of the matrix products the algorithm needs for these seeds: the
        products on the rows of held neurons (a gathered batch's padding rows, a masked
        batch's unheld neurons and the aggregation's rows of neurons no subnetwork held are
        computed but not counted; identical subnetworks are computed, and counted, once).
    seconds : wall time of the call (of the whole batch for :func:`train_many`).
    """

    seeds: list[int]
    losses: np.ndarray
    rounds_run: np.ndarray
    diverged_round: np.ndarray
    zero_round: np.ndarray
    trace: np.ndarray | None
    dead: np.ndarray
    weights: np.ndarray | None
    second_layer: np.ndarray | None
    path: str
    selection: str
    seconds: float
    flops: float

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_round >= 0


def batch_key(spec: TrainSpec, n: int, d: int) -> tuple:
    """Runs of two specs can share batches when these agree (the rest is per run)."""
    return (
        spec.m,
        spec.tau,
        spec.resolved_dtype,
        spec.device,
        choose_path(spec, n, d),
        spec.relu_grad_at_zero,
        spec.trace,
    )


def train(
    X,
    y,
    spec: TrainSpec,
    seeds: Sequence[int],
    *,
    return_weights: bool = False,
    progress: Callable[[int, int, float, float], None] | None = None,
    progress_every: int = 0,
) -> TrainResult:
    """Run Algorithm 1 with ``spec`` on (X, y) once for every seed in ``seeds`` (batched).

    X : (n, d) array with unit rows; y : (n,) or (n, d_out).  Each seed fixes its own W_0, a
    and masks.  ``progress(seed, k, L_k, elapsed seconds)`` is called every ``progress_every``
    rounds.
    """
    cb = None if progress is None else (lambda job, seed, k, L, t: progress(seed, k, L, t))
    return train_many(X, y, [(spec, seeds)], return_weights=return_weights, progress=cb, progress_every=progress_every)[
        0
    ]


def train_many(
    X,
    y,
    jobs: Sequence[tuple[TrainSpec, Sequence[int]]],
    *,
    return_weights: bool = False,
    progress: Callable[[int, int, int, float, float], None] | None = None,
    progress_every: int = 0,
) -> list[TrainResult]:
    """:func:`train` for several (spec, seeds) jobs on the same data, as one computation:
    jobs with the same :func:`batch_key` share batches.  ``progress(job index, seed, k, L_k,
    elapsed)``.  Returns one :class:`TrainResult` per job, in order.

    The public entry point: it validates its arguments once (every spec a TrainSpec, every
    seed an integer >= 0, X and y of matching shapes) and hands them to :func:`run_many`."""
    for spec, _ in jobs:
        if not isinstance(spec, TrainSpec):
            raise ValueError(f"spec = {spec!r}: must be a TrainSpec")
    jobs = [(spec, [check_int("seed", s, 0) for s in seeds]) for spec, seeds in jobs]
    if any(not seeds for _, seeds in jobs):
        raise ValueError("seeds = []: give at least one seed")
    Xn = np.asarray(X, dtype=np.float64)
    Yn = np.asarray(y, dtype=np.float64)
    if Yn.ndim == 1:
        Yn = Yn[:, None]
    if Xn.ndim != 2 or Yn.ndim != 2 or Yn.shape[0] != Xn.shape[0]:
        raise ValueError(f"X has shape {Xn.shape} and y has shape {Yn.shape}: need X (n, d) and y (n,) or (n, d_out)")
    return run_many(Xn, Yn, jobs, return_weights=return_weights, progress=progress, progress_every=progress_every)


def run_many(
    X: np.ndarray,
    Y: np.ndarray,
    jobs: Sequence[tuple[TrainSpec, Sequence[int]]],
    *,
    return_weights: bool = False,
    progress: Callable[[int, int, int, float, float], None] | None = None,
    progress_every: int = 0,
) -> list[TrainResult]:
    """:func:`train_many` on arguments already validated, which it trusts: X (n, d) and Y
    (n, d_out) float64 arrays (a :class:`~maskedntk.studies.masked.data.Dataset`'s), TrainSpecs,
    and non-empty lists of integer seeds >= 0 (a
    :class:`~maskedntk.studies.masked.cellconfig.CellConfig`'s)."""
    t_start = time.perf_counter()
    n, d = X.shape
    groups: dict[tuple, list[Run]] = {}
    runs_of_job: list[list[Run]] = []
    for j, (spec, seeds) in enumerate(jobs):
        runs = [Run.start(j, spec, sd, Y) for sd in seeds]
        runs_of_job.append(runs)
        own = () if MIX_CELLS.get(resolve_device(spec.device).type, True) else (j,)
        groups.setdefault(batch_key(spec, n, d) + own, []).extend(runs)
    for runs in groups.values():
        Batch(X, Y, runs, return_weights).train(progress, progress_every, t_start)
    seconds = time.perf_counter() - t_start
    return [_result(spec, runs, n, d, seconds) for (spec, _), runs in zip(jobs, runs_of_job, strict=True)]


def _result(spec: TrainSpec, runs: list[Run], n: int, d: int, seconds: float) -> TrainResult:
    K_max = max(r.rounds_run for r in runs)
    path = choose_path(spec, n, d)
    return TrainResult(
        seeds=[r.seed for r in runs],
        losses=np.stack([_pad(r.losses[: r.rounds_run + 1], K_max + 1) for r in runs]),
        rounds_run=np.array([r.rounds_run for r in runs], dtype=np.int64),
        diverged_round=np.array([r.diverged_round for r in runs], dtype=np.int64),
        zero_round=np.array([r.zero_round for r in runs], dtype=np.int64),
        trace=None if runs[0].trace is None else np.stack([_pad(r.trace[: r.rounds_run], K_max) for r in runs]),
        dead=np.stack([_pad(r.dead[: r.rounds_run + 1], K_max + 1) for r in runs]),
        weights=None if runs[0].weights is None else np.stack([r.weights for r in runs]),
        second_layer=None if runs[0].weights is None else np.stack([r.a0 for r in runs]),
        path=path,
        selection="ragged" if FUSED.get(resolve_device(spec.device).type, False) else choose_selection(spec),
        seconds=seconds,
        flops=sum(r.flops for r in runs) + (2.0 * n * n * d if path == "gram" else 0.0),
    )


def _pad(a: np.ndarray, length: int) -> np.ndarray:
    """``a`` with NaN rows appended up to ``length`` rows (seeds that stopped earlier)."""
    if a.shape[0] >= length:
        return a[:length]
    return np.concatenate([a, np.full((length - a.shape[0], *a.shape[1:]), np.nan)])
