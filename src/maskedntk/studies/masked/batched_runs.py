"""The runs of Algorithm 1 that advance together (:mod:`.engine` drives them).

:class:`Run` is one seed of one TrainSpec: its per-run constants (the surrogate's and the
tracked loss's scales, the step, the rounding floor) and what it records (L_k, the dead
fraction, the local-step trace, when it stopped and why).  :class:`Batch` stacks the state of
runs that share the data and the shapes along a leading run axis and advances them one global
round at a time: the masks M_k (drawn on the host per run), the tau local steps of every
subnetwork through :mod:`.kernels` (compiled ragged passes on a CPU, ``FUSED``; padded tensor
operations otherwise), and the aggregation w_{k+1,r} = w_{k,r} + (1/X_{k,r}) sum_l Delta w^l_{k,r}
applied to the pre-activations Z = X W^T (docs/masked/mathematics.md sec. 8).

The settings of the computation, each measured where it is stated: the selection of the held
neurons (``GATHER_MAX_FRACTION``), the batch size (``BATCH_ELEMENTS``), whether cells share
batches (``MIX_CELLS``), the compiled passes (``FUSED``), the padding slack
(``WIDTH_SLACK``) and the rounding floor (``FLOOR_ULPS``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

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


@dataclass
class Run:
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
    def start(cls, job: int, spec: TrainSpec, seed: int, Y: np.ndarray) -> Run:
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


class Batch:
    """Runs that advance together, their state stacked along a leading run axis.

    State of run j, neuron-major: ZT[j] = (X W^T)^T = W X^T (m, n); with weights requested also
    W_anchor[j] (m, d) and CT[j] (m, n), W = W_anchor + CT X.  Finished runs leave the stack."""

    def __init__(self, Xn: np.ndarray, Yn: np.ndarray, runs: list[Run], return_weights: bool):
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
