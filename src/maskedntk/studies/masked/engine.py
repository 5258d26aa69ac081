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

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from maskedntk.core.validate import check_int

from .kernels import (
    FusedLocalSteps,
    GramOperator,
    LocalSteps,
    Workspace,
    distinct_rows,
    held_rows,
    needed_width,
    selection_rows,
    sq_norms,
)
from .masks import sample_masks
from .rng import init_generator
from .spec import TrainSpec
from .stationarity import next_rounds, stationarity_test

#: ``selection='auto'`` gathers the held neurons when a subnetwork holds, in expectation, at
#: most this fraction of the m neurons; above it the masked multiply is as fast (measured
#: crossover, see benchmarks/bench_engine.py --selection).
GATHER_MAX_FRACTION = 0.85

#: the most numbers in one batch tensor (P, M', n) on a CPU: larger batches leave the caches
#: and their elementwise passes slow down more than the fewer, larger products gain
#: (benchmarks/bench_engine.py --batch); a GPU takes every run of a round in as few batches
#: as the widths allow
BATCH_ELEMENTS = {"cpu": 2**20, "cuda": None}

#: whether the runs of different cells share batches (seeds of a cell always do): on a GPU
#: yes; on a CPU no, as measured on an idle machine with one thread (a default heatmap row,
#: `benchmarks/bench_engine.py --rows`: cells batched 0.81x, seeds batched 0.98x of one run
#: at a time), where the padding and the larger tensors cost more than the fewer calls save
MIX_CELLS = {"cpu": False, "cuda": True}

#: the elementwise passes of the local steps and of the tracked loss as compiled kernels
#: (:mod:`maskedntk.studies.masked.fused`: one pass where the tensor operations take several)
#: on a CPU; as tensor operations on a GPU
FUSED = {"cpu": True, "cuda": False}

#: runs share a batch when their widths differ by at most this fraction of the batch's width
#: (the padding costs at most this share of the batch's work)
WIDTH_SLACK = 0.2

#: L_k at or below (FLOOR_ULPS eps)^2 ||y||^2 (eps of the run's dtype) has converged to zero:
#: the residuals are, in root mean square, within FLOOR_ULPS units of the last place of the
#: labels.  Plain GD on the default data (n = 100, d = 128, m = 1000, float64) stalls on a
#: rounding plateau of 2e-29 to 8e-29 = (5-9 eps)^2 ||y||^2 whose noise the stationarity test
#: reads as drift; 32 ulps put the floor a factor >= 12 above that plateau
FLOOR_ULPS = 32.0


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


def init_params(spec: TrainSpec, seed: int, d: int, d_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(W_0, a) for run ``seed``: W_0 (m x d) with rows N(0, kappa^2 I) (or N(0, I/m) for
    ``init='fan_in_m'``) and a (m x d_out) uniform on {-1, +1}; drawn in float64 with numpy."""
    rng = init_generator(seed)
    std = spec.kappa if spec.init == "kappa" else 1.0 / math.sqrt(spec.m)
    W0 = rng.standard_normal((spec.m, d)) * std
    a = rng.choice(np.array([-1.0, 1.0]), size=(spec.m, d_out))
    return W0, a


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when available, else cpu; 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device = 'cuda': no CUDA device is available; use 'cpu' or 'auto'")
    return torch.device(name)


def choose_path(spec: TrainSpec, n: int, d: int) -> str:
    """'gram' (n^2 flops per neuron-step) when n < 2d, else 'direct' (2nd per neuron-step)."""
    if spec.path != "auto":
        return spec.path
    return "gram" if n < 2 * d else "direct"


def choose_selection(spec: TrainSpec) -> str:
    """'gather' when a subnetwork holds, in expectation, at most GATHER_MAX_FRACTION of the
    neurons (xi for Bernoulli masks, 1/p for categorical), else 'masked'."""
    if spec.selection != "auto":
        return spec.selection
    return "gather" if spec.xi_eff <= GATHER_MAX_FRACTION else "masked"


def rounding_floor(Y: np.ndarray, dtype: str) -> float:
    """(FLOOR_ULPS eps)^2 ||y||^2: a tracked loss at or below it has converged to zero."""
    eps = float(np.finfo(np.float64 if dtype == "float64" else np.float32).eps)
    return (FLOOR_ULPS * eps) ** 2 * float(np.sum(np.asarray(Y, dtype=np.float64) ** 2))


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
    groups: dict[tuple, list[_Run]] = {}
    runs_of_job: list[list[_Run]] = []
    for j, (spec, seeds) in enumerate(jobs):
        runs = [_Run.start(j, spec, sd, Y) for sd in seeds]
        runs_of_job.append(runs)
        own = () if MIX_CELLS.get(resolve_device(spec.device).type, True) else (j,)
        groups.setdefault(batch_key(spec, n, d) + own, []).extend(runs)
    for runs in groups.values():
        _Batch(X, Y, runs, return_weights).train(progress, progress_every, t_start)
    seconds = time.perf_counter() - t_start
    return [_result(spec, runs, n, d, seconds) for (spec, _), runs in zip(jobs, runs_of_job, strict=True)]


def _result(spec: TrainSpec, runs: list[_Run], n: int, d: int, seconds: float) -> TrainResult:
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


@dataclass
class _Run:
    """One seed of one spec: its per-run constants and what it records (see TrainResult)."""

    job: int
    seed: int
    spec: TrainSpec
    selection: str
    surrogate_scale: float  # s, or s / xi for the inverse-xi surrogate
    track_scale: float  # xi s (paper) or s: L_k = ||y - track_scale sum_r a_r relu(z_r)||^2
    step_scale: float  # eta (times 1/n for the mean loss)
    floor: float
    K_rounds: int
    losses: np.ndarray
    dead: np.ndarray
    trace: np.ndarray | None
    a0: np.ndarray | None = None
    limit: float | None = None
    rounds_run: int = -1
    diverged_round: int = -1
    zero_round: int = -1
    flops: float = 0.0
    weights: np.ndarray | None = None

    @classmethod
    def start(cls, job: int, spec: TrainSpec, seed: int, Y: np.ndarray) -> _Run:
        n, d_out = Y.shape
        s = 1.0 / math.sqrt(spec.m) if spec.output_scale == "sqrt_m" else 1.0 / math.sqrt(d_out)
        xi = spec.xi_eff
        K_cap = spec.max_rounds or spec.rounds  # arrays hold the most rounds the run may take
        return cls(
            job=job,
            seed=seed,
            spec=spec,
            selection=choose_selection(spec),
            surrogate_scale=s / xi if spec.surrogate == "inverse_xi" else s,
            track_scale=(xi if spec.surrogate == "paper" else 1.0) * s,
            step_scale=spec.eta / n if spec.loss == "mean" else spec.eta,
            floor=rounding_floor(Y, spec.resolved_dtype),
            K_rounds=spec.rounds,
            losses=np.full(K_cap + 1, np.nan),
            dead=np.full(K_cap + 1, np.nan),
            trace=np.full((K_cap, spec.tau + 1), np.nan) if spec.trace else None,
        )

    def record(self, k: int, L: float, dead: float) -> bool:
        """Record round k's L_k; True when the run stops here (rounds_run is then set)."""
        spec = self.spec
        if self.limit is None:
            self.limit = spec.divergence_factor * max(L, 1.0)
        if not math.isfinite(L) or L > self.limit:
            self.diverged_round = k
            if self.trace is not None:
                self.trace[max(k - 1, 0) :] = np.nan  # the round that blew up carries no information
            self.rounds_run = self.K_rounds  # its L_k stay NaN from k on
            return True
        self.losses[k], self.dead[k] = L, dead
        if k >= 1 and L <= self.floor:
            self.zero_round = self.rounds_run = k
            return True
        if k == self.K_rounds:
            more = None
            if spec.max_rounds is not None:
                test = stationarity_test(self.losses[: k + 1])
                more = next_rounds(k, test, spec.rounds, spec.max_rounds, spec.rounds)
            if more is None:
                self.rounds_run = k
                return True
            self.K_rounds = more
        return False


class _Batch:
    """Runs that advance together, their state stacked along a leading run axis.

    State of run j, neuron-major: ZT[j] = (X W^T)^T = W X^T (m, n); with weights requested also
    W_anchor[j] (m, d) and CT[j] (m, n), W = W_anchor + CT X.  Finished runs leave the stack."""

    def __init__(self, Xn: np.ndarray, Yn: np.ndarray, runs: list[_Run], return_weights: bool):
        spec = runs[0].spec
        self.runs = runs
        self.device = resolve_device(spec.device)
        self.dtype = torch.float64 if spec.resolved_dtype == "float64" else torch.float32
        self.return_weights = return_weights
        n, d = Xn.shape
        self.n, self.d, self.d_out, self.m = n, d, Yn.shape[1], spec.m
        as_t = lambda a: torch.as_tensor(a, dtype=self.dtype, device=self.device)  # noqa: E731
        self.X = as_t(Xn)
        self.YT = as_t(Yn).T.contiguous()  # (d_out, n)
        self.op = GramOperator(self.X, choose_path(spec, n, d))
        self.ws = Workspace(self.dtype, self.device)
        self.fused = FUSED.get(self.device.type, False)
        steps = FusedLocalSteps if self.fused else LocalSteps
        self.steps = steps(self.YT, self.op, spec.tau, spec.relu_grad_at_zero, self.ws)
        self.cap = BATCH_ELEMENTS.get(self.device.type)
        W0, a0 = zip(*(init_params(r.spec, r.seed, d, self.d_out) for r in runs), strict=True)
        for r, a in zip(runs, a0, strict=True):
            r.a0 = a
        W = as_t(np.stack(W0))  # (R, m, d)
        self.a = as_t(np.stack(a0))  # (R, m, d_out)
        self.ZT = W @ self.op.XT  # (R, m, n)
        self.W = W if return_weights else None
        self.CT = torch.zeros_like(self.ZT) if return_weights else None
        for r in runs:
            r.flops += 2.0 * n * self.m * d

    def train(self, progress, progress_every: int, t_start: float) -> None:
        active = list(self.runs)
        k = 0
        while True:
            L, dead = self._tracked(active)
            done = []
            for j, r in enumerate(active):
                r.flops += 2.0 * self.n * self.m * self.d_out
                stop = r.record(k, float(L[j]), float(dead[j]))
                if progress is not None and progress_every and k > 0 and r.diverged_round < 0:
                    if k % progress_every == 0 or stop:
                        progress(r.job, r.seed, k, float(L[j]), time.perf_counter() - t_start)
                if stop:
                    done.append(j)
            if done:
                active = self._drop(active, done)
            if not active:
                return
            self._round(active, k)
            k += 1

    def _tracked(self, active) -> tuple[np.ndarray, np.ndarray]:
        """(L_k, fraction of dead neurons) of every active run."""
        scale = torch.as_tensor([r.track_scale for r in active], dtype=self.dtype, device=self.device)
        if self.fused:
            from . import fused

            U = self.ws.get("U", len(active), self.d_out, self.n)
            dead = np.empty(len(active), dtype=np.int64)
            fused.tracked(self.ZT.numpy(), self.a.numpy(), scale.numpy(), U.numpy(), dead)
        else:
            U = torch.bmm(self.a.transpose(1, 2), torch.relu(self.ZT)) * scale[:, None, None]  # (R, d_out, n)
            dead = (self.ZT.amax(dim=2) <= 0).sum(dim=1).to("cpu").numpy()
        return sq_norms(self.YT - U), dead / self.m

    def _drop(self, active, done):
        """Remove finished runs from the stack (keeping their final weights when asked)."""
        keep = [j for j in range(len(active)) if j not in set(done)]
        if self.return_weights:
            for j in done:
                active[j].weights = (self.W[j] + self.CT[j] @ self.X).to("cpu", torch.float64).numpy()
        idx = torch.as_tensor(keep, dtype=torch.long, device=self.device)
        for name in ("ZT", "a", "W", "CT"):
            t = getattr(self, name)
            if t is not None:
                setattr(self, name, t.index_select(0, idx))
        return [active[j] for j in keep]

    def _round(self, active, k: int) -> None:
        """One global round k of every active run: masks, local steps, aggregation."""
        R, m, n = len(active), self.m, self.n
        # host: each run's mask, its distinct rows (subnetworks with identical masks follow
        # identical local trajectories, always so at xi = 1) and the holder counts X_{k,r}
        parts = []
        inv = np.empty((R, m))
        held = np.empty(R)  # neurons held by at least one subnetwork
        zero_rows = []
        for j, r in enumerate(active):
            sp = r.spec
            masks = sample_masks(sp.mask, r.seed, k, sp.p, m, sp.xi)
            counts = masks.sum(axis=0)
            inv[j] = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
            held[j] = np.count_nonzero(counts)
            if sp.aggregation == "zero_unheld":
                zero_rows.append(j * m + np.flatnonzero(counts == 0))
            distinct, mult = distinct_rows(masks)
            parts.append((j, distinct, mult, needed_width(distinct, r.selection)))
        Delta = self.ws.get("Delta", R * m, n).zero_()
        ZT = self.ZT.view(R * m, n)
        a = self.a.view(R * m, self.d_out)
        for batch in self._batches(parts):
            self._local(active, batch, ZT, a, Delta, k)
        # aggregation: Delta w_r = -(eta / X_{k,r}) (sum_l sum_t G[l, r, :]) X for held neurons
        Delta.mul_(torch.as_tensor(-inv.reshape(-1, 1), dtype=self.dtype, device=self.device))
        if self.CT is not None:
            self.CT.view(R * m, n).add_(Delta)
        self.op.add_(ZT, Delta, 1.0)  # Z = X W^T follows W
        for j, r in enumerate(active):
            r.flops += held[j] * self.op.flops_per_row
        if zero_rows:
            rows = torch.as_tensor(np.concatenate(zero_rows), dtype=torch.long, device=self.device)
            ZT.index_fill_(0, rows, 0.0)
            if self.CT is not None:
                self.CT.view(R * m, n).index_fill_(0, rows, 0.0)
                self.W.view(R * m, self.d).index_fill_(0, rows, 0.0)

    def _batches(self, parts):
        """Group the runs' subnetworks into batches under the element cap.  Ragged (compiled
        path): in order, by the rows they hold.  Padded: widest first, a run joins the
        current batch when its width is within WIDTH_SLACK of the batch's."""
        order = parts if self.fused else sorted(parts, key=lambda t: -t[3])
        batch, width, size = [], 0, 0
        for part in order:
            p_j, w_j = part[1].shape[0], part[3]
            add = int(part[1].sum()) if self.fused else p_j * width  # rows of n numbers it adds
            fits = bool(batch) and (self.fused or w_j >= (1.0 - WIDTH_SLACK) * width)
            if fits and self.cap is not None:
                fits = (size + add) * self.n <= self.cap
            if not fits and batch:
                yield batch, width
                batch, size = [], 0
            if not batch:
                width = w_j
                add = int(part[1].sum()) if self.fused else p_j * width
            batch.append(part)
            size += add
        if batch:
            yield batch, width

    def _local(self, active, batch, ZT, a, Delta, k: int) -> None:
        """tau local steps of one batch's subnetworks; their summed steps go into Delta."""
        parts, width = batch
        if self.fused:  # ragged: every subnetwork's held neurons, one after another
            sel = [held_rows(distinct, j * self.m) for j, distinct, _, _ in parts]
            counts = np.concatenate([c for _, c in sel])  # neurons each subnetwork holds
            off = np.zeros(counts.size + 1, dtype=np.int64)
            np.cumsum(counts, out=off[1:])
        else:  # padded to the batch's width (weight 0 on padding and unheld neurons)
            sel = [selection_rows(distinct, active[j].selection, width, j * self.m) for j, distinct, _, _ in parts]
            counts = np.concatenate([np.count_nonzero(w, axis=1) for _, w in sel])
            off = None
        dev = self.device
        idx = torch.as_tensor(np.ascontiguousarray(np.concatenate([i for i, _ in sel])), dtype=torch.long, device=dev)
        Zs = self.ws.get("Zs", *idx.shape, self.n)  # (N, n) ragged, (P, M', n) padded
        torch.index_select(ZT, 0, idx.view(-1), out=Zs.view(-1, self.n))
        am1 = a[idx]  # (..., d_out): a_r, times m^l_r when padded
        if not self.fused:
            am1 *= torch.as_tensor(np.concatenate([w for _, w in sel]), dtype=self.dtype, device=dev)[..., None]
        per_sub = [(active[j], distinct.shape[0]) for j, distinct, _, _ in parts]
        s_f = self._per_subnetwork([r.surrogate_scale for r, p_j in per_sub for _ in range(p_j)], counts)
        s_g = self._per_subnetwork([r.surrogate_scale * r.step_scale for r, p_j in per_sub for _ in range(p_j)], counts)
        want_trace = active[parts[0][0]].trace is not None
        Gsum, errs, flops_per_row = self.steps.run(Zs, am1 * s_f, am1 * s_g, want_trace, off)
        mult = [np.ones(d.shape[0]) if mu is None else mu for _, d, mu, _ in parts]
        if any(mu is not None for _, _, mu, _ in parts):
            Gsum.mul_(self._per_subnetwork(np.concatenate(mult), counts))
        Delta.index_add_(0, idx.view(-1), Gsum.view(-1, self.n))
        row = 0
        for (r, p_j), mu in zip(per_sub, mult, strict=True):
            r.flops += flops_per_row * float(counts[row : row + p_j].sum())  # the held neurons' rows only
            if errs is not None:
                r.trace[k] = (errs[row : row + p_j] * mu[:, None]).sum(axis=0) / r.spec.p
            row += p_j

    def _per_subnetwork(self, values, counts: np.ndarray) -> torch.Tensor:
        """One value per subnetwork of a batch, shaped to multiply the batch's rows."""
        if self.fused:
            return torch.as_tensor(np.repeat(np.asarray(values), counts), dtype=self.dtype)[:, None]
        return torch.as_tensor(values, dtype=self.dtype, device=self.device)[:, None, None]
