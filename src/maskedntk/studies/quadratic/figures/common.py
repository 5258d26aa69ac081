"""Helpers shared by the figures: seed means and bands, regime labels, the d colours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskedntk.core import figures as style

REGIME_SYMBOL = {"over": r"$\alpha > \alpha^*$", "equal": r"$\alpha = \alpha^*$", "under": r"$\alpha < \alpha^*$"}


def regime_title(letter: str, regime: str, alpha: float, alpha_star: float) -> str:
    return f"({letter}) {REGIME_SYMBOL[regime]}:  $\\alpha$ = {alpha:g}, $\\alpha^*$ = {alpha_star:g}"


def seed_summary(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """mean, min and max of ``y`` over seeds at each ``x``."""
    g = df.groupby(x)[y]
    return pd.DataFrame({"mean": g.mean(), "lo": g.min(), "hi": g.max()}).reset_index()


def d_colours(dims) -> dict:
    cols = style.palette(len(dims) + 1)
    return {d: cols[i] for i, d in enumerate(dims)}


def plot_seeds(ax, df: pd.DataFrame, x: str, y: str, colour, label: str, band: bool = True, transform=None):
    s = seed_summary(df, x, y)
    xs = s[x].to_numpy()
    mean, lo, hi = (s[c].to_numpy() for c in ("mean", "lo", "hi"))
    if transform is not None:
        mean, lo, hi = transform(xs, mean), transform(xs, lo), transform(xs, hi)
    ax.plot(xs, mean, color=colour, label=label, lw=1.1)
    if band:
        ax.fill_between(xs, lo, hi, color=colour, alpha=0.18, lw=0)


def limit_line(ax, gamma, values, label=r"$d=\infty$ (Prop. 5.1)", *, colour="black", ls="--"):
    ax.plot(gamma, values, color=colour, ls=ls, lw=1.0, label=label, zorder=5)


def positive_gamma(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["gamma"] > 0]


def load(path: str) -> pd.DataFrame:
    return pd.read_parquet(path)


def finite(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return a[np.isfinite(a)]
