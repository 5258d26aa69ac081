"""Statistical checks of the paper's qualitative claims (docs/masked/mathematics.md sec. 4).

Each function here tests one kind of claim on the per-experiment tables (``runs``,
``trajectories``, ``trace``; see :mod:`maskedntk.studies.masked.runner`) and returns the test,
an effect size with a bootstrap confidence interval, a one-sided p-value in the claimed
direction, the smallest p-value the design can give (``power``) and a verdict.  The claims
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
seed as its unit of replication:

* trend claims (``xi_lowers_error``, ``p_lowers_error``, ``p_speeds_rate``,
  ``categorical_p_raises_error``, ``categorical_tau_raises_error``, ``width_lowers_error_*``):
  within each block (stratum, seed) -- stratum = the values of the other grid factors,
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
* ``xi_one_vanishes``: "vanishes" is tested as "at least 1/VANISH_RATIO = 100 times smaller
  than at the largest xi < 1" (a mere decrease is not a vanishing neighbourhood: on data where
  full GD has not converged in K rounds the plateau at xi = 1 is lower but far from 0).  Per
  (stratum, seed) pair, log plateau(xi = 1) - log plateau(largest xi < 1) - log VANISH_RATIO;
  averaged over each seed's pairs; one-sided Wilcoxon signed-rank over seeds that it is < 0.
  Effect = the median ratio plateau(xi = 1) / plateau(largest xi < 1) over pairs, compared
  with VANISH_RATIO.
* ``three_phases``: per (cell, seed) with xi < 1, the fraction of rounds k >= k0 (k0 =
  ceil(TRANSIENT_ROUNDS * K), at least 1: the transient is skipped) in which (i) local
  training lowered the surrogate (trace at step tau < step 0), (ii) aggregation lowered it
  (L_{k+1} < trace at step tau), (iii) resampling raised it (trace at step 0 of round k >
  L_k).  Rounds are summarised inside a run, never pooled as independent.  Each fraction is
  averaged over each seed's cells and tested > 1/2 with a one-sided Wilcoxon signed-rank
  test over seeds.  The claim is a conjunction, so it is tested as an intersection-union
  test: p = the largest of the three p-values (valid at level alpha without correction);
  effect = the smallest of the three mean fractions.
* ``rate_follows_theorem``: per (experiment, seed) block, Kendall's tau over the block's cells
  between Theorem 3's factor and the measured factor; one-sided Wilcoxon over seeds that it
  is > 0.  (The theorems' "at least as fast" is a worst case that holds by construction; it
  is reported as a sanity ratio below the table, :func:`rate_sanity`, not as a verdict.)

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

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from maskedntk.core.claims.stats import (
    cluster_bootstrap,
    fmt_p,
    kendall,
    min_p_page,
    min_p_wilcoxon,
    p_eq,
    page_one_sided,
    verdict,
    wilcoxon_one_sided,
)

from ..accuracy import comparable

#: grid factors that can define a cell (the strata are those that vary)
DESIGN_COLUMNS = ("mask", "aggregation", "surrogate", "loss", "init", "p", "xi", "tau", "m", "kappa")

#: fraction of the K rounds skipped as transient by the three-phases check (at least 1 round)
TRANSIENT_ROUNDS = 0.1

#: ``xi_one_vanishes``: the plateau at xi = 1 "vanishes" when it is at most this fraction of
#: the plateau at the largest xi < 1
VANISH_RATIO = 1e-2


# ---------------------------------------------------------------------------------------
# table preparation
# ---------------------------------------------------------------------------------------


def _as_bool(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    return s.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0", "yes")).astype(bool)


#: a claim on the error neighbourhood is "inconclusive" when more than this fraction of its
#: runs never became stationary (their plateau is not a neighbourhood but a transient)
MAX_NOT_STATIONARY = 0.5


def _clean_runs(runs: pd.DataFrame, response: str | None) -> tuple[pd.DataFrame, list[str], str]:
    """Drop diverged runs, runs that are not stationary when ``response`` is the plateau, and
    runs without a finite response; return the kept runs, the notes, and a reason to call
    the claim inconclusive ('' when there is none)."""
    runs = runs.copy()
    notes = []
    div = _as_bool(runs["diverged"]) if "diverged" in runs else pd.Series(False, index=runs.index)
    if div.any():
        notes.append(f"{int(div.sum())} of {len(runs)} runs diverged and were dropped")
    runs = runs[~div]
    why = ""
    if response == "plateau" and "stationary" in runs and len(runs):
        moving = ~_as_bool(runs["stationary"])
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


def _strata(runs: pd.DataFrame, treatment: str) -> list[str]:
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


def _levels_text(levels) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v) for v in levels)


# ---------------------------------------------------------------------------------------
# the claims
# ---------------------------------------------------------------------------------------


def _base_row() -> dict:
    """The columns a claim test fills (the declaration supplies claim, statement, source, experiment)."""
    return {"test": "", "effect_label": "", "note": "", "n_units": 0}


def _finish(row, seed_ids, effect, ci, p, *, null, sign, alpha, notes) -> dict:
    """Fill ``row`` with the result of a one-sided Wilcoxon test over the seeds ``seed_ids``:
    effect and its interval ``ci``, ``p`` = (claimed, opposite) p-values, the power (2^-S)
    and the verdict against ``null`` in direction ``sign``."""
    row.update(
        n_units=len(seed_ids),
        effect=effect,
        ci_low=ci[0],
        ci_high=ci[1],
        p_value=p[0],
        power=min_p_wilcoxon(len(seed_ids)),
        verdict=verdict(p[0], p[1], effect, null, sign, alpha),
        note="; ".join(notes),
    )
    return row


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
    row = _base_row()
    runs, notes, why = _clean_runs(runs, response)
    strata = _strata(runs, treatment)
    keys = [*strata, "seed"]
    dup = runs.duplicated([*keys, treatment])
    if dup.any():
        notes.append(f"{int(dup.sum())} duplicate runs per (block, {treatment}) were averaged")
    wide = runs.pivot_table(index=keys, columns=treatment, values=response, aggfunc="mean")
    # a level missing from most blocks (e.g. diverged for most p) is dropped rather than
    # every block that lacks it; the remaining incomplete blocks are dropped
    sparse = wide.columns[wide.notna().mean(axis=0) < 0.5]
    if len(sparse) and len(sparse) < len(wide.columns):
        notes.append(f"{treatment} = {_levels_text(sparse)} present in fewer than half of the blocks: level dropped")
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
        f"Page's L trend test ({response} {direction} in {treatment}; levels {_levels_text(levels)}{restriction}); "
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
            f"(only 2 {treatment} levels: {_levels_text(levels)}{restriction}; Page's L needs 3)"
        )
    effect = float(taus.mean())
    lo, hi = cluster_bootstrap(taus, seeds, np.mean, n_boot, rng, alpha)
    if len(seed_ids) < 2:
        notes.append("fewer than 2 seeds: no test")
    notes.append(
        f"{len(wide)} {block_txt} blocks from {len(seed_ids)} seeds; the same test treating the "
        f"blocks as independent gives {p_eq(p_blocks)}"
    )
    power = min_p_page(len(seed_ids), len(levels)) if len(levels) >= 3 else min_p_wilcoxon(len(seed_ids))
    row.update(
        n_units=len(seed_ids),
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        p_value=p_claim,
        power=power,
        verdict="inconclusive" if why else verdict(p_claim, p_opp, effect, 0.0, sign, alpha),
        note="; ".join([why, *notes] if why else notes),
    )
    return row


def xi_one_claim(runs: pd.DataFrame, *, alpha: float, n_boot: int, rng: np.random.Generator) -> dict:
    """``xi_one_vanishes``: plateau(xi = 1) < VANISH_RATIO * plateau(largest xi < 1), paired
    within (stratum, seed)."""
    row = _base_row()
    # at xi = 1 (plain GD) the loss decays to the floating-point floor and may still be falling
    # at max_rounds: its window mean is then an upper bound of its neighbourhood, used as such
    runs = runs.copy()
    one = runs["xi"].astype(float) == 1.0
    if "window_mean" in runs:
        runs.loc[one, "plateau"] = runs.loc[one, "window_mean"]
        runs.loc[one, "stationary"] = True
    runs, notes, why = _clean_runs(runs, "plateau")
    row["effect_label"] = "median ratio plateau(xi = 1) / plateau(largest xi < 1) over paired runs"
    below = runs.loc[runs["xi"] < 1, "xi"]
    if not (runs["xi"] == 1).any() or below.empty:
        row.update(verdict="inconclusive", note="; ".join([*notes, "needs xi = 1 and some xi < 1: no test"]))
        return row
    xi_max = float(below.max())
    runs = runs[runs["xi"].isin([1.0, xi_max])]
    strata = _strata(runs, "xi")
    keys = [*strata, "seed"]
    pair_txt = f"({', '.join(strata)}; seed)" if strata else "seed"
    row["effect_label"] = f"median ratio plateau(xi = 1) / plateau(largest xi < 1) over {pair_txt} pairs"
    wide = runs.pivot_table(index=keys, columns="xi", values="plateau", aggfunc="mean")
    complete = wide.notna().all(axis=1)
    if (~complete).any():
        notes.append(f"{int((~complete).sum())} pairs lost a run and were dropped")
    wide = wide[complete]
    tiny = np.finfo(np.float64).tiny
    logr = np.log(np.maximum(wide[1.0].to_numpy(), tiny)) - np.log(np.maximum(wide[xi_max].to_numpy(), tiny))
    seeds = wide.index.get_level_values("seed").to_numpy()
    seed_ids = pd.unique(seeds)
    excess = logr - math.log(VANISH_RATIO)  # < 0 where the pair's plateau "vanished"
    p_claim, p_opp = wilcoxon_one_sided(np.array([excess[seeds == s].mean() for s in seed_ids]), -1)
    p_pairs, _ = wilcoxon_one_sided(excess, -1)
    ratio = np.exp(logr)
    effect = float(np.median(ratio)) if ratio.size else math.nan
    lo, hi = cluster_bootstrap(ratio, seeds, np.median, n_boot, rng, alpha)
    notes.append(
        f"{len(wide)} {pair_txt} pairs from {len(seed_ids)} seeds; Wilcoxon over the "
        f"pairs as if independent: {p_eq(p_pairs)}; largest ratio {ratio.max():.3g}; the xi = 1 runs "
        f"reached L = {np.median(wide[1.0]):.3g} (median)"
        if ratio.size
        else "no complete pair"
    )
    row.update(
        test=(
            f"one-sided Wilcoxon signed-rank over seeds of the mean over {pair_txt} pairs of "
            f"log plateau(xi = 1) - log plateau(xi = {xi_max:g}) < log {VANISH_RATIO:g}"
        ),
        n_units=len(seed_ids),
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        p_value=p_claim,
        power=min_p_wilcoxon(len(seed_ids)),
        verdict="inconclusive" if why else verdict(p_claim, p_opp, effect, VANISH_RATIO, -1, alpha),
        note="; ".join([why, *notes] if why else notes),
    )
    return row


def phase_fractions(runs: pd.DataFrame, trajectories: pd.DataFrame, trace: pd.DataFrame, k0: int) -> pd.DataFrame:
    """Per (cell, seed): the fractions of rounds k = k0..K-1 with (i) trace[k, tau] < trace[k, 0]
    (local training lowers the surrogate), (ii) L_{k+1} < trace[k, tau] (aggregation lowers
    it), (iii) trace[k, 0] > L_k (resampling raises it), and the number of rounds used."""
    taus = runs.drop_duplicates("cell").set_index("cell")["tau"]
    tr = trace[["cell", "seed", "round", "step", "L_surrogate"]]
    start = tr[tr["step"] == 0].rename(columns={"L_surrogate": "s0"}).drop(columns="step")
    last = tr[tr["step"] == tr["cell"].map(taus)].rename(columns={"L_surrogate": "stau"}).drop(columns="step")
    L = trajectories[["cell", "seed", "round", "L"]]
    nxt = L.assign(round=L["round"] - 1).rename(columns={"L": "L_next"})
    df = start.merge(last, on=["cell", "seed", "round"]).merge(L, on=["cell", "seed", "round"])
    df = df.merge(nxt, on=["cell", "seed", "round"])
    df = df[df["round"] >= k0]
    df = df.assign(
        local=df["stau"] < df["s0"],
        aggregate=df["L_next"] < df["stau"],
        resample=df["s0"] > df["L"],
    )
    out = df.groupby(["cell", "seed"])[["local", "aggregate", "resample"]].mean()
    out["rounds"] = df.groupby(["cell", "seed"]).size()
    return out.reset_index()


def three_phases_claim(
    runs: pd.DataFrame,
    trajectories: pd.DataFrame,
    trace: pd.DataFrame,
    *,
    alpha: float,
    n_boot: int,
    rng: np.random.Generator,
) -> dict:
    """``three_phases`` (see the module docstring)."""
    row = _base_row()
    row["effect_label"] = "smallest of the three mean per-run fractions of rounds showing the phase"
    row["test"] = (
        "per (cell, seed) with xi < 1, fraction of rounds after the transient with (i) local decrease, (ii) drop "
        "at aggregation, (iii) rise at resampling; each tested > 1/2 by a one-sided Wilcoxon signed-rank over seeds "
        "(seed = mean over its cells); intersection-union test: p = max of the three"
    )
    runs, notes, _ = _clean_runs(runs, None)  # diverged runs only: the phases need no plateau
    runs = runs[runs["xi"] < 1]
    if runs.empty or trace is None or trace.empty:
        row.update(verdict="inconclusive", note="; ".join([*notes, "no trace of a cell with xi < 1: no test"]))
        return row
    K = int(trajectories["round"].max())
    k0 = max(1, math.ceil(TRANSIENT_ROUNDS * K))
    units = runs[["cell", "seed"]]
    tr = trace.merge(units, on=["cell", "seed"])
    tj = trajectories.merge(units, on=["cell", "seed"])
    bad = pd.concat(
        [
            tr.loc[~np.isfinite(tr["L_surrogate"]), ["cell", "seed"]],
            tj.loc[~np.isfinite(tj["L"]), ["cell", "seed"]],
        ]
    ).drop_duplicates()
    if len(bad):
        notes.append(f"{len(bad)} (cell, seed) runs with non-finite losses were dropped")
        keep = ~units.set_index(["cell", "seed"]).index.isin(bad.set_index(["cell", "seed"]).index)
        runs = runs[keep]
    fr = phase_fractions(runs, tj, tr, k0)
    fr = fr.merge(runs[["cell", "seed"]], on=["cell", "seed"])
    if fr.empty:
        row.update(verdict="inconclusive", note="; ".join([*notes, "no round after the transient: no test"]))
        return row
    phases = ["local", "aggregate", "resample"]
    seed_ids = pd.unique(fr["seed"])
    seed_means = fr.groupby("seed")[phases].mean()
    p_claims, p_opps, p_units = [], [], []
    for ph in phases:
        pc, po = wilcoxon_one_sided(seed_means[ph].to_numpy() - 0.5, +1)
        pu, _ = wilcoxon_one_sided(fr[ph].to_numpy() - 0.5, +1)
        p_claims.append(pc)
        p_opps.append(po)
        p_units.append(pu)
    means = fr[phases].mean().to_numpy()
    effect = float(means.min())
    p_claim = max(p_claims) if all(math.isfinite(p) for p in p_claims) else math.nan
    p_opp = min((p for p in p_opps if math.isfinite(p)), default=math.nan)
    vals = fr[phases].to_numpy(dtype=np.float64)
    lo, hi = cluster_bootstrap(vals, fr["seed"].to_numpy(), lambda v: float(v.mean(axis=0).min()), n_boot, rng, alpha)
    notes.append(
        f"rounds k = {k0}..{K - 1} of K = {K} (the first {k0} skipped as transient); "
        f"{len(fr)} (cell, seed) runs, cells xi = {_levels_text(sorted(runs['xi'].unique()))}, {len(seed_ids)} seeds"
    )
    notes.append(
        "mean fractions / p over seeds / p over (cell, seed) runs as if independent: "
        + ", ".join(
            f"({i}) {ph} {m:.2f} / {fmt_p(pc)} / {fmt_p(pu)}"
            for i, ph, m, pc, pu in zip(("i", "ii", "iii"), phases, means, p_claims, p_units, strict=True)
        )
    )
    return _finish(row, seed_ids, effect, (lo, hi), (p_claim, p_opp), null=0.5, sign=+1, alpha=alpha, notes=notes)


def _rate_cells(runs_by_experiment: Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    """Runs with a finite rate_empirical and rate_theory from the experiments present, and notes."""
    notes, kept = [], []
    for e, runs in runs_by_experiment.items():
        r, n, _ = _clean_runs(runs, "rate_empirical")
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
    row = _base_row()
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
    return _finish(row, seed_ids, effect, (lo, hi), (p_claim, p_opp), null=0.0, sign=+1, alpha=alpha, notes=notes)


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
    row = _base_row()
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
        r, n, _ = _clean_runs(runs, "plateau")
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
    return _finish(row, seed_ids, effect, (lo, hi), (p_claim, p_opp), null=max_error, sign=-1, alpha=alpha, notes=notes)
