"""Seed derivation: every random draw comes from a numpy Generator keyed by (seed, stream, ...).

All randomness is drawn with numpy on the host, in float64, and only then moved to the
compute device.  So a run's data, initialisation and masks depend on its seed alone, never on
how seeds are batched, on the thread count or on the device.
"""

from __future__ import annotations

import numpy as np

from maskedntk.core.validate import check_int

STREAM_DATA = 0
STREAM_INIT = 1
STREAM_MASK = 2


def generator(seed: int, *key: int) -> np.random.Generator:
    """A PCG64 generator for ``seed`` (checked: an integer >= 0) and the spawn key ``key``
    (stream id, then e.g. the round)."""
    return _pcg64(check_int("seed", seed, 0), key)


def _pcg64(seed: int, key: tuple) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=tuple(key))))


def init_generator(seed: int) -> np.random.Generator:
    """Generator for the initialisation (W_0, a) of run ``seed`` (validated by the engine's caller)."""
    return _pcg64(seed, (STREAM_INIT,))


def mask_generator(seed: int, round_index: int) -> np.random.Generator:
    """Generator for the mask M_k of global round ``round_index`` = k of run ``seed`` (validated
    by the engine's caller; drawn every round, so not re-checked)."""
    return _pcg64(seed, (STREAM_MASK, round_index))


def data_generator(seed: int) -> np.random.Generator:
    """Generator for a synthetic data set with data seed ``seed``."""
    return generator(seed, STREAM_DATA)
