"""Preparing the runs tables for the masked study's claim tests, and the rules every test follows.

Each claim module (:mod:`.trend`, :mod:`.levels`, :mod:`.rates`) tests one kind of claim on the
per-experiment tables (``runs``, ``trajectories``, ``trace``; see
:mod:`maskedntk.studies.masked.runner`) and returns the test, an effect size with a bootstrap
confidence interval, a one-sided p-value in the claimed direction, the smallest p-value the
design can give (``min_p``) and a verdict.  The claims
themselves are declared in :mod:`maskedntk.studies.masked.claims.declared`.

Verdict rule (the same for every claim)
---------------------------------------
* "reproduced": the one-sided test in the claimed direction has p < alpha (and the effect
  does not point the other way);
* "not reproduced": the one-sided test in the opposite direction has p < alpha, or the effect
  size points the other way (whatever its p-value);
* "inconclusive": neither (including: too few seeds to run the test);
* "not run": the experiment the claim needs is not in this configuration.

Replicates: seeds, not grid cells
---------------------------------
A run's initialisation W_0 depends on its seed only, and its masks come from the same
uniforms for every cell of the same seed (entry (l, r) of round k is ``U < xi`` with U from
the generator of (seed, k); :mod:`maskedntk.studies.masked.masks`, :mod:`maskedntk.studies.masked.rng`).  So two runs of
the same seed in different cells share W_0 and nested masks: (p, seed) blocks with the same
seed are *not* independent, and treating the 10 x 5 (p, seed) blocks of the default heatmap
as 50 independent blocks would understate the p-values.  Every test here therefore uses the
seed as its unit of replication (each claim module says how).

Power: a one-sided Wilcoxon signed-rank test over S seeds cannot give p below 2^-S (1/32 =
0.031 with the default 5 seeds, 1/8 with the CI config's 3), so the Wilcoxon-based claims
are "reproduced" at alpha = 0.05 only when at least 5 seeds all agree.

Confidence intervals are percentile bootstraps (``n_boot`` resamples, numpy ``Generator``
seeded by (seed, claim id): :func:`maskedntk.core.claims.stats.claim_rng`) that resample
whole seeds (clusters), or cells for the rate claim, so they respect the same dependence.
Diverged runs (``diverged`` True or a NaN plateau) are dropped and counted in the note; blocks that lose a
treatment level are dropped (Page's test needs complete blocks), except that a level missing from more than
half of the blocks is dropped instead of those blocks; runs flagged "not converged" are kept
and counted in the note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: grid factors that can define a cell (the strata are those that vary)
DESIGN_COLUMNS = ("mask", "aggregation", "surrogate", "loss", "init", "p", "xi", "tau", "m", "kappa")


def as_bool(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    return s.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0", "yes")).astype(bool)


#: a claim on the error neighbourhood is "inconclusive" when more than this fraction of its
#: runs never became stationary (their plateau is not a neighbourhood but a transient)
MAX_NOT_STATIONARY = 0.5


def clean_runs(runs: pd.DataFrame, response: str | None) -> tuple[pd.DataFrame, list[str], str]:
    """Drop diverged runs, runs that are not stationary when ``response`` is the plateau, and
    runs without a finite response; return the kept runs, the notes, and a reason to call
    the claim inconclusive ('' when there is none)."""
    runs = runs.copy()
    notes = []
    div = as_bool(runs["diverged"]) if "diverged" in runs else pd.Series(False, index=runs.index)
    if div.any():
        notes.append(f"{int(div.sum())} of {len(runs)} runs diverged and were dropped")
    runs = runs[~div]
    why = ""
    if response == "plateau" and "stationary" in runs and len(runs):
        moving = ~as_bool(runs["stationary"])
        if moving.any():
            K = runs.loc[moving, "rounds_run"] if "rounds_run" in runs else pd.Series(dtype=float)
            after = ""
            if len(K):
                span = f"{int(K.min())}" if K.min() == K.max() else f"{int(K.min())}-{int(K.max())}"
                after = f" after {span} rounds"
            notes.append(
                f"{int(moving.sum())} of {len(runs)} runs were not stationary{after} (no error neighbourhood "
                "measured) and were left out"
            )
            if moving.mean() > MAX_NOT_STATIONARY:
                why = (
                    f"{100 * moving.mean():.0f}% of the runs never became stationary (more than "
                    f"{100 * MAX_NOT_STATIONARY:.0f}%): the grid does not measure error neighbourhoods"
                )
        runs = runs[~moving]
    bad = ~np.isfinite(runs[response].astype(float)) if response else pd.Series(False, index=runs.index)
    if bad.any():
        reasons = ""
        if response == "rate_empirical" and "rate_reason" in runs:
            counts = runs.loc[bad, "rate_reason"].astype(str).str.split(" [(]").str[0].value_counts()
            reasons = " (" + "; ".join(f"{n}: {r}" for r, n in counts.items()) + ")"
        notes.append(f"{int(bad.sum())} runs had no finite {response} and were dropped{reasons}")
    runs = runs[~bad]
    if "xi" in runs:
        runs["xi"] = runs["xi"].astype(float).round(12)
    return runs, notes, why


def strata_of(runs: pd.DataFrame, treatment: str) -> list[str]:
    """The grid factors other than ``treatment`` that vary and are not a function of it
    (e.g. xi = 1/p for categorical masks is not a stratum of a p sweep)."""
    out = []
    for c in DESIGN_COLUMNS:
        if c == treatment or c not in runs or runs[c].nunique(dropna=False) < 2:
            continue
        # skip a factor fixed by the treatment or by a stratum already chosen (xi = 1/p
        # for categorical masks; xi fixed by the mask type in the width experiment)
        if any(runs.groupby(g)[c].nunique(dropna=False).max() <= 1 for g in (treatment, *out)):
            continue
        out.append(c)
    return out


def levels_text(levels) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v) for v in levels)
