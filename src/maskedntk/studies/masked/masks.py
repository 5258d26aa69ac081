"""Subnetwork masks M_k in {0,1}^{p x m} (Algorithm 1, line 3; docs/masked/mathematics.md sec. 2.1).

Row l of a mask is subnetwork l's neuron selection m_k^l.  Masks are drawn from the
generator of (seed, round) (see :mod:`maskedntk.studies.masked.rng`), so they do not depend on batching,
threads or device.
"""

from __future__ import annotations

import numpy as np

from maskedntk.core.validate import check_choice, check_float, check_int

from .rng import mask_generator


def bernoulli_masks(rng: np.random.Generator, p: int, m: int, xi: float) -> np.ndarray:
    """p x m boolean mask with i.i.d. Bernoulli(xi) entries (Theorem 3).

    Entry (l, r) is ``U_{l,r} < xi`` for U uniform on [0, 1), so xi = 1 selects every neuron.
    """
    p = check_int("p", p, 1)
    m = check_int("m", m, 1)
    xi = check_float("xi", xi, 0.0, 1.0, lo_open=True)
    return rng.random((p, m)) < xi


def categorical_masks(rng: np.random.Generator, p: int, m: int) -> np.ndarray:
    """p x m boolean mask in which every neuron r belongs to exactly one subnetwork,
    chosen uniformly among the p (Theorem 7: m_{k,r} ~ Categorical(1/p, ..., 1/p))."""
    p = check_int("p", p, 1)
    m = check_int("m", m, 1)
    owner = rng.integers(0, p, size=m)
    return owner[None, :] == np.arange(p)[:, None]


def sample_masks(kind: str, seed: int, round_index: int, p: int, m: int, xi: float | None) -> np.ndarray:
    """The mask M_k of global round k = ``round_index`` of run ``seed``."""
    check_choice("mask", kind, ("bernoulli", "categorical"))
    rng = mask_generator(seed, round_index)
    if kind == "bernoulli":
        return bernoulli_masks(rng, p, m, xi)
    return categorical_masks(rng, p, m)


def holder_counts(masks: np.ndarray) -> np.ndarray:
    """X_{k,r} = sum_l m_{k,r}^l: how many subnetworks hold neuron r (along the last-but-one axis)."""
    return masks.sum(axis=-2)
