"""Compiled (numba) kernels of the partition tree on the weights: Init (build), Query (report
S_fire(x) = {r : <w_r, x> > b}) and Update, used by :mod:`.compiled`.

Layout of a tree of depth D on m rows: a complete binary tree in heap order (node i has
children 2i+1 and 2i+2), 2^D leaves (node 2^D - 1 + j is leaf j), leaf j holding the rows
perm[start[j]:start[j+1]] (sizes differ by at most 1).  ``Wp`` is a copy of W in leaf order
(Wp[p] = W[perm[p]]), so that a leaf's rows are read contiguously; ``pos`` is the inverse of
perm.  A node with centre c and radius rho satisfies ||w - c|| <= rho for its rows, so
max_{w in node} <w, x> <= <c, x> + rho and the node is pruned when <c, x> + rho (1 + margin)
<= b: exact, the final test <w_r, x> > b is done on the rows themselves.

Every kernel counts the inner products (or distances) of length d it evaluates.  The kernels
run single-threaded; ``cache=True`` stores the machine code beside this file, so only the
first process on a machine pays the compile time (:func:`warm_up` measures it).
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit


@njit(cache=True)
def _dot(A, i, v):
    """<A[i], v> as a loop over the coordinates."""
    s = 0.0
    for k in range(v.shape[0]):
        s += A[i, k] * v[k]
    return s


@njit(cache=True)
def _dist2(A, i, B, j):
    """||A[i] - B[j]||^2."""
    s = 0.0
    for k in range(A.shape[1]):
        t = A[i, k] - B[j, k]
        s += t * t
    return s


@njit(cache=True)
def depth(m, leaf_size):
    """D = ceil(log2(m / leaf_size)), at least 0."""
    D = 0
    while (leaf_size << D) < m:
        D += 1
    return D


@njit(cache=True)
def build(W, leaf_size):
    """Init: (perm, start, Wp, centre, rho, D, inner products).  Each node's rows are split
    at the median of their projection on the direction between two far-apart rows (found from
    the node's first row), by np.partition (linear time); then every node's centre is the mean
    of its rows and rho the largest distance of a row to it.  The rows are moved along with
    perm (Wp = W[perm] throughout), so that every pass reads memory in order."""
    m, d = W.shape
    D = depth(m, leaf_size)
    n_leaves = 1 << D
    start = (np.arange(n_leaves + 1) * m) // n_leaves
    perm = np.arange(m)
    Wp = W.copy()
    proj = np.empty(m)
    tmp = np.empty(m, dtype=np.int64)
    tmpW = np.empty((m, d))
    direction = np.empty(d)
    ip = 0
    for level in range(D):
        span = 1 << (D - level)
        for j in range(1 << level):
            lo, hi, mid = start[j * span], start[(j + 1) * span], start[j * span + span // 2]
            if mid <= lo or mid >= hi:
                continue
            far1, best = lo, -1.0
            for i in range(lo, hi):
                t = _dist2(Wp, i, Wp, lo)
                if t > best:
                    best, far1 = t, i
            far2, best = far1, -1.0
            for i in range(lo, hi):
                t = _dist2(Wp, i, Wp, far1)
                if t > best:
                    best, far2 = t, i
            for k in range(d):
                direction[k] = Wp[far2, k] - Wp[far1, k]
            for i in range(lo, hi):
                proj[i] = _dot(Wp, i, direction)
            ip += 3 * (hi - lo)
            kth = mid - lo
            val = np.partition(proj[lo:hi], kth)[kth]
            # rows with proj < val, then == val, then > val: the first kth go left
            a, c = lo, hi
            for i in range(lo, hi):
                if proj[i] < val:
                    tmp[a] = i
                    a += 1
                elif proj[i] > val:
                    c -= 1
                    tmp[c] = i
            for i in range(lo, hi):
                if proj[i] == val:
                    tmp[a] = i
                    a += 1
            for i in range(lo, hi):
                src = tmp[i]
                tmp[i] = perm[src]
                for k in range(d):
                    tmpW[i, k] = Wp[src, k]
            perm[lo:hi] = tmp[lo:hi]
            Wp[lo:hi] = tmpW[lo:hi]
    n_nodes = 2 * n_leaves - 1
    centre = np.zeros((n_nodes, d))
    rho = np.full(n_nodes, -np.inf)
    for level in range(D + 1):
        span = 1 << (D - level)
        for j in range(1 << level):
            node = (1 << level) - 1 + j
            lo, hi = start[j * span], start[(j + 1) * span]
            if hi <= lo:
                continue
            for i in range(lo, hi):
                for k in range(d):
                    centre[node, k] += Wp[i, k]
            for k in range(d):
                centre[node, k] /= hi - lo
            r2 = 0.0
            for i in range(lo, hi):
                r2 = max(r2, _dist2(Wp, i, centre, node))
            rho[node] = np.sqrt(r2)
            ip += 2 * (hi - lo)
    return perm, start, Wp, centre, rho, D, ip


@njit(cache=True)
def query(Wp, perm, start, centre, rho, D, x, b, margin, skip, out, stack):
    """Query: write the rows r with <w_r, x> > b found by pruned depth-first search into out
    (sorted) and return (their count, inner products).  Rows whose ``skip`` flag is set are
    left out (the static structure's changed rows)."""
    first_leaf = (1 << D) - 1
    n, ip, sp = 0, 0, 1
    stack[0] = 0
    while sp > 0:
        sp -= 1
        node = stack[sp]
        ip += 1
        if _dot(centre, node, x) + rho[node] * (1.0 + margin) <= b:
            continue
        if node >= first_leaf:
            leaf = node - first_leaf
            for p in range(start[leaf], start[leaf + 1]):
                if skip[p]:
                    continue
                ip += 1
                if _dot(Wp, p, x) > b:
                    out[n] = perm[p]
                    n += 1
        else:
            stack[sp] = 2 * node + 2
            stack[sp + 1] = 2 * node + 1
            sp += 2
    out[:n] = np.sort(out[:n])
    return n, ip


@njit(cache=True)
def grow(W, Wp, pos, start, centre, rho, D, rows):
    """Update of the dynamic tree: copy the changed rows into Wp and enlarge rho on each one's
    root-to-leaf path to cover it (rho <- max(rho, ||w_r - c||)).  Returns the distances
    evaluated."""
    first_leaf = (1 << D) - 1
    n_leaves = 1 << D
    m = W.shape[0]
    ip = 0
    for k in range(rows.shape[0]):
        r = rows[k]
        p = pos[r]
        for j in range(W.shape[1]):
            Wp[p, j] = W[r, j]
        # leaf j holds positions [start[j], start[j+1]); start[j] = (j m) // n_leaves
        leaf = (p * n_leaves) // m
        while start[leaf] > p:
            leaf -= 1
        while start[leaf + 1] <= p:
            leaf += 1
        node = first_leaf + leaf
        while True:
            t = np.sqrt(_dist2(W, r, centre, node))
            ip += 1
            if t > rho[node]:
                rho[node] = t
            if node == 0:
                break
            node = (node - 1) // 2
    return ip


@njit(cache=True)
def brute(W, rows, n_rows, x, b, out, n):
    """The rows among rows[:n_rows] with <w_r, x> > b, appended to out[n:]; returns the new
    count (the static structure's changed rows, checked one by one)."""
    for k in range(n_rows):
        r = rows[k]
        if _dot(W, r, x) > b:
            out[n] = r
            n += 1
    return n


def warm_up() -> float:
    """Compile (or load from the cache) every kernel on a tiny problem; returns the seconds it
    took, the compile time kept out of the per-step timings."""
    t0 = time.perf_counter()
    W = np.random.default_rng(0).standard_normal((64, 3))
    perm, start, Wp, centre, rho, D, _ = build(W, 4)
    pos = np.argsort(perm)
    out = np.empty(64, dtype=np.int64)
    stack = np.empty(2 * D + 2, dtype=np.int64)
    skip = np.zeros(64, dtype=np.bool_)
    x = np.array([1.0, 0.0, 0.0])
    query(Wp, perm, start, centre, rho, D, x, 0.5, 1e-9, skip, out, stack)
    grow(W, Wp, pos, start, centre, rho, D, np.arange(3))
    brute(W, np.arange(3), 3, x, 0.5, out, 0)
    return time.perf_counter() - t0
