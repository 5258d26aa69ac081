"""The tensor work of one global round of the masked engine (:mod:`maskedntk.studies.masked.engine`).

Several runs (seeds, and cells of the same shapes) are stacked: run j's pre-activations are
rows j m .. j m + m - 1 of one (R m, n) matrix Z^T = (X W^T)^T, neuron-major.  A *batch* is a
set of subnetworks of several runs computed together as one (P, M', n) tensor: subnetwork
row l holds the rows ``idx[l]`` of Z^T (the neurons it holds, padded to the batch's width M'
with weight 0; or all m neurons times its mask).  Every operation on a batch is row-wise or
batched over l, so a run's numbers do not depend on which runs share its batch beyond float
rounding (the width M' and the matrix sizes change the summation order inside the BLAS
kernels; see tests/masked/test_engine_batching.py for the measured agreement).
"""

from __future__ import annotations

import math

import numpy as np
import torch


class GramOperator:
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


class Workspace:
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


def distinct_rows(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(distinct rows in first-seen order, their multiplicities), or (masks, None) if all differ."""
    packed = np.packbits(masks, axis=1)
    first: dict[bytes, int] = {}
    count: dict[bytes, int] = {}
    for i, row in enumerate(packed):
        key = row.tobytes()
        first.setdefault(key, i)
        count[key] = count.get(key, 0) + 1
    if len(first) == masks.shape[0]:
        return masks, None
    return masks[list(first.values())], np.array(list(count.values()), dtype=np.float64)


def needed_width(masks: np.ndarray, kind: str) -> int:
    """Neurons per subnetwork row: the most any distinct row holds ('gather'), or m ('masked')."""
    return masks.shape[1] if kind == "masked" else max(int(masks.sum(axis=1).max()), 1)


def held_rows(masks: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(idx, counts): the rows of the stacked Z^T the subnetworks hold, subnetwork after
    subnetwork and in ascending order within one (``offset`` = j m for run j), and how many
    each holds (the ragged layout: no padding, no unheld neurons)."""
    return np.nonzero(masks)[1] + offset, masks.sum(axis=1)


def selection_rows(masks: np.ndarray, kind: str, width: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(idx, weight), both (p, width): the rows of the stacked Z^T each subnetwork computes
    (``offset`` = j m for run j) and 1 for a held neuron, 0 for a padding or unheld one.

    masked: all m neurons in order, weight = the mask; gather: the held neurons in ascending
    order, padded with the run's neuron 0 at weight 0."""
    p, m = masks.shape
    if kind == "masked":
        return np.broadcast_to(np.arange(m) + offset, (p, m)), masks
    counts = masks.sum(axis=1)
    order = np.argsort(~masks, axis=1, kind="stable")[:, :width]
    valid = np.arange(width)[None, :] < counts[:, None]
    return np.where(valid, order, 0) + offset, valid


def sq_norms(R: torch.Tensor) -> np.ndarray:
    """Squared Frobenius norm of R[b] for each leading index b, summed in float64 on the host."""
    r = R.detach().to("cpu", torch.float64).numpy().reshape(R.shape[0], -1)
    return np.einsum("ij,ij->i", r, r)


class LocalSteps:
    """tau GD steps of a batch of subnetworks on their surrogate losses, in pre-activation space.

    The elementwise passes as tensor operations (any device); :class:`FusedLocalSteps` runs
    them as compiled kernels on a CPU."""

    def __init__(self, YT: torch.Tensor, op: GramOperator, tau: int, grad0: float, ws: Workspace):
        self.YT, self.op, self.ws = YT, op, ws  # YT: (d_out, n)
        self.tau = tau
        self.grad0 = grad0  # sigma'(0)

    def run(
        self, Zs: torch.Tensor, am: torch.Tensor, am_step: torch.Tensor, want_trace: bool, off=None
    ) -> tuple[torch.Tensor, np.ndarray | None, float]:
        """Zs (P, M, n) is updated in place; am (P, M, d_out) holds s a_r m^l_r (divided by xi
        for the inverse-xi surrogate) and am_step = am times the subnetwork's eta (and 1/n for
        the mean loss).  (The ragged layout of :class:`FusedLocalSteps`: Zs (N, n), am and
        am_step (N, d_out), subnetwork l on the rows off[l] .. off[l+1] - 1.)  Returns (eta
        sum_t G_t shaped as Zs, the surrogate errors ||y - f_l||^2 at t = 0..tau as a
        (P, tau+1) array or None, the matmul flops of one neuron row over the tau steps)."""
        n, d_out = Zs.shape[-1], am.shape[-1]
        Gsum = self.ws.get("Gsum", *Zs.shape)
        G = self.ws.get("G", *Zs.shape)
        errs, flops = [], 0.0
        for t in range(self.tau):
            R = self._residual(Zs, am, off)  # f_l - y: (P, d_out, n)
            flops += 2.0 * n * d_out
            if want_trace:
                errs.append(sq_norms(R))
            update = t < self.tau - 1 or want_trace  # the last update of Z is only needed for the trace
            # eta G[l, r, i] = sigma'(z_ri) * sum_o am_step[l, r, o] (f_l - y)[o, i]; summed in Gsum
            target = self._gradient(Zs, am_step, R, off, G, Gsum, t == 0, update)
            flops += 2.0 * n * d_out if d_out > 1 else 0.0  # the G product
            if update:
                self.op.add_(Zs, target, -1.0)
                flops += self.op.flops_per_row
        if want_trace:
            errs.append(sq_norms(self._residual(Zs, am, off)))
            flops += 2.0 * n * d_out
        return Gsum, (np.stack(errs, axis=1) if want_trace else None), flops

    def _residual(self, Zs, am, off) -> torch.Tensor:
        """f_l(W^l, X) - y as (P, d_out, n), f_l = sum_r am_r relu(z_r)."""
        A = self.ws.get("A", *Zs.shape)
        torch.clamp_min(Zs, 0.0, out=A)
        return torch.bmm(am.transpose(1, 2), A) - self.YT

    def _gradient(self, Zs, am_step, R, off, G, Gsum, first: bool, update: bool) -> torch.Tensor:
        """G of this step into Gsum (``first``) or into G, added to Gsum; returns the one holding G."""
        D = self.ws.get("D", *Zs.shape)
        self._sigma_prime(Zs, D)
        target = Gsum if first else G
        if R.shape[1] == 1:
            torch.mul(am_step, R, out=target).mul_(D)
        else:
            torch.bmm(am_step, R, out=target).mul_(D)
        if not first:
            Gsum.add_(G)
        return target

    def _sigma_prime(self, Zs, D) -> None:
        """D = sigma'(Z) = 1{z > 0} + sigma'(0) 1{z = 0}: the paper's 1{z >= 0} for
        sigma'(0) = 1, autograd's / TensorFlow's 1{z > 0} for sigma'(0) = 0."""
        if self.grad0 == 1.0:
            torch.ge(Zs, 0.0, out=D)
        else:
            torch.gt(Zs, 0.0, out=D)
            if self.grad0 != 0.0:
                D.add_((Zs == 0).to(D.dtype), alpha=self.grad0)


class FusedLocalSteps(LocalSteps):
    """:class:`LocalSteps` on a ragged batch (no padding rows), with the forward and the
    gradient as one compiled pass each (:mod:`maskedntk.studies.masked.fused`); CPU only."""

    def _residual(self, Zs, am, off) -> torch.Tensor:
        from . import fused

        R = self.ws.get("R", off.shape[0] - 1, am.shape[1], Zs.shape[1])
        fused.residual(Zs.numpy(), am.numpy(), self.YT.numpy(), off, R.numpy())
        return R

    def _gradient(self, Zs, am_step, R, off, G, Gsum, first: bool, update: bool) -> torch.Tensor:
        from . import fused

        write_g = update and not first  # the first step's G goes straight into Gsum
        fused.gradient(Zs.numpy(), am_step.numpy(), R.numpy(), off, self.grad0, G.numpy(), Gsum.numpy(), first, write_g)
        return Gsum if first else G
