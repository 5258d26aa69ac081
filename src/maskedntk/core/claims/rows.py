"""The row a claim test returns, and its completion by a one-sided test over seeds.

Every study's claim tests start from :func:`base_row` and, when the test is a one-sided
Wilcoxon signed-rank test over seeds (the seeds being the replicates), finish with
:func:`seed_test_row`, which fills the effect, its interval, the p-value, the smallest
attainable p-value and the verdict the same way for every study.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import cluster_bootstrap, min_p_wilcoxon, p_eq, verdict, wilcoxon_one_sided

#: the ``test`` column of a row from :func:`median_seed_test`
SEED_TEST = "Wilcoxon signed-rank over seeds, one-sided"


def base_row() -> dict:
    """The columns a claim test fills (the declaration supplies claim, statement, source, experiment)."""
    return {"test": "", "effect_label": "", "note": "", "n_units": 0}


def seed_test_row(row, seed_ids, effect, ci, p, *, null, sign, alpha, notes) -> dict:
    """Fill ``row`` with the result of a one-sided Wilcoxon test over the seeds ``seed_ids``:
    effect and its interval ``ci``, ``p`` = (claimed, opposite) p-values, the smallest attainable p (2^-S)
    and the verdict (:func:`~maskedntk.core.claims.stats.verdict`) against ``null`` in direction ``sign``."""
    row.update(
        n_units=len(seed_ids),
        effect=effect,
        ci_low=ci[0],
        ci_high=ci[1],
        p_value=p[0],
        min_p=min_p_wilcoxon(len(seed_ids)),
        verdict=verdict(p[0], p[1], effect, null, sign, alpha),
        note="; ".join(notes),
    )
    return row


def median_seed_test(
    per_seed: pd.Series, *, null: float, sign: int, label: str, alpha: float, n_boot: int, rng
) -> dict:
    """The row of a one-sided Wilcoxon signed-rank test over seeds of ``per_seed - null`` in the
    claimed direction ``sign`` (-1: below ``null``, +1: above), ``per_seed`` holding one value
    per seed (index: the seed; non-finite values drop out).  Effect: the median over seeds;
    interval: percentile bootstrap of that median resampling seeds (``n_boot`` resamples from
    ``rng`` at level 1 - ``alpha``).  Fewer than 2 seeds with a value: inconclusive."""
    per_seed = per_seed[np.isfinite(per_seed.to_numpy(dtype=np.float64))]
    row = base_row() | {"test": SEED_TEST, "effect_label": label}
    if len(per_seed) < 2:
        return row | {"n_units": len(per_seed), "verdict": "inconclusive", "note": "fewer than 2 seeds with a value"}
    x, seeds = per_seed.to_numpy(dtype=np.float64), per_seed.index.to_numpy()
    p = wilcoxon_one_sided(x - null, sign)
    ci = cluster_bootstrap(x, seeds, np.median, n_boot, rng, alpha)
    note = f"null {label} {'>=' if sign < 0 else '<='} {null:g}; opposite {p_eq(p[1])}"
    return seed_test_row(row, list(seeds), float(np.median(x)), ci, p, null=null, sign=sign, alpha=alpha, notes=[note])
