"""Statistics shared by every study's claims: one-sided tests, the verdict rule, cluster
bootstraps and the claim-id-derived random generator.

Every test here is one-sided in the claimed direction and also reports the opposite
direction, so that a verdict can be "not reproduced" (the data point the other way) as well
as "reproduced" or "inconclusive".
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from ..numbers import fmt_p, p_eq  # noqa: F401  (the claims modules read them from here)

#: the verdicts, in the order tables list them
VERDICTS = ("reproduced", "not reproduced", "inconclusive", "not run")


def verdict(p_claim: float, p_opposite: float, effect: float, null: float, sign: int, alpha: float) -> str:
    """The verdict rule shared by every claim.

    "not reproduced" when the one-sided test in the opposite direction has p < alpha or the
    effect points the other way (``sign * (effect - null) < 0``); "reproduced" when the
    one-sided test in the claimed direction has p < alpha; "inconclusive" otherwise.
    ``sign`` is the claimed direction of ``effect - null`` (-1: below, +1: above)."""
    other_way = math.isfinite(effect) and sign * (effect - null) < 0
    if (math.isfinite(p_opposite) and p_opposite < alpha) or other_way:
        return "not reproduced"
    if math.isfinite(p_claim) and p_claim < alpha:
        return "reproduced"
    return "inconclusive"


def wilcoxon_one_sided(x, sign: int) -> tuple[float, float]:
    """One-sided Wilcoxon signed-rank p-values (claimed, opposite) that the centre of ``x``
    lies on the ``sign`` side of 0.  Zero differences are dropped (Wilcoxon's convention);
    NaN when fewer than 2 units, 1.0 in both directions when every difference is zero."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan, math.nan
    if np.all(x == 0):
        return 1.0, 1.0
    claimed = "greater" if sign > 0 else "less"
    opposite = "less" if sign > 0 else "greater"
    return (
        float(stats.wilcoxon(x, alternative=claimed).pvalue),
        float(stats.wilcoxon(x, alternative=opposite).pvalue),
    )


def min_p_wilcoxon(n: int) -> float:
    """The smallest one-sided p-value an exact Wilcoxon signed-rank test on ``n`` units can
    give, 2^-n (every unit on the claimed side): the min_p column of a Wilcoxon claim."""
    return math.ldexp(1.0, -int(n)) if n >= 1 else math.nan


def page_one_sided(data: np.ndarray) -> tuple[float, float]:
    """Page's L test p-values (increasing across columns, decreasing across columns) for an
    (blocks x treatments) array; NaN when the shape does not allow the test."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 3:
        return math.nan, math.nan
    up = float(stats.page_trend_test(data).pvalue)
    down = float(stats.page_trend_test(data[:, ::-1]).pvalue)
    return up, down


def min_p_page(n_blocks: int, n_levels: int) -> float:
    """The smallest one-sided p-value of Page's L test with ``n_blocks`` blocks and
    ``n_levels`` treatments: every block ranks the treatments in the claimed order, which
    happens with probability (1 / n_levels!)^n_blocks under the null (scipy's normal
    approximation, used for larger designs, may report a somewhat different floor)."""
    if n_blocks < 2 or n_levels < 3:
        return math.nan
    return float(math.exp(-n_blocks * math.lgamma(n_levels + 1)))


def binom_one_sided(successes: int, n: int, p0: float = 0.5) -> tuple[float, float]:
    """One-sided exact binomial p-values (more than p0, fewer than p0); NaN when n = 0."""
    if n < 1:
        return math.nan, math.nan
    return (
        float(stats.binomtest(successes, n, p0, alternative="greater").pvalue),
        float(stats.binomtest(successes, n, p0, alternative="less").pvalue),
    )


def cluster_bootstrap(
    values: np.ndarray,
    clusters: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    n_boot: int,
    rng: np.random.Generator,
    alpha: float,
) -> tuple[float, float]:
    """Percentile bootstrap interval (level 1 - alpha) of ``statistic(values)`` that resamples
    whole clusters with replacement (``values`` rows of a resampled cluster enter together).

    NaN when there are fewer than 2 clusters."""
    values = np.asarray(values, dtype=np.float64)
    clusters = np.asarray(clusters)
    labels = pd.unique(clusters)
    if len(labels) < 2 or n_boot < 1:
        return math.nan, math.nan
    groups = [values[clusters == c] for c in labels]
    draws = rng.integers(0, len(groups), size=(n_boot, len(groups)))
    boot = np.array([statistic(np.concatenate([groups[i] for i in row])) for row in draws])
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def kendall(x, y) -> float:
    """Kendall's tau-b of (x, y); 0 when y is constant (no association)."""
    t = stats.kendalltau(x, y).statistic
    return float(t) if np.isfinite(t) else 0.0


def claim_rng(claim_id: str, seed: int) -> np.random.Generator:
    """The bootstrap generator of one claim: seeded by (seed, a hash of the claim id), so a
    claim's interval does not depend on its position in any list."""
    digest = int.from_bytes(hashlib.sha256(claim_id.encode()).digest()[:8], "little")
    return np.random.default_rng([int(seed), digest])
