"""Active-set identifiers: given the weights W (m x d) and a unit input x, report
S_fire(x) = {r : <w_r, x> > b} exactly.

Every identifier implements ``build(W)``, ``query(W, x) -> sorted int64 indices``,
``query_batch(W, X) -> one such array per row of X`` and ``update(W, rows)`` (rows of W
changed in place) and counts, separately for the three phases,
the inner products of length d it evaluated (``ip_*``) and the wall time (``t_*``, seconds).
The final membership test of every identifier is ``W[C] @ x > b`` on its candidate set C, so
every identifier returns the same set as the dense one up to a tie within one rounding of b.

* ``DenseIdentifier``: all m inner products (one BLAS matrix-vector product; for a
  mini-batch one matrix product).
* ``BallTreeIdentifier``: scikit-learn's exact ``BallTree.query_radius`` on the weights.
  With ||x|| = 1, <w, x> > b iff ||w - x||^2 < ||w||^2 + 1 - 2b, so for rows of norm at most
  n_hi a ball of radius sqrt(n_hi^2 + 1 - 2b) around x holds every active row; the rows are
  split into norm shells (one tree each), rows of norm <= b are never candidates, and the
  final check is exact.  The trees are static; rows changed since the last build are kept in
  a "dirty" set checked by brute force and the trees are rebuilt when the dirty set exceeds
  ``rebuild_fraction * m`` rows.
* ``PartitionTreeIdentifier``: the paper's Init / Query / Update scheme with the half-space
  reporting structure replaced by a dynamic ball (partition) tree built on the weights.  A
  node with centre c and radius rho bounds max_{w in node} <w, x> <= <c, x> + rho, so it is
  pruned when <c, x> + rho <= b: exact.  An update of w_r only enlarges the radii on its
  root-to-leaf path (rho <- max(rho, ||w_r - c||)); the bound stays valid without a rebuild.
  Its query and update are interpreted (numpy calls per tree level); :mod:`.compiled` has the
  same tree in compiled code.
"""

from __future__ import annotations

import math
import time

import numpy as np

#: relative safety margin on the tree bounds (covers rounding in the bound computations; the
#: final test W[C] @ x > b is the exact one)
_MARGIN = 1e-9

#: the interpreted identifiers (this module) and the compiled ones (:mod:`.compiled`)
IDENTIFIERS = ("dense", "balltree", "partition_tree", "compiled_tree", "compiled_static")


class Identifier:
    """Base class: counters and the shared exact final check."""

    name = "base"

    def __init__(self, b: float):
        self.b = float(b)
        self.reset_counters()

    def reset_counters(self) -> None:
        self.ip_build = 0
        self.ip_query = 0
        self.ip_update = 0
        self.t_build = 0.0
        self.t_query = 0.0
        self.t_update = 0.0
        self.n_queries = 0
        self.n_rebuilds = 0
        self.ip_init = 0
        self.t_init = 0.0
        #: wall time of every query / update call (seconds), for medians robust to preemption
        self.query_times: list[float] = []
        self.update_times: list[float] = []

    def mark_init(self) -> None:
        """Record the cost so far as the one-time initial build (Init); later builds are
        rebuilds, a recurring cost."""
        self.ip_init = self.ip_build
        self.t_init = self.t_build

    def _owed(self) -> float:
        """The fraction of the next rebuild that the rows changed since the last build have
        used up (0 for identifiers that never rebuild)."""
        return 0.0

    def counters(self) -> dict:
        """Totals, plus ``ip_rebuild`` / ``t_rebuild``: the rebuilds done after the initial
        build, and the share of the next one owed by the rows changed since the last build
        (at the mean cost of a build), so that a run shorter than one rebuild interval is
        still charged for its rebuilds."""
        n = max(1, self.n_rebuilds)
        owed = self._owed()
        return {
            "ip_build": int(self.ip_build),
            "ip_query": int(self.ip_query),
            "ip_update": int(self.ip_update),
            "t_build": float(self.t_build),
            "t_query": float(self.t_query),
            "t_update": float(self.t_update),
            "n_queries": int(self.n_queries),
            "n_rebuilds": int(self.n_rebuilds),
            "ip_init": int(self.ip_init),
            "t_init": float(self.t_init),
            "ip_rebuild": int(self.ip_build - self.ip_init + owed * self.ip_build / n),
            "t_rebuild": float(self.t_build - self.t_init + owed * self.t_build / n),
            "t_query_median": float(np.median(self.query_times)) if self.query_times else 0.0,
            "t_update_median": float(np.median(self.update_times)) if self.update_times else 0.0,
        }

    def query(self, W: np.ndarray, x: np.ndarray) -> np.ndarray:
        """S_fire(x) as sorted int64 indices (timed as one call)."""
        t0 = time.perf_counter()
        out = self._query(W, x)
        self._timed_query(t0, 1)
        return out

    def query_batch(self, W: np.ndarray, X: np.ndarray) -> list[np.ndarray]:
        """[S_fire(x_i) for the rows x_i of X] (one mini-batch, timed as one call)."""
        t0 = time.perf_counter()
        out = self._query_batch(W, X)
        self._timed_query(t0, X.shape[0])
        return out

    def update(self, W: np.ndarray, rows: np.ndarray) -> None:
        """Rows ``rows`` of W changed in place.  A rebuild it triggers is timed as a build."""
        t_build, t0 = self.t_build, time.perf_counter()
        self._update(W, rows)
        dt = time.perf_counter() - t0 - (self.t_build - t_build)
        self.t_update += dt
        self.update_times.append(dt)

    def _timed_query(self, t0: float, n: int) -> None:
        dt = time.perf_counter() - t0
        self.t_query += dt
        self.query_times.append(dt)
        self.n_queries += n

    def _query_batch(self, W: np.ndarray, X: np.ndarray) -> list[np.ndarray]:
        return [self._query(W, x) for x in X]

    def _check(self, W: np.ndarray, x: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """The exact final test on candidates: sorted cand[W[cand] @ x > b]."""
        cand = np.sort(cand)
        self.ip_query += cand.size
        z = W[cand] @ x
        return cand[z > self.b]

    # what each identifier implements --------------------------------------------------
    def build(self, W: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _query(self, W: np.ndarray, x: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _update(self, W: np.ndarray, rows: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError


class DenseIdentifier(Identifier):
    """All m inner products <w_r, x>, then the threshold."""

    name = "dense"

    def build(self, W):
        pass

    def _query(self, W, x):
        self.ip_query += W.shape[0]
        return np.flatnonzero(W @ x > self.b)

    def _query_batch(self, W, X):
        """One matrix product X W^T (B x m), then the threshold row by row."""
        self.ip_query += W.shape[0] * X.shape[0]
        Z = X @ W.T
        return [np.flatnonzero(z > self.b) for z in Z]

    def _update(self, W, rows):
        pass


class BallTreeIdentifier(Identifier):
    """scikit-learn BallTree exact radius queries on the weights, one tree per norm shell.

    For ||x|| = 1, <w, x> > b iff ||w - x||^2 < ||w||^2 + 1 - 2b.  The rows are split into
    ``n_shells`` shells by norm; a shell whose rows have ||w|| <= n_hi is queried with radius
    sqrt(n_hi^2 + 1 - 2b) (a superset of its active rows; the final check is exact), and a
    shell with n_hi <= b is skipped (||w|| <= b cannot fire).  Rows changed since the last
    build are "dirty" and checked by brute force; the trees are rebuilt when more than
    ``rebuild_fraction * m`` rows are dirty."""

    name = "balltree"

    def __init__(self, b: float, leaf_size: int = 32, rebuild_fraction: float = 0.1, n_shells: int = 8):
        super().__init__(b)
        self.leaf_size = int(leaf_size)
        self.rebuild_fraction = float(rebuild_fraction)
        self.n_shells = int(n_shells)

    def build(self, W):
        from sklearn.neighbors import BallTree

        t0 = time.perf_counter()
        m = W.shape[0]
        norms = np.sqrt(np.einsum("ij,ij->i", W, W))
        order = np.argsort(norms, kind="stable")
        self.shells = []
        for rows in np.array_split(order, self.n_shells):
            if rows.size == 0:
                continue
            n_hi = float(norms[rows].max())
            r2 = n_hi * n_hi + 1.0 - 2.0 * self.b
            if n_hi <= self.b or r2 <= 0.0:
                continue  # no row of this shell can fire
            tree = BallTree(W[rows], leaf_size=self.leaf_size)
            self.shells.append((rows, tree, math.sqrt(r2) * (1.0 + _MARGIN)))
        self.dirty = np.zeros(m, dtype=bool)
        self.n_dirty = 0
        # construction: a norm per row plus ~ one distance per row per tree level
        self.ip_build += m * (1 + max(1, math.ceil(math.log2(max(2, m / (self.leaf_size * self.n_shells))))))
        self.t_build += time.perf_counter() - t0
        self.n_rebuilds += 1

    def _query(self, W, x):
        q = x[None, :]
        parts = []
        for rows, tree, radius in self.shells:
            tree.reset_n_calls()
            hit = tree.query_radius(q, r=radius)[0]
            self.ip_query += int(tree.get_n_calls())
            parts.append(rows[hit])
        cand = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        if self.n_dirty:
            cand = cand[~self.dirty[cand]]
            cand = np.concatenate([cand, np.flatnonzero(self.dirty)])
        return self._check(W, x, cand)

    def _owed(self) -> float:
        return self.n_dirty / (self.rebuild_fraction * self.dirty.size)

    def _update(self, W, rows):
        rows = np.asarray(rows)
        new = ~self.dirty[rows]
        self.dirty[rows] = True
        self.n_dirty += int(new.sum())
        if self.n_dirty > self.rebuild_fraction * W.shape[0]:
            self.build(W)


class PartitionTreeIdentifier(Identifier):
    """Dynamic ball (partition) tree on the weights: Init (build), Query (prune by
    <c, x> + rho <= b), Update (enlarge radii on the changed rows' root-to-leaf paths).

    Layout (built by :func:`.kernels.build`): a complete binary tree of depth D in heap order
    (node i has children 2i+1, 2i+2), 2^D leaves, leaf j holding the rows
    perm[start_j:start_j+1] (sizes differ by at most 1).  Splits project a node's rows on the
    direction between two far-apart rows and cut at the median (the classic ball-tree
    construction)."""

    name = "partition_tree"

    def __init__(self, b: float, leaf_size: int = 32, seed: int = 0):
        super().__init__(b)
        self.leaf_size = int(leaf_size)
        self.seed = int(seed)

    def build(self, W):
        """Init by the compiled kernel :func:`.kernels.build` (the same tree as the compiled
        identifiers'); query and update below are interpreted."""
        from . import kernels

        t0 = time.perf_counter()
        m = W.shape[0]
        perm, starts, _, self.centre, self.rho, D, ip = kernels.build(W, self.leaf_size)
        self.D = D
        self.perm = perm
        self.leaf_start = starts[:-1]
        self.leaf_len = np.diff(starts)
        leaf_of = np.repeat(np.arange(2**D), self.leaf_len)
        self.leaf_of = np.empty(m, dtype=np.int64)
        self.leaf_of[perm] = leaf_of
        # heap index of the level-l ancestor of leaf j: (2^l - 1) + (j >> (D - l))
        self.path = np.stack([(2**lv - 1) + (self.leaf_of >> (D - lv)) for lv in range(D + 1)], axis=1)
        self.ip_build += int(ip)
        self.t_build += time.perf_counter() - t0
        self.n_rebuilds += 1

    def _query(self, W, x):
        b = self.b
        frontier = np.zeros(1, dtype=np.int64)
        ip = 0
        for _level in range(self.D):
            s = self.centre[frontier] @ x + self.rho[frontier] * (1.0 + _MARGIN)
            ip += frontier.size
            keep = frontier[s > b]
            if keep.size == 0:
                frontier = keep
                break
            frontier = np.concatenate([2 * keep + 1, 2 * keep + 2])
        if frontier.size and self.D >= 0:
            s = self.centre[frontier] @ x + self.rho[frontier] * (1.0 + _MARGIN)
            ip += frontier.size
            frontier = frontier[s > b]
        self.ip_query += ip
        leaves = frontier - (2**self.D - 1)
        lens = self.leaf_len[leaves]
        total = int(lens.sum())
        if total:
            offsets = np.repeat(self.leaf_start[leaves] - np.cumsum(lens) + lens, lens)
            cand = self.perm[offsets + np.arange(total)]
        else:
            cand = np.zeros(0, dtype=np.int64)
        return self._check(W, x, cand)

    def _update(self, W, rows):
        rows = np.asarray(rows)
        if rows.size:
            nodes = self.path[rows]  # (k, D+1)
            diff = W[rows][:, None, :] - self.centre[nodes]
            dist = np.sqrt(np.einsum("kld,kld->kl", diff, diff))
            self.ip_update += int(dist.size)
            np.maximum.at(self.rho, nodes.ravel(), dist.ravel())


def make_identifier(
    name: str, b: float, *, leaf_size: int = 32, rebuild_fraction: float = 0.1, n_shells: int = 8, seed: int = 0
):
    """Construct an identifier by name (one of IDENTIFIERS)."""
    if name in ("compiled_tree", "compiled_static"):
        from .compiled import CompiledStaticIdentifier, CompiledTreeIdentifier

        if name == "compiled_tree":
            return CompiledTreeIdentifier(b, leaf_size=leaf_size)
        return CompiledStaticIdentifier(b, leaf_size=leaf_size, rebuild_fraction=rebuild_fraction)
    if name == "dense":
        return DenseIdentifier(b)
    if name == "balltree":
        return BallTreeIdentifier(b, leaf_size=leaf_size, rebuild_fraction=rebuild_fraction, n_shells=n_shells)
    if name == "partition_tree":
        return PartitionTreeIdentifier(b, leaf_size=leaf_size, seed=seed)
    raise ValueError(f"identifier must be one of {IDENTIFIERS}, got {name!r}")
