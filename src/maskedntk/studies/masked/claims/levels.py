"""The masked study's claims on levels and phases (rules: :mod:`.tables`).

``xi_one_vanishes``: "vanishes" is tested as "at least 1/VANISH_RATIO = 100 times smaller
than at the largest xi < 1" (a mere decrease is not a vanishing neighbourhood: on data where
full GD has not converged in K rounds the plateau at xi = 1 is lower but far from 0).  Per
(stratum, seed) pair, log plateau(xi = 1) - log plateau(largest xi < 1) - log VANISH_RATIO;
averaged over each seed's pairs; one-sided Wilcoxon signed-rank over seeds that it is < 0.
Effect = the median ratio plateau(xi = 1) / plateau(largest xi < 1) over pairs, compared
with VANISH_RATIO.

``three_phases``: per (cell, seed) with xi < 1, the fraction of rounds k >= k0 (k0 =
ceil(TRANSIENT_ROUNDS * K), at least 1: the transient is skipped) in which (i) local
training lowered the surrogate (trace at step tau < step 0), (ii) aggregation lowered it
(L_{k+1} < trace at step tau), (iii) resampling raised it (trace at step 0 of round k >
L_k).  Rounds are summarised inside a run, never pooled as independent.  Each fraction is
averaged over each seed's cells and tested > 1/2 with a one-sided Wilcoxon signed-rank
test over seeds.  The claim is a conjunction, so it is tested as an intersection-union
test: p = the largest of the three p-values (valid at level alpha without correction);
effect = the smallest of the three mean fractions.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from maskedntk.core.claims.rows import base_row, seed_test_row
from maskedntk.core.claims.stats import cluster_bootstrap, fmt_p, min_p_wilcoxon, p_eq, verdict, wilcoxon_one_sided

from .tables import clean_runs, levels_text, strata_of

#: fraction of the K rounds skipped as transient by the three-phases check (at least 1 round)
TRANSIENT_ROUNDS = 0.1

#: ``xi_one_vanishes``: the plateau at xi = 1 "vanishes" when it is at most this fraction of
#: the plateau at the largest xi < 1
VANISH_RATIO = 1e-2


def xi_one_claim(runs: pd.DataFrame, *, alpha: float, n_boot: int, rng: np.random.Generator) -> dict:
    """``xi_one_vanishes``: plateau(xi = 1) < VANISH_RATIO * plateau(largest xi < 1), paired
    within (stratum, seed)."""
    row = base_row()
    # at xi = 1 (plain GD) the loss decays to the floating-point floor and may still be falling
    # at max_rounds: its window mean is then an upper bound of its neighbourhood, used as such
    runs = runs.copy()
    one = runs["xi"].astype(float) == 1.0
    if "window_mean" in runs:
        runs.loc[one, "plateau"] = runs.loc[one, "window_mean"]
        runs.loc[one, "stationary"] = True
    runs, notes, why = clean_runs(runs, "plateau")
    row["effect_label"] = "median ratio plateau(xi = 1) / plateau(largest xi < 1) over paired runs"
    below = runs.loc[runs["xi"] < 1, "xi"]
    if not (runs["xi"] == 1).any() or below.empty:
        row.update(verdict="inconclusive", note="; ".join([*notes, "needs xi = 1 and some xi < 1: no test"]))
        return row
    xi_max = float(below.max())
    runs = runs[runs["xi"].isin([1.0, xi_max])]
    strata = strata_of(runs, "xi")
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
        min_p=min_p_wilcoxon(len(seed_ids)),
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
    row = base_row()
    row["effect_label"] = "smallest of the three mean per-run fractions of rounds showing the phase"
    row["test"] = (
        "per (cell, seed) with xi < 1, fraction of rounds after the transient with (i) local decrease, (ii) drop "
        "at aggregation, (iii) rise at resampling; each tested > 1/2 by a one-sided Wilcoxon signed-rank over seeds "
        "(seed = mean over its cells); intersection-union test: p = max of the three"
    )
    runs, notes, _ = clean_runs(runs, None)  # diverged runs only: the phases need no plateau
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
        f"{len(fr)} (cell, seed) runs, cells xi = {levels_text(sorted(runs['xi'].unique()))}, {len(seed_ids)} seeds"
    )
    notes.append(
        "mean fractions / p over seeds / p over (cell, seed) runs as if independent: "
        + ", ".join(
            f"({i}) {ph} {m:.2f} / {fmt_p(pc)} / {fmt_p(pu)}"
            for i, ph, m, pc, pu in zip(("i", "ii", "iii"), phases, means, p_claims, p_units, strict=True)
        )
    )
    return seed_test_row(row, seed_ids, effect, (lo, hi), (p_claim, p_opp), null=0.5, sign=+1, alpha=alpha, notes=notes)
