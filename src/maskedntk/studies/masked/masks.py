"""Subnetwork masks M_k in {0,1}^{p x m} (Algorithm 1, line 3; docs/masked/mathematics.md sec. 2.1).

Row l of a mask is subnetwork l's neuron selection m_k^l.  Masks are drawn from the
generator of (seed, round) (see :mod:`maskedntk.studies.masked.rng`), so they do not depend on batching,
threads or device.

The arguments are trusted: they are a validated :class:`~maskedntk.studies.masked.spec.TrainSpec`'s
(mask, p, m, xi) and a seed the caller validated; these functions run once per round.
"""

from __future__ import annotations

import numpy as np

from .rng import mask_generator


def bernoulli_masks(rng: np.random.Generator, p: int, m: int, xi: float) -> np.ndarray:
    """p x m boolean mask with i.i.d. Bernoulli(xi) entries (Theorem 3).

    Entry (l, r) is ``U_{l,r} < xi`` for U uniform on [0, 1), so xi = 1 selects every neuron.
    """
    return rng.random((p, m)) < xi


def categorical_masks(rng: np.random.Generator, p: int, m: int) -> np.ndarray:
    """p x m boolean mask in which every neuron r belongs to exactly one subnetwork,
    chosen uniformly among the p (Theorem 7: m_{k,r} ~ Categorical(1/p, ..., 1/p))."""
    owner = rng.integers(0, p, size=m)
    return owner[None, :] == np.arange(p)[:, None]


def sample_masks(kind: str, seed: int, round_index: int, p: int, m: int, xi: float | None) -> np.ndarray:
    """The mask M_k of global round k = ``round_index`` of run ``seed``."""
    rng = mask_generator(seed, round_index)
    if kind == "bernoulli":
        return bernoulli_masks(rng, p, m, xi)
    return categorical_masks(rng, p, m)


def holder_counts(masks: np.ndarray) -> np.ndarray:
    """X_{k,r} = sum_l m_{k,r}^l: how many subnetworks hold neuron r (along the last-but-one axis)."""
    return masks.sum(axis=-2)
