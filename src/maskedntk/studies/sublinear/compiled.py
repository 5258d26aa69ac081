"""Compiled active-set identifiers (numba kernels of :mod:`.kernels`), same interface and
counters as :mod:`.identifiers`:

* ``CompiledTreeIdentifier`` (``compiled_tree``): the dynamic partition tree of
  ``PartitionTreeIdentifier`` with its Init, Query and Update in compiled code.  An update of
  w_r enlarges the radii on its root-to-leaf path (D + 1 distances); no rebuild.
* ``CompiledStaticIdentifier`` (``compiled_static``): the paper's scheme with a *static*
  structure: Init builds the tree, Update marks the changed rows (they are checked one by one
  at every query, the tree skips them) and rebuilds the tree from scratch once more than
  ``rebuild_fraction * m`` rows have changed since the last build.  Its counters charge the
  rows changed since the last build their share of the next rebuild.

Both are exact: the tree bounds prune only nodes with no active row, and the final test
<w_r, x> > b is evaluated on the rows.  The test is a loop over the d coordinates while the
dense identifier uses BLAS, so the two could disagree only on a row with <w_r, x> within a
few roundings of b (the tests check bit-identical iterates).
"""

from __future__ import annotations

import time

import numpy as np

from . import kernels
from .identifiers import _MARGIN, Identifier


class CompiledTreeIdentifier(Identifier):
    """Dynamic partition tree, compiled: Query by pruned depth-first search, Update by radius
    growth on the changed rows' paths."""

    name = "compiled_tree"

    def __init__(self, b: float, leaf_size: int = 32):
        super().__init__(b)
        self.leaf_size = int(leaf_size)

    def build(self, W):
        t0 = time.perf_counter()
        m = W.shape[0]
        self.perm, self.start, self.Wp, self.centre, self.rho, self.D, ip = kernels.build(W, self.leaf_size)
        self.pos = np.empty(m, dtype=np.int64)
        self.pos[self.perm] = np.arange(m)
        self.skip = np.zeros(m, dtype=np.bool_)
        self.out = np.empty(m, dtype=np.int64)
        self.stack = np.empty(2 * self.D + 4, dtype=np.int64)
        self.ip_build += int(ip)
        self.t_build += time.perf_counter() - t0
        self.n_rebuilds += 1

    def _query(self, W, x):
        n, ip = kernels.query(
            self.Wp, self.perm, self.start, self.centre, self.rho, self.D, x, self.b, _MARGIN, self.skip, self.out,
            self.stack,
        )  # fmt: skip
        self.ip_query += int(ip)
        return self.out[:n].copy()

    def _update(self, W, rows):
        self.ip_update += int(
            kernels.grow(W, self.Wp, self.pos, self.start, self.centre, self.rho, self.D, np.asarray(rows, np.int64))
        )


class CompiledStaticIdentifier(CompiledTreeIdentifier):
    """Static partition tree, compiled: changed rows are checked one by one until more than
    ``rebuild_fraction * m`` of them have accumulated, then the tree is rebuilt."""

    name = "compiled_static"

    def __init__(self, b: float, leaf_size: int = 32, rebuild_fraction: float = 0.1):
        super().__init__(b, leaf_size)
        self.rebuild_fraction = float(rebuild_fraction)

    def build(self, W):
        super().build(W)
        self.dirty = np.empty(W.shape[0], dtype=np.int64)
        self.n_dirty = 0

    def _query(self, W, x):
        n, ip = kernels.query(
            self.Wp, self.perm, self.start, self.centre, self.rho, self.D, x, self.b, _MARGIN, self.skip, self.out,
            self.stack,
        )  # fmt: skip
        if self.n_dirty:
            n = kernels.brute(W, self.dirty, self.n_dirty, x, self.b, self.out, n)
            ip += self.n_dirty
            self.out[:n] = np.sort(self.out[:n])
        self.ip_query += int(ip)
        return self.out[:n].copy()

    def _owed(self) -> float:
        return self.n_dirty / (self.rebuild_fraction * self.dirty.size)

    def _update(self, W, rows):
        rows = np.asarray(rows, np.int64)
        p = self.pos[rows]
        new = rows[~self.skip[p]]
        self.skip[p] = True
        self.dirty[self.n_dirty : self.n_dirty + new.size] = new
        self.n_dirty += new.size
        if self.n_dirty > self.rebuild_fraction * W.shape[0]:
            self.build(W)
