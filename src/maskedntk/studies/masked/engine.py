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

Seeds run one after another and share X, y and the Gram matrix.  Each seed's computation
has the same shapes whatever other seeds are in the call, so its numbers do not depend on
the seed list (torch's batched kernels are not bitwise batch-invariant).  Seeds are not
stacked into one tensor: one seed's round is already one batched computation over the p
subnetworks, large enough to run at about 70% of the machine's SGEMM rate at the heatmap
scale (benchmarks/bench_engine.py), so stacking seeds could gain little on a CPU and would
cost the batch invariance.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from maskedntk.core.validate import check_int

from .masks import sample_masks
from .rng import init_generator
from .spec import TrainSpec
from .stationarity import next_rounds, stationarity_test

#: ``selection='auto'`` gathers the held neurons when a subnetwork holds, in expectation, at
#: most this fraction of the m neurons; above it the masked multiply is as fast (measured
#: crossover, see benchmarks/bench_engine.py --selection).
GATHER_MAX_FRACTION = 0.85


@dataclass
class TrainResult:
    """Outcome of :func:`train` for S seeds.

    losses : (S, K_max+1) float64, L_k = ||y - xi f(W_k, X)||^2 (NaN after divergence, and
        after a seed's last round when seeds ran different numbers of rounds).
    rounds_run : (S,) int, the rounds K each seed ran: ``spec.rounds``, or more when
        ``spec.max_rounds`` extended it until its L_k passed the stationarity test.
    diverged_round : (S,) int, the first round k flagged as diverged, -1 if none.
    trace : (S, K, tau+1) mean over subnetworks of ||y - f_l(W^l_{k,t}, X)||^2 for
        t = 0..tau (t = 0: right after M_k is sampled), or None.
    dead : (S, K+1) fraction of neurons inactive on every sample (max_i <w_r, x_i> <= 0) at
        round k, NaN after divergence.  Zeroed neurons (``aggregation='zero_unheld'``) count.
    weights : (S, m, d) final W_K, or None.
    second_layer : (S, m, d_out) the fixed a, or None.
    flops : multiply-adds x 2 of the matrix products performed.
    """

    seeds: list[int]
    losses: np.ndarray
    rounds_run: np.ndarray
    diverged_round: np.ndarray
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


class _GramOperator:
    """Applies K = X X^T to the rows of G (N, n), i.e. G <- G K: as G @ K ('gram', 2n^2 flops
    per row) or (G @ X) @ X^T ('direct', 4nd flops per row).  K is symmetric."""

    def __init__(self, X: torch.Tensor, path: str):
        self.path = path
        self.X = X
        self.XT = X.T.contiguous()
        self.K = X @ self.XT if path == "gram" else None
        n, d = X.shape
        #: flops of applying the operator to one row of G
        self.flops_per_row = 2 * n * n if path == "gram" else 4 * n * d

    def add_(self, Z: torch.Tensor, G: torch.Tensor, alpha: float) -> None:
        """Z <- Z + alpha * G K in place, for Z, G of shape (..., n) (leading dims flattened)."""
        n = Z.shape[-1]
        Z2, G2 = Z.view(-1, n), G.view(-1, n)
        if self.path == "gram":
            Z2.addmm_(G2, self.K, alpha=alpha)
        else:  # (X^T G^T)^T: MKL runs this orientation about 1.5x faster than G @ X for small d
            Z2.addmm_((self.XT @ G2.T).T, self.XT, alpha=alpha)


class _Workspace:
    """Flat buffers reused across rounds (fresh multi-megabyte tensors cost page faults)."""

    def __init__(self, dtype: torch.dtype, device: torch.device):
        self.dtype, self.device = dtype, device
        self.bufs: dict[str, torch.Tensor] = {}

    def get(self, name: str, *shape: int) -> torch.Tensor:
        size = math.prod(shape)
        buf = self.bufs.get(name)
        if buf is None or buf.numel() < size:
            buf = torch.empty(size, dtype=self.dtype, device=self.device)
            self.bufs[name] = buf
        return buf[:size].view(*shape)


class _Selection:
    """The neurons each subnetwork computes in one round.  Tensors are neuron-major:
    pre-activations of subnetwork l are rows (p, M', n), one row of n samples per neuron.

    gather: idx (p, M') ids of the neurons subnetwork l holds, padded with neuron 0 at weight 0.
    masked: all m neurons, the output weights multiplied by the mask.
    """

    def __init__(self, masks: np.ndarray, kind: str, device: torch.device):
        p, m = masks.shape
        self.kind, self.p, self.m = kind, p, m
        if kind == "masked":
            self.width = m
            self.idx = None
            self.weight = torch.from_numpy(masks).to(device)
        else:
            counts = masks.sum(axis=1)
            width = max(int(counts.max()), 1)
            order = np.argsort(~masks, axis=1, kind="stable")[:, :width]  # held first, ascending
            valid = np.arange(width)[None, :] < counts[:, None]
            self.width = width
            self.idx = torch.from_numpy(np.where(valid, order, 0)).to(device)
            self.weight = torch.from_numpy(valid).to(device)

    def pre_activations(self, ZT: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Z^T (m, n) -> ``out`` (p, M', n): each subnetwork's copy of its neurons' rows."""
        m, n = ZT.shape
        if self.kind == "masked":
            return out.copy_(ZT.expand(self.p, m, n))
        torch.index_select(ZT, 0, self.idx.reshape(-1), out=out.view(-1, n))
        return out

    def output_weights(self, a: torch.Tensor, scale: float) -> torch.Tensor:
        """(m, d_out) -> (p, M', d_out): scale * a_r * m^l_r for the computed neurons."""
        w = self.weight.to(a.dtype) * scale
        picked = a.expand(self.p, *a.shape) if self.kind == "masked" else a[self.idx]
        return picked * w[..., None]

    def to_neurons(self, Gsum: torch.Tensor) -> torch.Tensor:
        """(p, M', n) -> (m, n): sum over subnetworks of each neuron's accumulated G row."""
        if self.kind == "masked":
            return Gsum.sum(dim=0)
        n = Gsum.shape[-1]
        out = torch.zeros(self.m, n, dtype=Gsum.dtype, device=Gsum.device)
        return out.index_add_(0, self.idx.reshape(-1), Gsum.view(-1, n))


def _distinct_rows(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(distinct rows in first-seen order, their multiplicities), or (masks, None) if all differ."""
    seen: dict[bytes, int] = {}
    for row in np.packbits(masks, axis=1):
        key = row.tobytes()
        seen[key] = seen.get(key, 0) + 1
    if len(seen) == masks.shape[0]:
        return masks, None
    first = {}
    for i, row in enumerate(np.packbits(masks, axis=1)):
        first.setdefault(row.tobytes(), i)
    return masks[list(first.values())], np.array(list(seen.values()), dtype=np.float64)


def _sq_norms(R: torch.Tensor) -> np.ndarray:
    """Squared Frobenius norm of R[b] for each leading index b, summed in float64 on the host."""
    r = R.detach().to("cpu", torch.float64).numpy().reshape(R.shape[0], -1)
    return np.einsum("ij,ij->i", r, r)


class _LocalSteps:
    """tau GD steps of all p subnetworks on their surrogate losses, in pre-activation space."""

    def __init__(self, YT: torch.Tensor, op: _GramOperator, spec: TrainSpec, loss_coef: float, ws: _Workspace):
        self.YT, self.op, self.ws = YT, op, ws  # YT: (d_out, n)
        self.eta, self.tau = spec.eta, spec.tau
        self.loss_coef = loss_coef
        self.grad0 = spec.relu_grad_at_zero  # sigma'(0)

    def run(
        self, Zs: torch.Tensor, am: torch.Tensor, want_trace: bool
    ) -> tuple[torch.Tensor, np.ndarray | None, float]:
        """Zs (p, M, n) is updated in place; am (p, M, d_out) holds s a_r m^l_r (divided by xi
        for the inverse-xi surrogate).  Returns (sum_t G_t as (p, M, n), the surrogate errors
        ||y - f_l||^2 at t = 0..tau as a (p, tau+1) array or None, the matmul flops)."""
        p, M, n = Zs.shape
        d_out = am.shape[2]
        amT = am.transpose(1, 2)  # (p, d_out, M)
        D = self.ws.get("D", p, M, n)
        A = self.ws.get("A", p, M, n)
        Gsum = self.ws.get("Gsum", p, M, n)
        G = self.ws.get("G", p, M, n)
        errs, flops = [], 0.0
        for t in range(self.tau):
            R = self._residual(Zs, amT, D, A)  # f_l - y: (p, d_out, n); D = sigma'(Z)
            if want_trace:
                errs.append(_sq_norms(R))
            if self.loss_coef != 1.0:
                R = R * self.loss_coef
            target = Gsum if t == 0 else G
            # G[l, r, i] = sigma'(z_ri) * sum_o am[l, r, o] (f_l - y)[o, i]
            if d_out == 1:
                torch.mul(am, R, out=target).mul_(D)
            else:
                torch.bmm(am, R, out=target).mul_(D)
            flops += 2.0 * p * n * M * d_out * (2 if d_out > 1 else 1)  # forward bmm (+ G bmm)
            if t > 0:
                Gsum.add_(G)
            if t < self.tau - 1 or want_trace:  # the last update of Z is only needed for the trace
                self.op.add_(Zs, target, -self.eta)
                flops += p * M * self.op.flops_per_row
        if want_trace:
            errs.append(_sq_norms(self._residual(Zs, amT, D, A)))
            flops += 2.0 * p * n * M * d_out
        return Gsum, (np.stack(errs, axis=1) if want_trace else None), flops

    def _residual(self, Zs, amT, D, A) -> torch.Tensor:
        """f_l(W^l, X) - y as (p, d_out, n), f_l = sum_r am_r relu(z_r), relu(z) = z sigma'(z).

        Leaves D = sigma'(Z) = 1{z > 0} + sigma'(0) 1{z = 0}: the paper's 1{z >= 0} for
        sigma'(0) = 1, autograd's / TensorFlow's 1{z > 0} for sigma'(0) = 0."""
        if self.grad0 == 1.0:
            torch.ge(Zs, 0.0, out=D)
        else:
            torch.gt(Zs, 0.0, out=D)
            if self.grad0 != 0.0:
                D.add_((Zs == 0).to(D.dtype), alpha=self.grad0)
        torch.mul(Zs, D, out=A)
        return torch.bmm(amT, A) - self.YT


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
    """Run Algorithm 1 with ``spec`` on (X, y) once for every seed in ``seeds``.

    X : (n, d) array with unit rows; y : (n,) or (n, d_out).  Each seed fixes its own W_0, a
    and masks.  ``progress(seed, k, L_k, elapsed seconds)`` is called every ``progress_every``
    rounds.
    """
    seeds = [check_int("seed", s, 0) for s in seeds]
    if not seeds:
        raise ValueError("seeds = []: give at least one seed")
    Xn = np.asarray(X, dtype=np.float64)
    Yn = np.asarray(y, dtype=np.float64)
    if Yn.ndim == 1:
        Yn = Yn[:, None]
    if Xn.ndim != 2 or Yn.ndim != 2 or Yn.shape[0] != Xn.shape[0]:
        raise ValueError(f"X has shape {Xn.shape} and y has shape {Yn.shape}: need X (n, d) and y (n,) or (n, d_out)")
    t_start = time.perf_counter()
    device = resolve_device(spec.device)
    dtype = torch.float64 if spec.resolved_dtype == "float64" else torch.float32
    n, d = Xn.shape
    X_t = torch.as_tensor(Xn, dtype=dtype, device=device)
    Y_t = torch.as_tensor(Yn, dtype=dtype, device=device)
    path = choose_path(spec, n, d)
    op = _GramOperator(X_t, path)
    ws = _Workspace(dtype, device)
    runs = [_run_seed(X_t, Y_t, op, ws, spec, sd, return_weights, progress, progress_every, t_start) for sd in seeds]
    K_max = max(r.rounds_run for r in runs)
    return TrainResult(
        seeds=seeds,
        losses=np.stack([_pad(r.losses, K_max + 1) for r in runs]),
        rounds_run=np.array([r.rounds_run for r in runs], dtype=np.int64),
        diverged_round=np.array([r.diverged_round for r in runs], dtype=np.int64),
        trace=None if runs[0].trace is None else np.stack([_pad(r.trace, K_max) for r in runs]),
        dead=np.stack([_pad(r.dead, K_max + 1) for r in runs]),
        weights=None if runs[0].weights is None else np.stack([r.weights for r in runs]),
        second_layer=None if runs[0].second_layer is None else np.stack([r.second_layer for r in runs]),
        path=path,
        selection=choose_selection(spec),
        seconds=time.perf_counter() - t_start,
        flops=sum(r.flops for r in runs) + (2.0 * n * n * d if path == "gram" else 0.0),
    )


def _pad(a: np.ndarray, length: int) -> np.ndarray:
    """``a`` with NaN rows appended up to ``length`` rows (seeds that stopped earlier)."""
    if a.shape[0] >= length:
        return a[:length]
    return np.concatenate([a, np.full((length - a.shape[0], *a.shape[1:]), np.nan)])


@dataclass
class SeedRun:
    """One seed's run of Algorithm 1 (see :class:`TrainResult` for the fields)."""

    losses: np.ndarray
    rounds_run: int
    diverged_round: int
    trace: np.ndarray | None
    weights: np.ndarray | None
    second_layer: np.ndarray | None
    flops: float
    dead: np.ndarray


def _run_seed(X, Y, op, ws, spec, seed, return_weights, progress, progress_every, t_start):
    """One run of Algorithm 1 (a :class:`SeedRun`), extended past ``spec.rounds`` while its L_k
    is not stationary when ``spec.max_rounds`` allows (:func:`stationarity.next_rounds`).

    State, neuron-major: ZT = (X W^T)^T = W X^T (m, n), and W = W_anchor + CT X with CT (m, n)
    the accumulated aggregated coefficients."""
    dtype, device = X.dtype, X.device
    n, d = X.shape
    d_out = Y.shape[1]
    K_rounds, p, tau, eta = spec.rounds, spec.p, spec.tau, spec.eta
    K_cap = spec.max_rounds or spec.rounds  # arrays hold the most rounds the run may take
    xi = spec.xi_eff

    # the conventions (TrainSpec docstring): output scale s, surrogate scale, tracked xi, loss
    s = 1.0 / math.sqrt(spec.m) if spec.output_scale == "sqrt_m" else 1.0 / math.sqrt(d_out)
    surrogate_scale = s / xi if spec.surrogate == "inverse_xi" else s
    track_scale = (xi if spec.surrogate == "paper" else 1.0) * s
    loss_coef = 1.0 / n if spec.loss == "mean" else 1.0
    selection = choose_selection(spec)
    YT = Y.T.contiguous()  # (d_out, n)
    steps = _LocalSteps(YT, op, spec, loss_coef, ws)

    W0, a0 = init_params(spec, seed, d, d_out)
    W_anchor = torch.as_tensor(W0, dtype=dtype, device=device)
    a = torch.as_tensor(a0, dtype=dtype, device=device)
    aT = a.T.contiguous()
    ZT = W_anchor @ op.XT  # (m, n)
    CT = torch.zeros_like(ZT)
    flops = 2.0 * n * spec.m * d

    losses = np.full(K_cap + 1, np.nan)
    dead = np.full(K_cap + 1, np.nan)
    trace = np.full((K_cap, tau + 1), np.nan) if spec.trace else None
    limit = None

    def tracked_loss() -> float:
        return float(_sq_norms((YT - track_scale * (aT @ torch.relu(ZT)))[None])[0])

    diverged_round = -1
    for k in itertools.count():  # up to K_rounds, which may grow (max_rounds)
        L = tracked_loss()
        flops += 2.0 * n * spec.m * d_out
        if limit is None:
            limit = spec.divergence_factor * max(L, 1.0)
        if not math.isfinite(L) or L > limit:
            diverged_round = k
            if trace is not None:
                trace[max(k - 1, 0) :] = np.nan  # the round that blew up carries no information
            break
        losses[k] = L
        dead[k] = float((ZT.amax(dim=1) <= 0).sum()) / spec.m
        if progress is not None and progress_every and k > 0 and (k % progress_every == 0 or k == K_rounds):
            progress(seed, k, L, time.perf_counter() - t_start)
        if k == K_rounds:
            more = None
            if spec.max_rounds is not None:
                more = next_rounds(k, stationarity_test(losses[: k + 1]), spec.rounds, spec.max_rounds, spec.rounds)
            if more is None:
                break
            K_rounds = more
        masks = sample_masks(spec.mask, seed, k, p, spec.m, spec.xi)
        counts = masks.sum(axis=0)  # X_{k,r}
        # subnetworks with identical masks follow identical local trajectories (always so at
        # xi = 1): compute each distinct one once and weight it by its multiplicity
        distinct, mult = _distinct_rows(masks)
        sel = _Selection(distinct, selection, device)
        Zs = sel.pre_activations(ZT, ws.get("Zs", sel.p, sel.width, n))
        am = sel.output_weights(a, surrogate_scale)
        Gsum, errs, f_local = steps.run(Zs, am, spec.trace)
        flops += f_local
        if mult is not None:
            Gsum.mul_(torch.as_tensor(mult, dtype=dtype, device=device)[:, None, None])
        if trace is not None:
            trace[k] = errs.mean(axis=0) if mult is None else (errs * mult[:, None]).sum(axis=0) / p
        # aggregation: Delta w_r = -(eta / X_{k,r}) (sum_l sum_t G[l, r, :]) X for held neurons
        inv = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
        DeltaT = sel.to_neurons(Gsum).mul_(torch.as_tensor(-eta * inv, dtype=dtype, device=device)[:, None])
        CT += DeltaT
        op.add_(ZT, DeltaT, 1.0)  # Z = X W^T follows W
        flops += spec.m * op.flops_per_row
        if spec.aggregation == "zero_unheld":
            unheld = torch.as_tensor(counts == 0, device=device)[:, None]
            ZT.masked_fill_(unheld, 0.0)
            CT.masked_fill_(unheld, 0.0)
            W_anchor.masked_fill_(unheld, 0.0)

    K_run = K_rounds if diverged_round < 0 else K_rounds
    weights = second = None
    if return_weights:
        weights = (W_anchor + CT @ X).to("cpu", torch.float64).numpy()
        second = a0
    K_run = K_rounds  # the rounds this seed ran (after divergence its L_k stay NaN)
    return SeedRun(
        losses=losses[: K_run + 1],
        rounds_run=K_run,
        diverged_round=diverged_round,
        trace=None if trace is None else trace[:K_run],
        weights=weights,
        second_layer=second,
        flops=flops,
        dead=dead[: K_run + 1],
    )
