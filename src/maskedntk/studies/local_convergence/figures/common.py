"""Helpers shared by the study's figures: loading inputs by key prefix, colours, the float64 floor."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from maskedntk.core import figures as F

#: losses below this are at float64 round-off of the closed form (cancellation in c^T K c)
FLOOR = 1e-16


def load(inputs: Mapping[str, str], prefix: str, suffix: str = "") -> pd.DataFrame:
    """Concatenate every input whose key starts with ``prefix`` and ends with ``suffix``."""
    files = [f for k, f in sorted(inputs.items()) if k.startswith(prefix) and k.endswith(suffix)]
    if not files:
        raise ValueError(f"figure inputs: none with key {prefix}*{suffix}; got {sorted(inputs)}")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def ratio_colours(ratios) -> dict:
    pal = F.palette(max(len(ratios), 4))
    return {r: pal[i] for i, r in enumerate(sorted(ratios))}


def clip(x):
    return np.maximum(np.asarray(x, dtype=float), FLOOR)


def ratio_label(r: int) -> str:
    return r"$m = m^*$" if r == 1 else rf"$m = {r}m^*$"


def median_curve(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    g = df.groupby(x)[y]
    return pd.DataFrame(
        {x: g.median().index, "med": g.median().values, "lo": g.quantile(0.25).values, "hi": g.quantile(0.75).values}
    )
