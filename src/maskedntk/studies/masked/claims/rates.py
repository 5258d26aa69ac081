"""The masked study's claims on rates and on the prediction (rules: :mod:`.tables`).

``rate_follows_theorem``: per (experiment, seed) block, Kendall's tau over the block's cells
between Theorem 3's factor and the measured factor; one-sided Wilcoxon over seeds that it
is > 0.  (The theorems' "at least as fast" is a worst case that holds by construction; it
is reported as a sanity ratio below the table, :func:`rate_sanity`, not as a verdict.)

"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from maskedntk.core.claims.rows import base_row, seed_test_row
from maskedntk.core.claims.stats import cluster_bootstrap, kendall, wilcoxon_one_sided

from ..accuracy import comparable
from .tables import clean_runs


def _rate_cells(runs_by_experiment: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    """Runs with a finite rate_empirical and rate_theory from the experiments present, and notes."""
    notes, kept = [], []
    for e, runs in runs_by_experiment.items():
        r, n, _ = clean_runs(runs, "rate_empirical")
        notes += [f"{e}: {x}" for x in n]
        r = r[np.isfinite(r["rate_theory"].astype(float))]
        if len(r):
            kept.append(r.assign(experiment=e))
    return (pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()), notes


def rate_order_claim(runs_by_experiment: Mapping[str, pd.DataFrame], *, alpha: float, n_boot: int, rng) -> dict:
    """``rate_follows_theorem``: Theorem 3's factor 1 - eta theta tau lambda0 / 4 orders the
    cells: a cell the theorem says contracts faster (smaller factor) contracts faster.

    Per (experiment, seed) block, Kendall's tau between rate_theory and rate_empirical over
    the block's cells; each seed's taus averaged; one-sided Wilcoxon signed-rank over seeds
    that the mean tau is > 0.  Can fail: a random ordering gives tau ~ 0 (inconclusive), an
    inverted one tau < 0 (not reproduced)."""
    row = base_row()
    row["effect_label"] = "mean Kendall tau(rate_theory, rate_empirical) per (experiment; seed) block"
    row["test"] = (
        "per (experiment, seed): Kendall tau over cells between Theorem 3's factor and the measured factor; "
        "one-sided Wilcoxon signed-rank over seeds (seed = mean of its blocks) that tau > 0"
    )
    c, notes = _rate_cells(runs_by_experiment)
    if c.empty or c["cell"].nunique() < 3:
        row.update(note="; ".join([*notes, "fewer than 3 cells with a fitted rate: no test"]))
        return row
    blocks = [
        (seed, kendall(g["rate_theory"].to_numpy(float), g["rate_empirical"].to_numpy(float)))
        for (_, seed), g in c.groupby(["experiment", "seed"])
        if g["cell"].nunique() >= 3
    ]
    seeds = np.array([s for s, _ in blocks])
    taus = np.array([x for _, x in blocks])
    seed_ids = pd.unique(seeds)
    p_claim, p_opp = wilcoxon_one_sided(np.array([taus[seeds == s].mean() for s in seed_ids]), +1)
    effect = float(taus.mean()) if taus.size else math.nan
    lo, hi = cluster_bootstrap(taus, seeds, np.mean, n_boot, rng, alpha)
    notes.append(f"{len(blocks)} (experiment; seed) blocks of >= 3 cells from {len(seed_ids)} seeds")
    return seed_test_row(row, seed_ids, effect, (lo, hi), (p_claim, p_opp), null=0.0, sign=+1, alpha=alpha, notes=notes)


def rate_sanity(runs_by_experiment: Mapping[str, pd.DataFrame]) -> str:
    """The theorems' rate as a sanity ratio, not a verdict: Theorem 3's (and 7's) factor is a
    worst case, so "the measured contraction is at least as fast" holds by construction.
    Returns a sentence: the median over cells of (1 - rate_empirical) / (1 - rate_theory)."""
    c, _ = _rate_cells(runs_by_experiment)
    if c.empty:
        return ""
    cells = c.groupby(["experiment", "cell"])[["rate_empirical", "rate_theory"]].mean()
    ratio = (1 - cells["rate_empirical"]) / (1 - cells["rate_theory"])
    faster = int((cells["rate_empirical"] <= cells["rate_theory"]).sum())
    return (
        f"Sanity ratio (not a verdict; the theorems' factors are worst cases): over {len(cells)} cells the measured "
        f"contraction per round, 1 - rate_empirical, is {np.median(ratio):.3g} times (median; range "
        f"{ratio.min():.3g}-{ratio.max():.3g}) the theorems' 1 - rate_theory; {faster} of {len(cells)} cells "
        "contract at least as fast as the theorems' factor."
    )


def prediction_claim(
    runs_by_experiment: Mapping[str, pd.DataFrame],
    *,
    alpha: float,
    n_boot: int,
    rng,
    max_error: float = 0.25,
    min_m: int = 1000,
) -> dict:
    """``prediction_within_25pct``: per seed, the median over its stationary Bernoulli runs
    with m >= ``min_m`` and xi < 1 (:func:`accuracy.comparable`) of
    |plateau_predicted / plateau - 1|; one-sided Wilcoxon over seeds that it is below
    ``max_error``.  A worse predictor (or a regression in it) turns the verdict: the effect
    is the median over seeds, compared with ``max_error``."""
    row = base_row()
    row["effect_label"] = f"median over seeds of the median |predicted / measured - 1| (Bernoulli, m >= {min_m})"
    row["test"] = (
        f"per seed: median |plateau_predicted / plateau - 1| over its stationary Bernoulli runs with m >= {min_m}; "
        f"one-sided Wilcoxon signed-rank over seeds that it is < {max_error:g}"
    )
    notes, kept = [], []
    for e, runs in runs_by_experiment.items():
        if "plateau_predicted" not in runs:
            notes.append(f"{e}: no prediction column")
            continue
        r, n, _ = clean_runs(runs, "plateau")
        notes += [f"{e}: {x}" for x in n]
        r = r[(r["mask"] == "bernoulli") & (r["m"] >= min_m) & comparable(r)]
        kept.append(r)
    runs = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    if runs.empty:
        row.update(note="; ".join([*notes, "no stationary Bernoulli run with a prediction: no test"]))
        return row
    ratio = (runs["plateau_predicted"] / runs["plateau"]).to_numpy(float)
    err = pd.Series(np.abs(ratio - 1.0))
    seeds = runs["seed"].to_numpy()
    seed_ids = pd.unique(seeds)
    per_seed = np.array([np.median(err[seeds == s]) for s in seed_ids])
    err = err.to_numpy()
    p_claim, p_opp = wilcoxon_one_sided(per_seed - max_error, -1)
    effect = float(np.median(per_seed))
    lo, hi = cluster_bootstrap(err, seeds, np.median, n_boot, rng, alpha)
    within = float(np.mean(np.abs(np.log(ratio)) <= np.log(1.5)))
    notes.append(
        f"{len(runs)} runs in {runs['cell'].nunique()} cells; 90th percentile of |error| {np.quantile(err, 0.9):.2f}; "
        f"{100 * within:.0f}% of runs within a factor 1.5"
    )
    return seed_test_row(
        row, seed_ids, effect, (lo, hi), (p_claim, p_opp), null=max_error, sign=-1, alpha=alpha, notes=notes
    )
