"""The notes under the grid figures: the settings line, the step rule, what full GD reached,
and the plateau's definition, each read from the runs table rather than assumed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from maskedntk.core.numbers import fmt_compact

# ----------------------------------------------------------------------------------------
# notes
# ----------------------------------------------------------------------------------------


def values_text(runs: pd.DataFrame, col: str) -> str:
    """The distinct values of a column, sorted and comma-separated ('?' when absent)."""
    if col not in runs:
        return "?"
    v = runs[col].dropna().unique()
    try:
        return ", ".join(f"{x:g}" for x in sorted(v)) if len(v) else "?"
    except (TypeError, ValueError):
        return ", ".join(str(x) for x in sorted(map(str, v)))


def seed_count(runs: pd.DataFrame) -> int:
    """The largest number of seeds of any cell (1 when the table has no seed column)."""
    if "seed" not in runs or "cell" not in runs or runs.empty:
        return 1
    return int(runs.groupby("cell")["seed"].nunique().max())


def eta_text(runs: pd.DataFrame) -> str:
    """The step-size rule of the table in mathtext (from the ``eta_rule`` column)."""
    rules = runs["eta_rule"].dropna().unique() if "eta_rule" in runs else []
    if len(rules) != 1:
        return r"step $\eta$ per cell"
    rule = str(rules[0])
    if m := re.fullmatch(r"eta = (\S+) / lambda_max\(H_inf\(xi\)\) per cell", rule):
        return rf"step $\eta = {m.group(1)}/\lambda_{{\max}}(H^\infty(\xi))$ per cell"
    if m := re.fullmatch(r"eta = (\S+) in every cell", rule):
        return rf"step $\eta = {m.group(1)}$ in every cell"
    return "step: " + rule.replace("_", " ")


#: a plateau below this fraction of L_0 is reported as "rounding level"
ROUNDING_LEVEL = 1e-8


def full_gd_text(runs: pd.DataFrame, where: str) -> str:
    """What the full-GD cells (``runs``: the rows where B1 or Theorem 7's term is 0) reached,
    measured rather than assumed: rounding level when every plateau is below ROUNDING_LEVEL
    times its L_0, else the largest plateau / L_0 (full GD had not converged in K rounds)."""
    if runs.empty or "plateau" not in runs or "L0" not in runs:
        return ""
    rel = (runs["plateau"] / runs["L0"]).to_numpy(dtype=np.float64)
    rel = rel[np.isfinite(rel)]
    if not rel.size:
        return ""
    if rel.max() < ROUNDING_LEVEL:
        return rf"at {where} (full GD) the plateau falls to rounding level."
    return rf"at {where} (full GD) the plateau is still up to {fmt_compact(rel.max())} $L_0$ after $K$ rounds."


#: how :func:`settings_text` writes each setting
SETTING_SYMBOLS = {"xi": r"$\xi$", "tau": r"$\tau$", "n": "$n$", "d": "$d$", "m": "$m$", "K": "$K$"}
#: the plateau's definition, as every figure's note states it
PLATEAU_TEXT = "Plateau: mean of $L_k$ over the stationary window (last half of the rounds run)."


def settings_text(runs: pd.DataFrame, lead: str, keys=("n", "d", "m"), *, extra: str = "", spread: str = "") -> str:
    """The first line of a figure's note: '<lead>, $xi$ = ..., $n$ = ..., $K$ = 60 rounds<extra>;
    mean<spread> over S seeds; <the step rule>.'"""
    parts = [f"{SETTING_SYMBOLS[k]} = {values_text(runs, k)}" for k in keys]
    rounds = f"$K$ = {values_text(runs, 'rounds')} rounds{extra}"
    return f"{lead}, {', '.join([*parts, rounds])}; mean{spread} over {seed_count(runs)} seeds; {eta_text(runs)}."
