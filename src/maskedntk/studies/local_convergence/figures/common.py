"""Helpers shared by the study's figures: loading inputs by key prefix, colours per width."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from maskedntk.core import figures as F

#: losses below this are float64 round-off of the closed form
FLOOR = 1e-16


def load(inputs: Mapping[str, str], prefix: str = "") -> pd.DataFrame:
    """Concatenate every input whose key starts with ``prefix``."""
    files = [f for k, f in sorted(inputs.items()) if k.startswith(prefix)]
    if not files:
        raise ValueError(f"figure inputs: none with key {prefix}*; got {sorted(inputs)}")
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def new(ncols: int = 1, height: float = 2.6, width: float | None = None):
    F.apply_style()
    w = width or (F.ONE_COLUMN if ncols == 1 else F.TWO_COLUMNS)
    fig, axes = plt.subplots(1, ncols, figsize=(w, height), layout="constrained")
    return fig, np.atleast_1d(axes)


def width_colours(ms) -> dict:
    ms = sorted(set(int(m) for m in ms))
    pal = F.palette(max(len(ms), 4))
    return {m: pal[i] for i, m in enumerate(ms)}


def width_label(m: int, r: int) -> str:
    return rf"$m = r = {m}$" if m == r else rf"$m = {m // r}r = {m}$"


def band(ax, x, df: pd.DataFrame, col: str, color, label: str, marker="o"):
    """Median over seeds with the interquartile range as a band."""
    g = df.groupby(x)[col]
    med, lo, hi = g.median(), g.quantile(0.25), g.quantile(0.75)
    ax.plot(med.index, med.values, marker=marker, ms=3, color=color, label=label)
    ax.fill_between(med.index, lo.values, hi.values, color=color, alpha=0.2, lw=0)


def save(fig, pdf, png, name):
    F.save(fig, pdf, png, name=name)
