"""Teachers M* = V V^T and initialisations W_0 for the two setups of the paper.

* ``orthonormal`` (the assumption of Prop. 5.1): V = U* / sqrt(m*), W_0 = U / sqrt(m) with
  U*, U independent, Haar-distributed d x m* and d x m matrices with orthonormal columns.  Then
  tr M* = tr W_0 W_0^T = 1 and M* = U* U*^T / m*.
* ``gaussian`` (Figs. 4-5): V and W_0 have i.i.d. N(0, 1/m*) and N(0, 1/m) entries,
  both further divided by sqrt(d) when ``normalize`` (then tr M* ~ tr W_0 W_0^T ~ 1, the scale of
  the orthonormal setup; Fig. 5 uses ``normalize = False``).

Determinism: the draws of seed s come from ``numpy.random.default_rng([base_seed, s, d, m, m*,
setup_code, purpose])`` (purpose 0: teacher, 1: initialisation), so a seed's problem does not
depend on which other seeds or cells are run.  With ``shared_teacher`` every seed uses the
teacher of seed ``base_seed`` (index 0) -- the paper's choice for the m = m* panel of Fig. 5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ...core.validate import check_choice, check_int
from .experiments import SETUPS

_SETUP_CODE = {"orthonormal": 1, "gaussian": 2}


def haar_orthonormal(rng: np.random.Generator, d: int, k: int) -> np.ndarray:
    """A d x k matrix with orthonormal columns, uniformly (Haar) distributed: QR of a Gaussian
    matrix with the signs of R's diagonal moved into Q."""
    g = rng.standard_normal((d, k))
    q, r = np.linalg.qr(g)
    return q * np.sign(np.diag(r))[None, :]


def factor(rng: np.random.Generator, setup: str, d: int, k: int, normalize: bool) -> np.ndarray:
    """The d x k factor of one network: U/sqrt(k) (orthonormal) or N(0, 1/k [1/d]) entries."""
    if setup == "orthonormal":
        return haar_orthonormal(rng, d, k) / np.sqrt(k)
    scale = 1.0 / np.sqrt(k) / (np.sqrt(d) if normalize else 1.0)
    return rng.standard_normal((d, k)) * scale


def seed_rng(base_seed: int, seed: int, setup: str, d: int, m: int, m_star: int, purpose: int) -> np.random.Generator:
    """The generator of one (seed, cell, purpose); see the module docstring."""
    return np.random.default_rng([int(base_seed), int(seed), d, m, m_star, _SETUP_CODE[setup], purpose])


@dataclass
class Problem:
    """A batch of S problems: teacher factors V (S, d, m*) and initial weights W0 (S, d, m)."""

    setup: str
    d: int
    m: int
    m_star: int
    seeds: tuple[int, ...]
    V: torch.Tensor
    W0: torch.Tensor

    @property
    def M_star(self) -> torch.Tensor:
        return self.V @ self.V.transpose(-1, -2)


def make_problem(
    setup: str,
    d: int,
    m: int,
    m_star: int,
    seeds: Sequence[int],
    *,
    base_seed: int = 0,
    normalize: bool = True,
    shared_teacher: bool = False,
) -> Problem:
    """Draw the teachers and initialisations of ``seeds`` (float64 tensors, stacked)."""
    setup = check_choice("setup", setup, SETUPS)
    d = check_int("d", d, 1)
    m = check_int("m", m, 1, d if setup == "orthonormal" else None)
    m_star = check_int("m_star", m_star, 1, d if setup == "orthonormal" else None)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds = (): must list at least one seed")
    Vs, Ws = [], []
    for s in seeds:
        t_seed = seeds[0] if shared_teacher else s
        Vs.append(factor(seed_rng(base_seed, t_seed, setup, d, m, m_star, 0), setup, d, m_star, normalize))
        Ws.append(factor(seed_rng(base_seed, s, setup, d, m, m_star, 1), setup, d, m, normalize))
    V = torch.from_numpy(np.stack(Vs)).to(torch.float64)
    W0 = torch.from_numpy(np.stack(Ws)).to(torch.float64)
    return Problem(setup, d, m, m_star, seeds, V, W0)
