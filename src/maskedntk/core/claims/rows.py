"""The row a claim test returns, and its completion by a one-sided test over seeds.

Every study's claim tests start from :func:`base_row` and, when the test is a one-sided
Wilcoxon signed-rank test over seeds (the seeds being the replicates), finish with
:func:`seed_test_row`, which fills the effect, its interval, the p-value, the smallest
attainable p-value and the verdict the same way for every study.
"""

from __future__ import annotations

from .stats import min_p_wilcoxon, verdict


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
