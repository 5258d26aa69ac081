"""The study's falsifiable claims, each tested over seeds as replicates.

Every claim reduces each seed to one number (the per-seed statistic), states a null value and
the claimed side, and runs a one-sided Wilcoxon signed-rank test of (statistic - null) over
seeds; the effect is the median over seeds of the statistic, its interval a percentile
bootstrap over seeds of that median (resamples and seed: the global ``claims`` settings), the
verdict follows :func:`maskedntk.core.claims.stats.verdict` and the min_p column is the
smallest p the design can give (2^-n), all through
:func:`maskedntk.core.claims.rows.median_seed_test`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from maskedntk.core.claims.declare import Claim, evaluate
from maskedntk.core.claims.render import write_claims
from maskedntk.core.claims.rows import median_seed_test
from maskedntk.core.claims.settings import evaluate_kwargs
from maskedntk.core.jobcli import JobArgs

from . import metrics

# Each test below takes the tables and the claim's keyword arguments, and passes ``stats``
# (alpha, n_boot, rng: what :func:`maskedntk.core.claims.declare.evaluate` gives every test) on.


def t_active(tables, *, tol, **stats):
    r = metrics.activity_ratio(tables["activity"])
    per_seed = r.groupby("seed")["ratio"].apply(lambda s: float(np.max(np.abs(s - 1.0))))
    out = median_seed_test(per_seed, null=tol, sign=-1, label="max_m |k/(mQ(b)) - 1|", **stats)
    bound_ok = bool((r["mean_active"] <= r["m"] ** 0.8).all())
    out["note"] += f"; m={int(r['m'].min())}..{int(r['m'].max())}; mean count <= m^(4/5) at every m: {bound_ok}"
    return out


def t_persist(tables, *, ratio, **stats):
    per_seed = metrics.persistence(tables["training"]).groupby("seed")["ratio_max"].max()
    return median_seed_test(per_seed, null=ratio, sign=-1, label="max over M, checkpoints of k_t/(mQ(b))", **stats)


def _meeting_width(tr: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The training runs whose width meets m >= constant M^2 / eps^2, and a note naming the
    target norms left out."""
    out = sorted(tr.loc[~tr["meets_width"].astype(bool), "M"].unique())
    note = f"; left out (width below constant M^2/eps^2): M = {', '.join(f'{M:g}' for M in out)}" if out else ""
    return tr[tr["meets_width"].astype(bool)], note


def t_rate_M(tables, *, eps, exponent, **stats):
    tr, left_out = _meeting_width(tables["training"])
    T = metrics.steps_to_eps(tr, eps)
    per_seed = T.groupby("seed").apply(lambda g: metrics.loglog_slope(g["M"], g["T_eps"]), include_groups=False)
    missing = int(T["T_eps"].isna().sum())
    start = tr[tr["step"] == 0].groupby(["seed", "M"])["test_loss"].first()
    at_start = int((start <= eps).sum())
    out = median_seed_test(per_seed, null=exponent, sign=-1, label="gamma in T_eps ~ M^gamma", **stats)
    out["note"] += (
        f"; eps = {eps:g}; (seed, M) cells left out: {missing} "
        f"({at_start} already below eps at t = 0, the rest never reached it)" + left_out
    )
    return out


def t_rate_T(tables, *, slope, **stats):
    tr, left_out = _meeting_width(tables["training"])
    per_seed = metrics.late_slope(tr).groupby("seed")["slope"].mean()
    out = median_seed_test(
        per_seed, null=slope, sign=-1, label="late log-log slope of test loss vs t (mean over M)", **stats
    )
    out["note"] = out.get("note", "") + left_out
    return out


def t_sublinear(tables, *, identifier, d, **stats):
    e = metrics.cost_exponents(tables["cost"], identifier, d)
    label = f"exponent of {identifier} inner products/step vs m (d={d})"
    return median_seed_test(e.set_index("seed")["exponent"], null=1.0, sign=-1, label=label, **stats)


def t_walltime(tables, *, identifier, d, **stats):
    c = tables["cost"]
    c = c[(c["d"] == d) & (c["B"] == 1)]
    mmax = c["m"].max()
    h = c[c["m"] == mmax].pivot_table(index="seed", columns="identifier", values="t_ident")
    per_seed = np.log(h[identifier] / h["dense"])
    label = f"log(time {identifier} / time dense) per step at m={int(mmax)}, d={d}, B=1"
    out = median_seed_test(per_seed, null=0.0, sign=-1, label=label, **stats)
    cross = metrics.crossover(metrics.cost_summary(tables["cost"]))
    cross = cross[(cross["identifier"] == identifier) & (cross["B"] == 1)]
    out["note"] = (
        out.get("note", "")
        + "; first m beating dense (median over seeds), by d: "
        + ", ".join(f"d={r.d}: " + ("none" if np.isnan(r.m_cross) else f"{int(r.m_cross)}") for r in cross.itertuples())
    )
    return out


def declare(cfg: Mapping) -> list[Claim]:
    cl, tr = cfg["claims"], cfg["training"]
    ident, d = cl["sublinear_identifier"], int(cl["sublinear_d"])
    return [
        Claim(
            "active_fraction",
            f"At initialisation each input activates m Q(b) neurons on average, b = sqrt({cfg['c_threshold']} ln m) "
            f"(within {100 * cl['active_tolerance']:g}% at every m), which is below m^(4/5)",
            "2110.04622 abstract (m^{4/5} per input); 2307.06565 abstract; c = 0.4 reconstructed",
            ("activity",),
            t_active,
            {"tol": float(cl["active_tolerance"])},
        ),
        Claim(
            "sparsity_persists",
            f"Through SGD the mean active count stays below {cl['persist_ratio']:g} x its initial value m Q(b)",
            "2208.05395 abstract (o(m) active per input per iteration); 2307.06565 abstract",
            ("training",),
            t_persist,
            {"ratio": float(cl["persist_ratio"])},
        ),
        Claim(
            "rate_in_M",
            f"The steps to reach test loss eps = {tr['eps']:g} grow no faster than M^{cl['rate_exponent']:g} "
            "(runs whose width meets m >= constant M^2/eps^2)",
            "2307.06565 abstract: O(M^2 / eps^2)",
            ("training",),
            t_rate_M,
            {"eps": float(tr["eps"]), "exponent": float(cl["rate_exponent"])},
        ),
        Claim(
            "rate_in_T",
            f"The test loss decays at least as fast as t^({cl['loss_slope']:g}) late in training "
            "(theory: eps ~ M/sqrt(T))",
            "2307.06565 abstract, O(M^2/eps^2) solved for eps",
            ("training",),
            t_rate_T,
            {"slope": float(cl["loss_slope"])},
        ),
        Claim(
            "sublinear_identification",
            f"The {ident} identifier's inner products per SGD step (query + update + rebuilds; "
            "the one-time initial build apart) grow "
            f"sublinearly in m at d = {d} (B = 1)",
            "2307.06565 abstract: activated neurons identified in sublinear time",
            ("cost",),
            t_sublinear,
            {"identifier": ident, "d": d},
        ),
        Claim(
            "faster_than_dense",
            f"At the largest m, d = {d} and B = 1 the {ident} identifier's wall time per step "
            "(query + update + rebuilds) is below the dense one's",
            "2307.06565 abstract (o(m) cost per step implies a wall-time gain at large m)",
            ("cost",),
            t_walltime,
            {"identifier": ident, "d": d},
        ),
    ]


def job(args: JobArgs) -> None:
    """The claims job: inputs ``activity`` (the activity table), ``training`` and ``cost`` (every
    training and cost table); outputs ``csv``, ``md``, ``html``."""
    cfg = args.settings
    tables = {
        "activity": pd.read_parquet(args.input("activity")),
        "training": pd.concat([pd.read_parquet(p) for p in args.inputs["training"]], ignore_index=True),
        "cost": pd.concat([pd.read_parquet(p) for p in args.inputs["cost"]], ignore_index=True),
    }
    kw = evaluate_kwargs(cfg)
    df = evaluate(declare(cfg), tables, **kw)
    exact = bool(tables["cost"]["identical"].all())
    footer = (
        "Exactness: every identifier's iterates were bit-identical to dense SGD in every cost run: "
        f"{'yes' if exact else 'NO'}."
    )
    write_claims(
        df,
        *(args.output(k) for k in ("csv", "md", "html")),
        title="Sublinear activated-neuron identification (Qin, Song, Yang 2023): claims",
        alpha=kw["alpha"],
        footer=footer,
    )
