"""The masked study's trend claims (``xi_lowers_error``, ``p_lowers_error``, ``p_speeds_rate``,
``categorical_*``, ``width_lowers_error_*``, ``tau_raises_error``): the response moves with a
treatment in the claimed direction, seeds as replicates (rules: :mod:`.tables`).

Within each block (stratum, seed) -- stratum = the values of the other grid factors,
e.g. p for the xi claim -- the treatment levels are ranked by the response; each seed's
ranks are averaged over its strata, and Page's L trend test (``scipy.stats.page_trend_test``)
is run with blocks = seeds and the treatments ordered by the predicted ranking.  Under
the null of no treatment effect each block's ranking is exchangeable, hence so is each
seed's mean ranking, and the seeds are independent, so the test is valid.  With only two
treatment levels (Page's L needs three) a one-sided Wilcoxon signed-rank test over the
seeds' mean Kendall tau is used instead.  Effect = the mean over (stratum, seed) blocks
of Kendall's tau between the treatment and the response.  The note also gives Page's
test on the (stratum, seed) blocks *as if* they were independent, for comparison.  The
width claim is tested for each mask type separately (Theorem 3's and Theorem 7's error
terms differ, and the two may move in opposite directions).  scipy chooses Page's exact null distribution or
its normal approximation (the latter is conservative in the far tail).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from maskedntk.core.claims.rows import base_row
from maskedntk.core.claims.stats import (
    cluster_bootstrap,
    kendall,
    min_p_page,
    min_p_wilcoxon,
    p_eq,
    page_one_sided,
    verdict,
    wilcoxon_one_sided,
)

from .tables import clean_runs, levels_text, strata_of


def _seed_trend_test(ranks: np.ndarray, taus: np.ndarray, seeds: np.ndarray, sign: int) -> tuple[float, float]:
    """(claimed, opposite) one-sided p-values of the seed-level trend test: Page's L over the
    seeds' mean within-block ranks (``ranks`` columns in the order of increasing predicted
    response), or with 2 levels a Wilcoxon signed-rank test over the seeds' mean Kendall tau."""
    ids = pd.unique(seeds)
    if ranks.shape[1] >= 3:
        return page_one_sided(np.array([ranks[seeds == s].mean(axis=0) for s in ids]))
    return wilcoxon_one_sided(np.array([taus[seeds == s].mean() for s in ids]), sign)


def trend_claim(
    runs: pd.DataFrame,
    *,
    treatment: str,
    response: str,
    sign: int,
    alpha: float,
    n_boot: int,
    rng: np.random.Generator,
    restriction: str = "",
) -> dict:
    """A monotone-trend claim: ``response`` moves with ``treatment`` in direction ``sign``
    (+1 increasing, -1 decreasing), within blocks (stratum, seed); see the module docstring."""
    row = base_row()
    runs, notes, why = clean_runs(runs, response)
    strata = strata_of(runs, treatment)
    keys = [*strata, "seed"]
    dup = runs.duplicated([*keys, treatment])
    if dup.any():
        notes.append(f"{int(dup.sum())} duplicate runs per (block, {treatment}) were averaged")
    wide = runs.pivot_table(index=keys, columns=treatment, values=response, aggfunc="mean")
    # a level missing from most blocks (e.g. diverged for most p) is dropped rather than
    # every block that lacks it; the remaining incomplete blocks are dropped
    sparse = wide.columns[wide.notna().mean(axis=0) < 0.5]
    if len(sparse) and len(sparse) < len(wide.columns):
        notes.append(f"{treatment} = {levels_text(sparse)} present in fewer than half of the blocks: level dropped")
        wide = wide.drop(columns=sparse)
    levels = np.asarray(wide.columns, dtype=np.float64)
    complete = wide.notna().all(axis=1)
    if (~complete).any():
        notes.append(f"{int((~complete).sum())} of {len(wide)} blocks lost a {treatment} level and were dropped")
    wide = wide[complete]
    direction = "decreasing" if sign < 0 else "increasing"
    strata_txt = ", ".join(strata) if strata else "none"
    block_txt = f"({strata_txt}; seed)" if strata else "seed"
    row["effect_label"] = f"mean Kendall tau({treatment}, {response}) per {block_txt} block"
    row["test"] = (
        f"Page's L trend test ({response} {direction} in {treatment}; levels {levels_text(levels)}{restriction}); "
        + (
            f"blocks = seeds, each seed's within-block ranks averaged over its ({strata_txt}) blocks"
            if strata
            else "blocks = seeds"
        )
    )
    if len(levels) < 2 or wide.empty:
        notes.append(f"fewer than 2 {treatment} levels or no complete block: no test")
        row.update(verdict="inconclusive", note="; ".join(notes))
        return row
    values = wide.to_numpy(dtype=np.float64)
    seeds = wide.index.get_level_values("seed").to_numpy()
    taus = np.array([kendall(levels, v) for v in values])
    ranks = stats.rankdata(values, axis=1)
    seed_ids = pd.unique(seeds)
    # columns in the order of increasing predicted response
    order = np.argsort(levels) if sign > 0 else np.argsort(levels)[::-1]
    p_claim, p_opp = _seed_trend_test(ranks[:, order], taus, seeds, sign)
    p_blocks, _ = _seed_trend_test(ranks[:, order], taus, np.arange(len(taus)), sign)
    if len(levels) < 3:
        row["test"] = (
            f"one-sided Wilcoxon signed-rank over seeds of the mean Kendall tau({treatment}, {response}) "
            f"(only 2 {treatment} levels: {levels_text(levels)}{restriction}; Page's L needs 3)"
        )
    effect = float(taus.mean())
    lo, hi = cluster_bootstrap(taus, seeds, np.mean, n_boot, rng, alpha)
    if len(seed_ids) < 2:
        notes.append("fewer than 2 seeds: no test")
    notes.append(
        f"{len(wide)} {block_txt} blocks from {len(seed_ids)} seeds; the same test treating the "
        f"blocks as independent gives {p_eq(p_blocks)}"
    )
    min_p = min_p_page(len(seed_ids), len(levels)) if len(levels) >= 3 else min_p_wilcoxon(len(seed_ids))
    row.update(
        n_units=len(seed_ids),
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        p_value=p_claim,
        min_p=min_p,
        verdict="inconclusive" if why else verdict(p_claim, p_opp, effect, 0.0, sign, alpha),
        note="; ".join([why, *notes] if why else notes),
    )
    return row
