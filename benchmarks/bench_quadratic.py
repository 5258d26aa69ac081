"""Benchmark of the quadratic study's engine: the Gram-matrix GD step (what the engine runs)
against the direct d x d form (2 (W W^T - M*) + tr(A) I) W, side by side in one run.

    python benchmarks/bench_quadratic.py            # 1 torch thread, 5 seeds batched

Prints ms per step and the ratio for the paper's cell sizes (m = d/2, m* = d/4 and d/2)."""

from __future__ import annotations

import time

import torch

from maskedntk.studies.quadratic.engine import population_grad
from maskedntk.studies.quadratic.problems import make_problem


def dense_grad(W, M):
    A = W @ W.transpose(-1, -2) - M
    tr = torch.diagonal(A, dim1=-2, dim2=-1).sum(-1)
    return 2.0 * A @ W + tr[:, None, None] * W


def per_step(fn, n) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e3


def main() -> None:
    torch.set_num_threads(1)
    print(f"{'d':>5} {'m':>5} {'m*':>5} {'gram ms':>9} {'dense ms':>9} {'dense/gram':>10}")
    for d in (40, 80, 200):
        for m, ms in ((d // 2, d // 4), (d // 2, d // 2)):
            p = make_problem("orthonormal", d, m, ms, range(5))
            W, V, M = p.W0, p.V, p.M_star
            assert torch.allclose(population_grad(W, V), dense_grad(W, M), atol=1e-12)
            n = 200 if d < 200 else 50
            g = per_step(lambda W=W, V=V: population_grad(W, V), n)
            s = per_step(lambda W=W, M=M: dense_grad(W, M), n)
            print(f"{d:>5} {m:>5} {ms:>5} {g:>9.3f} {s:>9.3f} {s / g:>10.2f}")


if __name__ == "__main__":
    main()
