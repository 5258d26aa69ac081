"""Online SGD on the shifted-ReLU two-layer network, touching only the active neurons.

Model (notation of arXiv 2110.04622 / 2307.06565):

    f(W, x, a) = m^{-1/2} sum_r a_r sigma_b(<w_r, x>),   sigma_b(z) = max(z - b, 0),

W = (w_1, ..., w_m)^T in R^{m x d} trained, a in {-1, +1}^m fixed, ||x|| = 1.  One step on a
fresh sample (x_t, y_t) with loss l = (f - y)^2 / 2:

    S_t = S_fire(x_t) = {r : <w_r, x_t> > b}                  (the identifier's query)
    f_t = m^{-1/2} sum_{r in S_t} a_r (<w_r, x_t> - b)
    w_r <- w_r - eta (f_t - y_t) m^{-1/2} a_r x_t,   r in S_t  (all other rows unchanged)

because d l / d w_r = (f - y) m^{-1/2} a_r 1[<w_r, x> > b] x.  The engine recomputes
<w_r, x_t> for r in S_t itself (``W[S] @ x``), so two identifiers that report the same S_t give
bit-identical iterates.  Everything is float64.

Randomness (``numpy.random.default_rng`` with a list seed): weights from [seed, 1, m, d],
signs a from [seed, 2, m, d], the target's directions from [seed, 3, d], the training stream
from [seed, 4, d, stream] and the test set from [seed, 5, d]; so the weights do not depend on
the target, and the sample stream does not depend on m or on the identifier.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .identifiers import Identifier


@dataclass
class Network:
    """W (m x d), a (m,), threshold b."""

    W: np.ndarray
    a: np.ndarray
    b: float

    @property
    def m(self) -> int:
        return self.W.shape[0]

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Dense batch output f(W, x_i, a) for the rows of X (n x d)."""
        Z = X @ self.W.T
        return (np.maximum(Z - self.b, 0.0) @ self.a) / math.sqrt(self.m)

    def active_counts(self, X: np.ndarray) -> np.ndarray:
        """|S_fire(x_i)| for the rows of X (dense)."""
        return (X @ self.W.T > self.b).sum(axis=1)


def init_network(m: int, d: int, b: float, seed: int) -> Network:
    """w_r ~ N(0, I_d), a_r uniform on {-1, +1}, independent of everything else."""
    W = np.random.default_rng([seed, 1, m, d]).standard_normal((m, d))
    a = np.random.default_rng([seed, 2, m, d]).choice(np.array([-1.0, 1.0]), size=m)
    return Network(W=W, a=a, b=float(b))


def sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """n points uniform on the unit sphere S^{d-1}."""
    X = rng.standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@dataclass
class PolynomialTarget:
    """F*(x) = M * sum_j c_j (<beta_j, x>)^{k_j}, ||beta_j|| = 1, sum_j |c_j| = 1.

    The coefficient norm of F* is M (the reconstructed target class of 2307.06565: a
    polynomial in projections of x, scaled so that its coefficient norm is M)."""

    M: float
    betas: np.ndarray  # (J, d)
    coefs: np.ndarray  # (J,)
    degrees: np.ndarray  # (J,)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        P = X @ self.betas.T
        return self.M * ((P ** self.degrees[None, :]) @ self.coefs)


def make_target(d: int, M: float, degrees=(1, 2, 3), seed: int = 0) -> PolynomialTarget:
    rng = np.random.default_rng([seed, 3, d])
    degrees = np.asarray(degrees, dtype=np.int64)
    betas = sphere(rng, len(degrees), d)
    signs = rng.choice(np.array([-1.0, 1.0]), size=len(degrees))
    coefs = signs / len(degrees)
    return PolynomialTarget(M=float(M), betas=betas, coefs=coefs, degrees=degrees)


def sgd_step(net: Network, identifier: Identifier, x: np.ndarray, y: float, eta: float) -> np.ndarray:
    """One SGD step on (x, y) in place, touching only S = identifier.query(W, x); returns S."""
    W, a, b = net.W, net.a, net.b
    inv_sqrt_m = 1.0 / math.sqrt(W.shape[0])
    S = identifier.query(W, x)
    z = W[S] @ x
    aS = a[S]
    f = float(aS @ (z - b)) * inv_sqrt_m
    g = (f - y) * inv_sqrt_m
    W[S] -= (eta * g) * (aS[:, None] * x[None, :])
    identifier.update(W, S)
    return S


def sgd_batch_step(net: Network, identifier: Identifier, X: np.ndarray, Y: np.ndarray, eta: float) -> list:
    """One mini-batch SGD step on the B rows of (X, Y) in place (loss averaged over the batch):
    S_i = identifier's S_fire(x_i), all f_i from the W before the step, then

        w_r <- w_r - (eta / B) sum_{i : r in S_i} (f_i - y_i) m^{-1/2} a_r x_i,

    applied sample by sample in the order of the batch (so identical sets give identical
    iterates).  Returns [S_1, ..., S_B]."""
    W, a, b = net.W, net.a, net.b
    B = X.shape[0]
    inv_sqrt_m = 1.0 / math.sqrt(W.shape[0])
    sets = identifier.query_batch(W, X)
    g = [(float(a[S] @ (W[S] @ x - b)) * inv_sqrt_m - y) * inv_sqrt_m for S, x, y in zip(sets, X, Y, strict=True)]
    for S, x, gi in zip(sets, X, g, strict=True):
        W[S] -= (eta * gi / B) * (a[S][:, None] * x[None, :])
    rows = np.sort(np.concatenate(sets))
    identifier.update(W, rows[np.concatenate(([True], rows[1:] != rows[:-1]))])  # the union of the S_i
    return sets


@dataclass
class StepLog:
    """Per-step records of a run (only filled when asked for)."""

    active: list = field(default_factory=list)
    sets: list = field(default_factory=list)


def sgd(
    net: Network,
    identifier: Identifier,
    target,
    *,
    steps: int,
    eta: float,
    seed: int,
    stream: int = 0,
    batch: int = 1,
    X_test: np.ndarray | None = None,
    checkpoints=(),
    keep_sets: bool = False,
    on_checkpoint=None,
) -> StepLog:
    """Run ``steps`` SGD steps in place on ``net`` with the given identifier: online (one fresh
    sample per step) for ``batch == 1``, else mini-batches of ``batch`` fresh samples
    (:func:`sgd_batch_step`; ``active`` then logs the mean of |S_i| over the batch).

    ``on_checkpoint(t, net)`` is called before step 0 when 0 is in ``checkpoints`` and after
    step t for every t in ``checkpoints``.  The training stream depends only on (seed, d,
    stream), so runs with different identifiers see the same samples."""
    m, d = net.W.shape
    rng = np.random.default_rng([seed, 4, d, stream])
    xs = sphere(rng, steps * batch, d)
    ys = target(xs)
    log = StepLog()
    cps = set(int(c) for c in checkpoints)
    identifier.build(net.W)
    identifier.mark_init()
    if on_checkpoint is not None and 0 in cps:
        on_checkpoint(0, net)
    for t in range(steps):
        if batch == 1:
            S = sgd_step(net, identifier, xs[t], float(ys[t]), eta)
            log.active.append(int(S.size))
        else:
            sl = slice(t * batch, (t + 1) * batch)
            S = sgd_batch_step(net, identifier, xs[sl], ys[sl], eta)
            log.active.append(float(np.mean([s.size for s in S])))
        if keep_sets:
            log.sets.append(S.copy() if batch == 1 else [s.copy() for s in S])
        if on_checkpoint is not None and (t + 1) in cps:
            on_checkpoint(t + 1, net)
    return log


def sgd_reference(W0, a, b, xs, ys, eta):
    """Slow independent reference: plain-loop full-width SGD (every neuron's gradient computed
    with its indicator), one sample at a time.  Returns the final W."""
    W = np.array(W0, dtype=np.float64, copy=True)
    m = W.shape[0]
    for x, y in zip(xs, ys, strict=True):
        f = 0.0
        pre = [float(sum(W[r, i] * x[i] for i in range(len(x)))) for r in range(m)]
        for r in range(m):
            f += a[r] * max(pre[r] - b, 0.0)
        f /= math.sqrt(m)
        for r in range(m):
            if pre[r] > b:
                W[r] -= eta * (f - y) / math.sqrt(m) * a[r] * x
    return W


def timed(fn, *args, **kw):
    """(result, seconds)."""
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0
