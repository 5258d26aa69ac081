"""fig_protocols: the Bernoulli heatmap (the paper's Fig. 2b) under each protocol, side by side.

One panel per protocol that ran the ``heatmap_bernoulli`` experiment (the headline first):
the number the protocol reads as the error neighbourhood, over p x xi, on its own logarithmic
colour scale (the protocols track different losses: L_k = ||y - xi f||^2 in the paper's v1,
||y - f||^2 in the authors' code), each with its Kendall tau between xi and that number per
p (the sign of the xi trend the paper's Fig. 2b shows).  See docs/masked/protocols.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskedntk.core import figures as style
from maskedntk.core.claims.stats import kendall
from maskedntk.core.figures import plt

from ..protocols import apply_estimator
from . import common, grid_data, grids

#: what each estimator's panel shows
LABELS = {
    "plateau": "stationary plateau of the tracked loss",
    "authors_early_stop": "authors' early-stopping estimate",
}


def draw(runs_by_protocol: dict[str, tuple[pd.DataFrame, str, str]], pdf, png) -> pd.DataFrame:
    """``runs_by_protocol`` = {protocol: (runs, estimator, description)}, headline first.
    Returns the per-(protocol, p) Kendall tau(xi, value) table."""
    style.apply_style()
    names = list(runs_by_protocol)
    n = len(names)
    fig = plt.figure(figsize=(style.TWO_COLUMNS, 3.9))
    axes = np.atleast_1d(fig.subplots(1, n))
    seq = style.sequential_cmap("viridis")
    trends = []
    for i, (ax, name) in enumerate(zip(axes, names, strict=True)):
        runs, estimator, text = runs_by_protocol[name]
        runs = common.shown_level(apply_estimator(runs, estimator))
        runs = runs.loc[runs["mask"] == "bernoulli"]
        value = grid_data.cell_grid(runs, "plateau", "p", "xi")
        flags = grid_data.cell_flags(runs, "p", "xi") if estimator == "plateau" else None
        # colour range from xi < 1: at xi = 1 (plain GD) the loss reaches rounding level
        below_one = value.copy()
        below_one.loc[:, [c for c in value.columns if float(c) >= 1.0]] = np.nan
        scale = grids.zero_log_norm(grid_data.where_or_all(value, below_one.notna()), max_decades=3, also=[value])
        sm = grids.draw_grid(ax, value, scale, seq, flags=flags, xlabel=r"$\xi$", ylabel=r"$p$", fontsize=5.0)
        grids.colorbar(fig, sm, ax, LABELS.get(estimator, estimator), scale=scale, location="bottom")
        below = runs.loc[runs["xi"] < 1]
        taus = [
            (p, kendall(g.groupby("xi")["plateau"].mean().index, g.groupby("xi")["plateau"].mean().to_numpy()))
            for p, g in below.groupby("p")
        ]
        trends += [{"protocol": name, "p": p, "kendall_tau_xi": t} for p, t in taus]
        mean_tau = np.mean([t for _, t in taus]) if taus else np.nan
        ax.set_title(
            f"({chr(97 + i)}) {name}\n" + rf"mean Kendall $\tau(\xi,\cdot)$ for $\xi<1$: {mean_tau:+.2f}", fontsize=7
        )
    notes = "\n".join(f"({chr(97 + i)}) {name}: {runs_by_protocol[name][2]}" for i, name in enumerate(names))
    notes += "\nA dot: a seed not stationary by max_rounds (its level reached is shown).  Mean over seeds."
    engine = fig.get_layout_engine()
    if engine is not None:  # keep the bottom strip for the protocols' descriptions
        engine.set(rect=(0, 0.14, 1, 0.86))
    fig.text(0.01, 0.01, notes, fontsize=6, va="bottom", ha="left")
    style.save(fig, pdf, png, name=__name__)
    return pd.DataFrame(trends)
