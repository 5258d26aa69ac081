"""Argument checks that name the bad parameter and the allowed values.

Every public entry point of the package funnels user input through these helpers, so a
bad value always raises ``ValueError("<name> = <value>: <what is allowed>")``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable


def _fmt_interval(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    left = "(" if (lo_open or lo is None) else "["
    right = ")" if (hi_open or hi is None) else "]"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    return f"{left}{lo_s}, {hi_s}{right}"


def check_int(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an int in [lo, hi]; raise ValueError naming ``name`` otherwise."""
    allowed = f"an integer in {_fmt_interval(lo, hi, False, False)}"
    if isinstance(value, bool):
        raise ValueError(f"{name} = {value!r}: must be {allowed}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} = {value!r}: must be {allowed}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} = {value}: must be {allowed}")
    return value


def check_float(
    name: str,
    value,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the interval; raise ValueError naming ``name``."""
    allowed = f"a finite number in {_fmt_interval(lo, hi, lo_open, hi_open)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} = {value!r}: must be {allowed}")
    value = float(value)
    bad = not math.isfinite(value)
    if lo is not None:
        bad |= value <= lo if lo_open else value < lo
    if hi is not None:
        bad |= value >= hi if hi_open else value > hi
    if bad:
        raise ValueError(f"{name} = {value:g}: must be {allowed}")
    return value


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise ValueError listing them otherwise."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} = {value!r}: must be one of {', '.join(map(repr, choices))}")
    return value
