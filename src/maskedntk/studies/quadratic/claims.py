"""The study's falsifiable claims, each tested with seeds as replicates.

Every claim turns a per-seed (or per (regime, seed)) measurement into a one-sided test and the
shared verdict rule (:func:`maskedntk.core.claims.stats.verdict`):

* tolerance claims ("X is within tol of the paper's value"): per unit x = tol - |deviation|,
  one-sided Wilcoxon signed-rank test that x > 0; effect = median deviation (null = tol,
  claimed below); interval: cluster bootstrap over seeds of the median deviation;
* trend claims ("the distance to the d = infinity limit falls as d grows"): Page's L test over
  d with (regime, seed) blocks; effect = median ratio of the distance at the largest d to the
  distance at the smallest (null 1, claimed below); interval: cluster bootstrap over seeds of
  that median.

Every interval is a percentile cluster bootstrap over seeds of the median effect, with the
resamples and seed of the global ``claims`` settings and the claim's own generator
(``core.claims.stats.claim_rng``); the Wilcoxon rows are completed by
:func:`maskedntk.core.claims.rows.seed_test_row`.

Thresholds (tol) come from ``quadratic.claims`` in the configuration and are printed in the table.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ...core.claims import stats
from ...core.claims.declare import Claim, evaluate
from ...core.claims.render import write_claims
from ...core.claims.rows import base_row, seed_test_row
from ...core.claims.settings import evaluate_kwargs
from ...core.jobcli import JobArgs
from . import gaussian_limit, metrics
from .experiments import REGIMES

log = logging.getLogger("maskedntk")


def _wilcoxon_row(x, values, seeds, null: float, direction: int, *, test, label, alpha, n_boot, rng):
    """One-sided Wilcoxon signed-rank test that ``x`` > 0 over units (``seeds``: the seed of each
    unit); effect = median of ``values`` (claimed ``direction`` of ``null``), interval: cluster
    bootstrap over seeds of that median (:func:`maskedntk.core.claims.rows.seed_test_row`)."""
    values, seeds = np.asarray(values, float), np.asarray(seeds)
    row = base_row()
    row.update(test=test, effect_label=label)
    eff = float(np.median(values)) if values.size else math.nan
    ci = stats.cluster_bootstrap(values, seeds, np.median, n_boot, rng, alpha)
    p = stats.wilcoxon_one_sided(x, +1)
    return seed_test_row(row, seeds, eff, ci, p, null=null, sign=direction, alpha=alpha, notes=[])


def _tolerance_row(dev: np.ndarray, seeds: np.ndarray, tol: float, *, label, **kw):
    dev = np.asarray(dev, float)
    ok = np.isfinite(dev)
    dev, seeds = dev[ok], np.asarray(seeds)[ok]
    test = f"one-sided Wilcoxon signed-rank of tol - deviation > 0 over units (tol = {tol:g})"
    return _wilcoxon_row(tol - dev, dev, seeds, tol, -1, test=test, label=label, **kw)


def _series_row(dev: pd.Series, tol: float, label: str, *, level: str | None = None, **kw):
    """:func:`_tolerance_row` of the deviations ``dev``, whose index is the seed (or whose
    multi-index has the seed at level ``level``)."""
    seeds = dev.index if level is None else dev.index.get_level_values(level)
    return _tolerance_row(dev.to_numpy(), seeds.to_numpy(), tol, label=label, **kw)


def _page_row(blocks: np.ndarray, effects: np.ndarray, seeds, null: float, *, test, label, alpha, n_boot, rng, note):
    """Page's L test that ``blocks`` (units x increasing levels; ``seeds``: the seed of each
    unit) decrease along the levels; effect = median of the per-unit ``effects`` (claimed below
    ``null``), interval: cluster bootstrap over seeds of that median."""
    p_up, p_down = stats.page_one_sided(blocks)
    eff = float(np.median(effects)) if effects.size else math.nan
    lo, hi = stats.cluster_bootstrap(effects, np.asarray(seeds), np.median, n_boot, rng, alpha)
    row = base_row()
    row.update(
        test=test,
        n_units=int(blocks.shape[0]),
        effect=eff,
        effect_label=label,
        ci_low=lo,
        ci_high=hi,
        p_value=p_down,
        min_p=stats.min_p_page(blocks.shape[0], blocks.shape[1]),
        verdict=stats.verdict(p_down, p_up, eff, null, -1, alpha),
        note=note,
    )
    return row


def _trend_row(blocks: np.ndarray, seeds, dims, *, label, **kw):
    """blocks (units x d levels, increasing d; ``seeds``: the seed of each unit) of distances;
    claimed: decreasing in d."""
    blocks = np.asarray(blocks, float)
    ok = np.all(np.isfinite(blocks), axis=1)
    blocks = blocks[ok]
    return _page_row(
        blocks,
        blocks[:, -1] / blocks[:, 0],
        np.asarray(seeds)[ok],
        1.0,
        test=f"Page's L test for a decrease over d = {list(dims)} ((regime, seed) blocks)",
        label=label,
        note="",
        **kw,
    )


def _log10_drop_row(log_blocks: pd.DataFrame, **kw):
    """:func:`_page_row` of natural-log values (seeds x levels, indexed by seed); effect: log10 of
    the last level over the first."""
    values = log_blocks.to_numpy()
    drop = (values[:, -1] - values[:, 0]) / math.log(10.0)
    return _page_row(values, drop, log_blocks.index.to_numpy(), 0.0, **kw)


# ---- the tests ---------------------------------------------------------------------------


def _phase_final(tables, strong: bool) -> pd.DataFrame:
    """The final rows of the phase sweep at alpha >= alpha* (``strong``) or alpha < alpha*."""
    fin = metrics.final_values(tables["phase"], by=("alpha", "seed"))
    edge = fin["alpha_star"] - 1e-12
    return fin[fin["alpha"] >= edge] if strong else fin[fin["alpha"] < edge]


def t_strong_recovery(tables, *, tol, **kw):
    fin = _phase_final(tables, strong=True)
    per_seed = fin.groupby("seed").apply(lambda g: float(np.max(1.0 - g["overlap"])), include_groups=False)
    row = _series_row(per_seed, tol, "median over seeds of max over alpha >= alpha* of 1 - chi(gamma_max)", **kw)
    row["note"] = (
        f"alphas {sorted(float(x) for x in fin['alpha'].unique())}, "
        f"alpha* = {fin['alpha_star'].iloc[0]:g}, d = {fin['d'].iloc[0]}"
    )
    return row


def t_partial_recovery(tables, *, tol, **kw):
    fin = _phase_final(tables, strong=False)
    fin = fin.assign(dev=np.abs(fin["overlap"] - np.sqrt(fin["alpha"] / fin["alpha_star"])))
    per_seed = fin.groupby("seed")["dev"].max()
    label = "median over seeds of max over alpha < alpha* of |chi(gamma_max) - sqrt(alpha/alpha*)|"
    row = _series_row(per_seed, tol, label, **kw)
    vals = fin.groupby("alpha")["overlap"].median()
    row["note"] = "median final overlap: " + ", ".join(
        f"alpha={a:g}: {v:.4f} (sqrt(a/a*) = {math.sqrt(a / fin['alpha_star'].iloc[0]):.4f})" for a, v in vals.items()
    )
    return row


def _flow_limits(tables, setup, kind="flow"):
    """(regime, flow runs of ``setup``, d = infinity curve ``kind`` on the flow grid) per regime;
    kind 'flow': the orthonormal limit (Prop. 5.1), 'flow_gaussian': the Gaussian setup's own."""
    lim = tables["limit"]
    lim = lim[lim["kind"] == kind]
    return [(r, tables[f"flow_{setup}"][r], lim[lim["regime"] == r]) for r in REGIMES]


def _limit_blocks(tables, setup, quantity, gamma_min, kind="flow"):
    """(regime, seed) blocks of the sup distance per d, the seed of each block, the dims."""
    rows, seeds, dims = [], [], None
    for _, run, L in _flow_limits(tables, setup, kind):
        dims = sorted(int(x) for x in run["d"].unique())
        dist = {d: metrics.sup_distance(run[run["d"] == d], L, quantity, gamma_min) for d in dims}
        for seed in dist[dims[0]].index:
            rows.append([dist[d][seed] for d in dims])
            seeds.append(seed)
    return np.array(rows), np.array(seeds), dims


def t_limit_trend(tables, *, quantity, gamma_min, setup="orthonormal", **kw):
    kind = "flow" if setup == "orthonormal" else "flow_gaussian"
    blocks, seeds, dims = _limit_blocks(tables, setup, quantity, gamma_min, kind)
    sym = "phi" if quantity == "phi" else "chi"
    label = f"median ratio sup|{sym}_d - {sym}_inf| at d = {dims[-1]} over d = {dims[0]}"
    row = _trend_row(blocks, seeds, dims, label=label, **kw)
    med = np.median(blocks, axis=0)
    row["note"] = "median sup distance per d: " + ", ".join(f"d={d}: {v:.3g}" for d, v in zip(dims, med, strict=True))
    return row


def t_gaussian_tracks(tables, *, tol, gamma_min, **kw):
    devs, clusters, notes = [], [], []
    for regime, run, L in _flow_limits(tables, "gaussian"):
        dmax = run["d"].max()
        span = float(L["phi"].max() - L["phi"].min())
        dist = metrics.sup_distance(run[run["d"] == dmax], L, "phi", gamma_min) / span
        devs += list(dist.to_numpy())
        clusters += list(dist.index)
        notes.append(f"{regime}: median {np.median(dist):.3f}")
    label = "median over (regime, seed) of sup|phi_gauss - phi_inf| / range(phi_inf), largest d"
    row = _tolerance_row(np.array(devs), np.array(clusters), tol, label=label, **kw)
    row["note"] = "per regime: " + "; ".join(notes) + "; " + _why_not_tracks(tables["limit"])
    return row


def _why_not_tracks(limit: pd.DataFrame) -> str:
    """Why the Gaussian runs cannot follow the orthonormal limit: the two late slopes of phi."""
    under = limit[(limit["kind"] == "flow") & (limit["regime"] == "under")]
    a, s = float(under["alpha"].iloc[0]), float(under["alpha_star"].iloc[0])
    text = "the orthonormal limit is not the Gaussian setup's own (claim gaussian_tracks_own_limit)"
    if a >= s:
        return text
    return (
        f"{text}: for alpha < alpha* the late slopes of phi differ, {gaussian_limit.late_slope_orthonormal(a, s):.3g} "
        f"(orthonormal teacher) vs {gaussian_limit.late_slope(a, s):.3g} (Marchenko-Pastur teacher), so the gap "
        "grows linearly in gamma at every d"
    )


def t_gaussian_late_slope(tables, *, tol, window, **kw):
    """alpha < alpha* (regime 'under'): per (d, seed), the OLS slope of phi_gauss on ``window``
    against the spectral formula of that seed's teacher, -2 d Sigma_rest / (m + 2)."""
    run = tables["flow_gaussian"]["under"]
    fit = run.groupby(["d", "seed"]).apply(
        lambda g: pd.Series(
            {"slope": metrics.linear_slope(g["gamma"], g["phi"], window), "formula": g["spectral_slope"].iloc[0]}
        ),
        include_groups=False,
    )
    dev = (fit["slope"] / fit["formula"] - 1.0).abs()
    label = "median over (d, seed) of |fitted late slope of phi / spectral formula - 1|"
    row = _series_row(dev, tol, label, level="seed", **kw)
    lim = tables["limit"]
    lim = lim[(lim["kind"] == "flow_gaussian") & (lim["regime"] == "under")]
    per_d = fit.groupby(level="d").median()
    row["note"] = (
        f"regime under, gamma in {list(window)}; median fitted slope (formula) per d: "
        + ", ".join(f"d={d}: {r['slope']:.4g} ({r['formula']:.4g})" for d, r in per_d.iterrows())
        + f"; d = infinity: Marchenko-Pastur formula {float(lim['late_slope'].iloc[0]):.4g}, "
        f"solver slope on the window {metrics.linear_slope(lim['gamma'], lim['phi'], window):.4g}"
    )
    return row


def _per_run(run: pd.DataFrame, fit) -> pd.Series:
    """``fit`` (a function of one run's rows) per (d, seed)."""
    return run.groupby(["d", "seed"]).apply(fit, include_groups=False)


def t_rate_over(tables, *, tol, window, **kw):
    ex = _per_run(tables["rates"]["over"], lambda g: metrics.loglog_slope(g["t"], g["loss"], window))
    row = _series_row(np.abs(ex + 2.0), tol, "median over (d, seed) of |fitted exponent + 2|", level="seed", **kw)
    per_d = ex.groupby(level="d").agg(["mean", "std", "count"])
    row["note"] = f"L ~ t^p fitted on t in {list(window)}; mean exponent per d (t-interval 95%): " + ", ".join(
        f"d={d}: {r['mean']:.3f} +/- {2.776 * r['std'] / math.sqrt(r['count']):.3f}" for d, r in per_d.iterrows()
    )
    return row


def t_rate_equal(tables, *, tol, window, **kw):
    ratio = _per_run(
        tables["rates"]["equal"],
        lambda g: metrics.exp_rate(g["t"], g["loss"], window) / (4.0 * float(g["mu"].iloc[0])),
    )
    row = _series_row(
        np.abs(ratio - 1.0), tol, "median over (d, seed) of |fitted rate / (4 mu) - 1|", level="seed", **kw
    )
    per_d = ratio.groupby(level="d").agg(["mean", "min", "max"])
    row["note"] = f"L ~ exp(-r t) fitted where L in {list(window)}; r/(4 mu) per d (mean [min, max]): " + ", ".join(
        f"d={d}: {r['mean']:.3f} [{r['min']:.3f}, {r['max']:.3f}]" for d, r in per_d.iterrows()
    )
    return row


def t_empirical(tables, **kw):
    emp = tables["empirical"]
    fin = metrics.final_values(emp, by=("n_over_d2", "seed"))
    pop = fin[~np.isfinite(fin["n_over_d2"])].set_index("seed")["loss"]
    fin = fin[np.isfinite(fin["n_over_d2"])]
    ratios = sorted(float(x) for x in fin["n_over_d2"].unique())
    excess = fin.pivot(index="seed", columns="n_over_d2", values="loss")[ratios]
    to_pop = excess[ratios[-1]] / pop.loc[excess.index]
    ov = fin.pivot(index="seed", columns="n_over_d2", values="overlap")[ratios]
    return _log10_drop_row(
        np.log(excess.div(pop.loc[excess.index], axis=0)),
        test=f"Page's L test: final population risk decreases over n/d^2 = {ratios} (seed blocks)",
        label=f"median log10(final risk at n = {ratios[-1]:g} d^2 / at n = {ratios[0]:g} d^2)",
        note=f"median final risk / population GD's at n = {ratios[-1]:g} d^2: {float(np.median(to_pop)):.3g}; "
        "median final overlap per n/d^2: " + ", ".join(f"{r:g}: {ov[r].median():.4f}" for r in ratios),
        **kw,
    )


def t_masked(tables, *, xi, taus, **kw):
    mk = tables["masked"]
    mk = mk[(mk["tau"] == 0) | ((mk["xi"] == xi) & mk["tau"].isin(taus))]
    full = metrics.final_values(mk[mk["tau"] == 0], by=("seed",), x="round").set_index("seed")["loss"]
    taus = sorted(t for t in mk["tau"].unique() if t > 0)
    plats = pd.DataFrame({tau: metrics.plateau(mk[mk["tau"] == tau], "loss") for tau in taus})
    x = np.log10(plats.min(axis=1).to_numpy() / full.loc[plats.index].to_numpy())
    row = _wilcoxon_row(
        x - 1.0,
        x,
        plats.index.to_numpy(),
        1.0,
        +1,
        test="one-sided Wilcoxon: log10(min over tau of plateau risk / full-GD final risk) > 1 over seeds",
        label="median log10(masked plateau risk / full-GD final risk), smallest over tau",
        **kw,
    )
    row["note"] = (
        "median plateau risk per tau: "
        + ", ".join(f"tau={t}: {plats[t].median():.3g}" for t in taus)
        + f"; full GD final risk {full.median():.3g}"
    )
    return row


def t_masked_xi(tables, *, tau, **kw):
    mk = tables["masked"]
    sweep = mk[mk["tau"] == tau]
    xis = sorted(float(x) for x in sweep["xi"].unique())
    plats = pd.DataFrame({xi: metrics.plateau(sweep[sweep["xi"] == xi], "loss") for xi in xis})
    return _log10_drop_row(
        np.log(plats[xis]),
        test=f"Page's L test: plateau risk decreases over xi = {xis} (seed blocks), tau = {tau}",
        label=f"median log10(plateau at xi = {xis[-1]:g} / plateau at xi = {xis[0]:g})",
        note="median plateau per xi: " + ", ".join(f"{x:g}: {plats[x].median():.3g}" for x in xis),
        **kw,
    )


# ---- declaration and job -------------------------------------------------------------------


def claim_list(cfg: Mapping) -> list[Claim]:
    c = cfg["claims"]
    gmin = cfg["limit"]["gamma_min"]
    return [
        Claim(
            "strong_recovery",
            "For alpha >= alpha*, gradient descent reaches overlap 1 (strong recovery).",
            "abstract; Figs. 3a-b, 6",
            ("phase",),
            t_strong_recovery,
            {"tol": c["recovery_tol"]},
        ),
        Claim(
            "partial_recovery",
            "For alpha < alpha*, the overlap converges to sqrt(alpha/alpha*) < 1 (no strong recovery).",
            "Figs. 3c, 6",
            ("phase",),
            t_partial_recovery,
            {"tol": c["recovery_tol"]},
        ),
        Claim(
            "limit_phi",
            "phi_d approaches the d = infinity solution of Prop. 5.1 as d grows (sup distance falls with d).",
            "Prop. 5.1, Fig. 2",
            ("limit", "flow_orthonormal"),
            t_limit_trend,
            {"quantity": "phi", "gamma_min": gmin},
        ),
        Claim(
            "limit_overlap",
            "chi_d approaches the d = infinity overlap as d grows (sup distance falls with d).",
            "Prop. 5.1, Fig. 3",
            ("limit", "flow_orthonormal"),
            t_limit_trend,
            {"quantity": "overlap", "gamma_min": gmin},
        ),
        Claim(
            "gaussian_tracks",
            "The Gaussian setup follows the orthonormal d = infinity phi.",
            "Fig. 4",
            ("limit", "flow_gaussian"),
            t_gaussian_tracks,
            {"tol": c["gaussian_tol"], "gamma_min": gmin},
        ),
        Claim(
            "gaussian_tracks_own_limit",
            "phi_d of the Gaussian setup approaches its own d = infinity limit (Marchenko-Pastur teacher, "
            "deterministic equivalent of the Riccati solution) as d grows.",
            "beyond (Fig. 4)",
            ("limit", "flow_gaussian"),
            t_limit_trend,
            {"quantity": "phi", "gamma_min": gmin, "setup": "gaussian"},
        ),
        Claim(
            "gaussian_late_slope",
            "For alpha < alpha*, the late slope of phi in the Gaussian setup is -2 d Sigma_rest / (m + 2), "
            "Sigma_rest the sum of the m* - m smallest eigenvalues of M*.",
            "beyond (Fig. 4c)",
            ("limit", "flow_gaussian"),
            t_gaussian_late_slope,
            {"tol": c["late_slope_tol"], "window": c["late_slope_window"]},
        ),
        Claim(
            "rate_over",
            "For m > m*, the loss decays like t^-2.",
            "Fig. 5a",
            ("rates",),
            t_rate_over,
            {"tol": c["exponent_tol"], "window": cfg["rates"]["fit_over"]},
        ),
        Claim(
            "rate_equal",
            "For m = m*, the loss decays like exp(-4 mu t), mu the smallest eigenvalue of M*.",
            "Fig. 5b",
            ("rates",),
            t_rate_equal,
            {"tol": c["rate_tol"], "window": cfg["rates"]["fit_equal_loss"]},
        ),
        Claim(
            "empirical_samples",
            "Beyond the paper: GD on the empirical risk approaches the population flow as n/d^2 grows.",
            "beyond (Fig. 7)",
            ("empirical",),
            t_empirical,
        ),
        Claim(
            "masked_neighbourhood",
            "Beyond the paper: masked training stalls in a neighbourhood of the population optimum, "
            "its risk > 10x full GD's.",
            "beyond (Fig. 8)",
            ("masked",),
            t_masked,
            {"xi": cfg["masked"]["xi"], "taus": cfg["masked"]["taus"]},
        ),
        Claim(
            "masked_xi",
            "Beyond the paper: the neighbourhood of masked training shrinks as the mask probability xi grows "
            "(xi = 1 is full GD).",
            "beyond (Fig. 8c)",
            ("masked",),
            t_masked_xi,
            {"tau": cfg["masked"]["xi_sweep_tau"]},
        ),
    ]


def job(args: JobArgs) -> None:
    """The claims job: read the runs (inputs: limit, phase, empirical, masked, <setup>_<regime>,
    rates_<regime>), test every claim, write the table (outputs csv, md, html)."""
    cfg = args.settings
    read = lambda k: pd.read_parquet(args.input(k))  # noqa: E731
    tables: dict = {}
    for k in ("limit", "phase", "empirical", "masked"):
        if k in args.inputs:
            tables[k] = read(k)
    for setup in ("orthonormal", "gaussian"):
        if all(f"{setup}_{r}" in args.inputs for r in REGIMES):
            tables[f"flow_{setup}"] = {r: read(f"{setup}_{r}") for r in REGIMES}
    if "rates_over" in args.inputs and "rates_equal" in args.inputs:
        tables["rates"] = {r: read(f"rates_{r}") for r in ("over", "equal")}
    kw = evaluate_kwargs(cfg)
    df = evaluate(claim_list(cfg), tables, **kw)
    write_claims(
        df,
        *(args.output(k) for k in ("csv", "md", "html")),
        title="Claims: quadratic networks in high dimensions (Martin, Bach & Biroli 2024)",
        alpha=kw["alpha"],
    )
    for _, r in df.iterrows():
        log.info("%s: %s (effect %.4g, %s)", r["claim"], r["verdict"], r["effect"], stats.p_eq(r["p_value"]))
