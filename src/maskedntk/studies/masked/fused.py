"""Compiled (numba) elementwise passes of the masked engine on a CPU.

The local steps of :class:`maskedntk.studies.masked.kernels.LocalSteps` are, per step t and
subnetwork row l of a batch (Z: (P, M, n) pre-activations, neuron-major),

    f_l - y = sum_r am[l, r] relu(Z[l, r, :]) - y                      (forward)
    G[l, r, i] = (sum_o am_step[l, r, o] (f_l - y)[o, i]) sigma'(Z[l, r, i])   (gradient)
    Gsum += G;   Z <- Z - G K                                           (GEMM, BLAS)

Here a batch is ragged: subnetwork l's held neurons are the rows off[l] .. off[l+1] - 1 of
one (N, n) array, without the padding that makes the tensor operations' (P, M', n) batch
rectangular.

Written as separate tensor operations, the forward and the gradient read and write the
(P, M, n) arrays about fifteen times per step (clamp, batched product, compare, outer
product, mask, sum); here each is one pass: :func:`residual` reads Z once, :func:`gradient`
reads Z and Gsum and writes G and Gsum.  :func:`tracked` is the round's tracked output and
dead-neuron count in one pass over Z^T.  The arithmetic is the tensor operations' (the same
products, sums and sigma'(0) convention), except that the sums over neurons r run in index
order instead of the BLAS kernel's order (float reassociation).

The kernels run single-threaded (the workflow runs one thread per job); ``cache=True`` keeps
the machine code beside this file, so only the first process on a machine compiles them.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def residual(Z, am, YT, off, R):
    """R[l] = f_l - y as (d_out, n): R[l, o, i] = sum_r am[r, o] relu(Z[r, i]) - YT[o, i], the
    sum over the rows r = off[l] .. off[l+1] - 1 of subnetwork l (Z: (N, n), am: (N, d_out))."""
    n = Z.shape[1]
    d_out = am.shape[1]
    zero = Z.dtype.type(0)
    for sub in range(off.shape[0] - 1):
        for o in range(d_out):
            for i in range(n):
                R[sub, o, i] = -YT[o, i]
            for r in range(off[sub], off[sub + 1]):
                c = am[r, o]
                for i in range(n):
                    z = Z[r, i]
                    R[sub, o, i] += c * (zero if z < zero else z)


@njit(cache=True, nogil=True)
def gradient(Z, am_step, R, off, grad0, G, Gsum, first, write_g):
    """G[r, i] = (sum_o am_step[r, o] R[l, o, i]) * sigma'(Z[r, i]) for the rows r of subnetwork l
    (off[l] <= r < off[l+1]), with sigma'(z) = 1 for z > 0, ``grad0`` for z = 0, 0 otherwise;
    Gsum = G (``first``) or Gsum + G.  G is written only when ``write_g`` (the last step's G
    is needed only in Gsum)."""
    n = Z.shape[1]
    d_out = R.shape[1]
    zero = Z.dtype.type(0)
    one = Z.dtype.type(1)
    g0 = Z.dtype.type(grad0)
    row = np.empty(n, dtype=Z.dtype)
    for sub in range(off.shape[0] - 1):
        for r in range(off[sub], off[sub + 1]):
            c = am_step[r, 0]
            for i in range(n):
                row[i] = c * R[sub, 0, i]
            for o in range(1, d_out):
                c = am_step[r, o]
                for i in range(n):
                    row[i] += c * R[sub, o, i]
            for i in range(n):
                z = Z[r, i]
                row[i] *= one if z > zero else (g0 if z == zero else zero)
            if write_g:
                for i in range(n):
                    G[r, i] = row[i]
            if first:
                for i in range(n):
                    Gsum[r, i] = row[i]
            else:
                for i in range(n):
                    Gsum[r, i] += row[i]


@njit(cache=True, nogil=True)
def tracked(ZT, a, scale, U, dead):
    """U[j] = scale[j] sum_r a[j, r, :] relu(ZT[j, r, :]) as (d_out, n), and dead[j] = the number
    of neurons r with max_i ZT[j, r, i] <= 0 (inactive on every sample), for every run j."""
    R, m, n = ZT.shape
    d_out = a.shape[2]
    zero = ZT.dtype.type(0)
    for j in range(R):
        for o in range(d_out):
            for i in range(n):
                U[j, o, i] = zero
        count = 0
        for r in range(m):
            top = ZT[j, r, 0]
            for i in range(1, n):
                z = ZT[j, r, i]
                top = z if z > top or z != z else top
            if top <= zero:
                count += 1
            for o in range(d_out):
                c = a[j, r, o]
                for i in range(n):
                    z = ZT[j, r, i]
                    U[j, o, i] += c * (zero if z < zero else z)
        for o in range(d_out):
            for i in range(n):
                U[j, o, i] *= scale[j]
        dead[j] = count
