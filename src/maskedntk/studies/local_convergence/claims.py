"""The claims table: one :class:`~maskedntk.core.claims.declare.Claim` per statement of the
paper, each a one-sided test over seeds that can come out "not reproduced".

Every test reduces each seed to one number (the unit) and tests its centre against a null with
a one-sided Wilcoxon signed-rank test (:func:`maskedntk.core.claims.rows.median_seed_test`;
a binomial test for pass/fail units).  The effect is the median over seeds of the per-seed statistic, with a percentile
cluster bootstrap interval over seeds (the global claims settings ``claims.bootstrap_resamples``
and ``claims.seed``; each claim's generator from its id, :func:`~maskedntk.core.claims.stats.claim_rng`).
:func:`claims_for` declares them from the settings the claims job reads; :func:`evaluate` runs
them with :func:`maskedntk.core.claims.declare.evaluate`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from maskedntk.core.claims import stats as S
from maskedntk.core.claims.declare import Claim
from maskedntk.core.claims.declare import evaluate as run_claims
from maskedntk.core.claims.rows import base_row, median_seed_test, seed_test_row

SRC = "Zhou, Ge & Jin (COLT 2021)"


def _slope(x, y) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    return float(np.polyfit(x[ok], y[ok], 1)[0]) if ok.sum() >= 2 and np.ptp(x[ok]) > 0 else math.nan


def level_cols(df: pd.DataFrame) -> dict[float, str]:
    return {float(c[2:]): c for c in df.columns if c.startswith("T_")}


def times(df: pd.DataFrame, censor: bool = False) -> pd.DataFrame:
    """T(eps) per run (columns: eps); 0 (start below eps) -> NaN; never reached -> NaN, or
    steps + 1 (a lower bound, for figures) when ``censor``."""
    cols = level_cols(df)
    T = df[list(cols.values())].astype(float).set_axis(list(cols), axis=1)
    T[T == 0] = np.nan
    miss = T < 0
    T[miss] = np.nan
    if censor:
        T = T.mask(miss, np.broadcast_to(df["steps"].to_numpy(dtype=float)[:, None] + 1.0, T.shape))
    return T


# --- the tests -------------------------------------------------------------------------------


def t_eps_bound(tables, **stats):
    """C1a: b = max over m of the slope of log T(eps) in log(1/eps); Theorem 5 gives b <= 1."""
    df = tables["local"]
    T = times(df, censor=False)  # unreached levels drop out (censoring at `steps` would bias b down)
    b = pd.Series([_slope(-np.log(T.columns), np.log(T.iloc[i])) for i in range(len(df))], index=df.index)
    per_seed = b.groupby(df["seed"]).max()
    return median_seed_test(per_seed, null=1.0, sign=-1, label="max_m slope of log T(eps) vs log(1/eps)", **stats)


def m_independence(tables, *, eta, r, w_max, slope_max, **stats):
    """C1b: B_m = max_eps T(eps) eps eta / (r w_max) for m > r over the levels every width of
    the seed reached; slope of log B_m in log m < slope_max."""
    df = tables["local"]
    over = df[df["ratio"] > 1]
    T = times(over, censor=False) * eta / (r * w_max)
    per_seed = {}
    for s, g in over.groupby("seed"):
        common = T.loc[g.index].dropna(axis=1)  # the levels every width of this seed reached
        B = (common * np.asarray(common.columns)[None, :]).max(axis=1) if common.shape[1] else np.nan
        per_seed[s] = _slope(np.log(g["m"]), np.log(B))
    per_seed = pd.Series(per_seed)
    return median_seed_test(
        per_seed, null=slope_max, sign=-1, label="slope of log max_eps T(eps) eps eta in log m (m > r)", **stats
    )


def _kappa_fit(df: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for s, g in df[~df["diverged"]].groupby("seed"):
        A = np.column_stack([np.ones(len(g)), np.log(g["r"]), np.log(g["w_max"])])
        coef = np.linalg.lstsq(A, np.log(g["min_ratio"].to_numpy()), rcond=None)[0]
        rows[s] = {"r": coef[1], "w_max": coef[2]}
    return pd.DataFrame.from_dict(rows, orient="index")


def kappa_exponent(tables, *, var, tol, **stats):
    """C2a/b: the exponent of min ||grad L||_F / L in ``var`` (joint fit in log r, log w_max)
    is >= -1/2 - tol (Theorem 4: the ratio is at least kappa = Theta(r^-1/2 w_max^-1/2))."""
    fit = _kappa_fit(tables["gradient_bound"])[var]
    return median_seed_test(fit, null=-0.5 - tol, sign=+1, label=f"exponent of min ||grad L||/L in {var}", **stats)


def alignment(tables, *, drop, **stats):
    """C3a: max over m > r of (final / initial mass-weighted angle to the teachers) < drop."""
    df = tables["local"]
    over = df[df["ratio"] > 1]
    per_seed = (over["angle_final"] / over["angle0"]).groupby(over["seed"]).max()
    return median_seed_test(per_seed, null=drop, sign=-1, label="max_m angle_final / angle_0 (mass-weighted)", **stats)


def relu_counterexample(tables, *, zero_loss, alpha, n_boot, rng):
    """C3b: per seed, the ReLU loss of Appendix A.2's student is zero (<= zero_loss times the
    teacher's scale) while every student is at angle > 1e-3 from every teacher.  A pass/fail
    unit: an exact binomial test against 1/2 over seeds; the effect is the fraction of seeds
    that pass (the median of a 0/1 unit would say only on which side of 1/2 it lies), with a
    percentile bootstrap interval resampling seeds."""
    df = tables["claim1"]
    ok = ((df["L_relu"].abs() <= zero_loss * df["teacher_scale"]) & (df["min_angle_relu"] > 1e-3)).to_numpy(float)
    row = base_row() | {"test": "binomial vs 1/2, seeds", "effect_label": "fraction of seeds"}
    if ok.size == 0:
        return row | {"note": "no seeds"}
    p = S.binom_one_sided(int(ok.sum()), ok.size, 0.5)
    ci = S.cluster_bootstrap(ok, np.arange(ok.size), np.mean, n_boot, rng, alpha)
    return seed_test_row(row, list(df["seed"]), float(ok.mean()), ci, p, null=0.5, sign=+1, alpha=alpha, notes=[])


def claim2_exponents(tables, *, tol, **stats):
    """C4: max(|slope of log L_two - 3|, |slope of log L_one - 2|) per seed < tol."""
    df = tables["claim2"]
    dev = pd.Series(
        {
            s: max(
                abs(_slope(np.log(g["delta"]), np.log(g["L_two"])) - 3.0),
                abs(_slope(np.log(g["delta"]), np.log(g["L_one"])) - 2.0),
            )
            for s, g in df.groupby("seed")
        }
    )
    return median_seed_test(dev, null=tol, sign=-1, label="max |fitted exponent - (3, 2)|", **stats)


def local_exponents(df: pd.DataFrame) -> pd.DataFrame:
    """p_j = log(eps_j / eps_j+1) / log(T_j+1 / T_j) between consecutive levels (local exponent
    of L ~ T^-p); columns: the lower level of each pair."""
    T = times(df, censor=False)
    eps = np.asarray(T.columns)
    out = {
        eps[j + 1]: np.log(eps[j] / eps[j + 1]) / np.log(T.iloc[:, j + 1] / T.iloc[:, j]) for j in range(len(eps) - 1)
    }
    return pd.DataFrame(out, index=df.index)


def _first_last(p: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The first and the last finite local exponent of each row."""
    a = p.to_numpy(dtype=float)
    ok = np.isfinite(a)
    first = np.array([row[k][0] if k.any() else np.nan for row, k in zip(a, ok, strict=True)])
    last = np.array([row[k][-1] if k.any() else np.nan for row, k in zip(a, ok, strict=True)])
    return first, last


def exact_linear(tables, *, accel, **stats):
    """C5a: m = r: the local exponent grows (last / first reached pair > accel): linear convergence."""
    df = tables["local"]
    ex = df[df["ratio"] == 1]
    first, last = _first_last(local_exponents(ex))
    per_seed = pd.Series(last / first, index=ex["seed"].to_numpy())
    return median_seed_test(per_seed, null=accel, sign=+1, label="m = r: last / first local exponent", **stats)


def over_one_over_T(tables, **stats):
    """C5b: m > r: min over m of the last reached local exponent p (L ~ T^-p) is >= 1 (the
    O(1/T) of Theorem 5)."""
    df = tables["local"]
    over = df[df["ratio"] > 1]
    _, last = _first_last(local_exponents(over))
    per_seed = pd.Series(last, index=over.index).groupby(over["seed"]).min()
    return median_seed_test(
        per_seed, null=1.0, sign=+1, label="min_m local exponent p of L ~ T^-p (last decade)", **stats
    )


def init_width(tables, **stats):
    """C6: Algorithm 1's loss before GD falls with the width: log10(L_init(m_max) / L_init(m_min))
    < 0 per seed (Lemma E.1: enough neurons give L(W') <= eps_init)."""
    df = tables["initialisation"]
    L = df.pivot(index="seed", columns="m", values="L_init")
    return median_seed_test(
        np.log10(L[L.columns.max()] / L[L.columns.min()]),
        null=0.0,
        sign=-1,
        label="log10(L_init(m_max) / L_init(m_min))",
        **stats,
    )


def samples_match_gd(tables, *, factor, **stats):
    """C7: at the largest N, SGD's final population loss is within ``factor`` of population GD's
    from the same start: |log10(L_SGD / L_GD)| < log10(factor) (a diverged run counts as inf)."""
    df = tables["samples"]
    gd = df[~np.isfinite(df["N"])].set_index("seed")["L_final"]
    big = df[df["N"] == df.loc[np.isfinite(df["N"]), "N"].max()].set_index("seed")["L_final"]
    dev = np.abs(np.log10(big / gd)).fillna(np.inf)
    return median_seed_test(dev, null=math.log10(factor), sign=-1, label="|log10(L_SGD(N_max) / L_GD)|", **stats)


def figure1_local(tables, *, tol, **stats):
    """C8: Figure 1(c): from near the teachers (d = 2, m = 20, r = 3) L_final <= tol."""
    df = tables["figure1"]
    loc = df[df["regime"] == "local"].set_index("seed")
    return median_seed_test(
        np.log10(loc["L_final"].clip(lower=1e-300) / tol),
        null=0.0,
        sign=-1,
        label="log10(L_final / tol), local start",
        **stats,
    )


def relu_variant_sign(tables, *, angle, **stats):
    """C9: the ReLU variant (Appendix A.1), started near the teachers with random signs, ends
    aligned *with* sign: its mass-weighted signed angle to the nearest teacher is < ``angle``
    (log10(angle_signed / angle) < 0 per seed; a diverged run counts as pi).  Appendix A.1 splits the ReLU loss into
    L_abs / 4 + |sum_i |w_i| w_i - sum_k w*_k|^2 / 8; zero L_abs aligns the neurons up to sign
    (Theorem 3) and, for linearly independent teachers, the linear term then forbids any
    neuron with mass at -w*_k.  Claim 1's counterexample needs sum_k w*_k = 0 instead."""
    df = tables["relu_variant"]
    rel = df[df["activation"] == "relu"].set_index("seed")
    signed = rel["signed_angle_final"].where(~rel["diverged"].astype(bool), math.pi)  # diverged: the worst angle
    x = np.log10(signed.clip(lower=1e-300) / angle)
    return median_seed_test(x, null=0.0, sign=-1, label="log10(signed angle / relu_sign_angle), ReLU variant", **stats)


def claims_for(cfg) -> list[Claim]:
    """The claims, with the thresholds of ``cfg`` (the claims job's settings)."""
    cl, t = cfg["claims"], cfg["teacher"]
    return [
        Claim(
            "C1a_T_eps_bound",
            "from below the threshold, T(eps) grows no faster than 1/eps for every m",
            f"{SRC}, Theorem 5",
            ("local",),
            t_eps_bound,
        ),
        Claim(
            "C1b_rate_independent_of_m",
            "max_eps T(eps) eps eta does not grow with the width m > r",
            f"{SRC}, Theorem 5 and Section 3.2",
            ("local",),
            m_independence,
            {"eta": cfg["local"]["eta"], "r": t["r"], "w_max": t["w_max"], "slope_max": cl["m_slope_max"]},
        ),
        Claim(
            "C2a_kappa_r",
            "min ||grad L||_F / L along GD scales no worse than r^-1/2",
            f"{SRC}, Theorem 4",
            ("gradient_bound",),
            kappa_exponent,
            {"var": "r", "tol": cl["kappa_slope_tol"]},
        ),
        Claim(
            "C2b_kappa_wmax",
            "min ||grad L||_F / L along GD scales no worse than w_max^-1/2",
            f"{SRC}, Theorem 4",
            ("gradient_bound",),
            kappa_exponent,
            {"var": "w_max", "tol": cl["kappa_slope_tol"]},
        ),
        Claim(
            "C3a_alignment",
            "GD aligns the student neurons (mass-weighted angle up to sign) with teachers",
            f"{SRC}, Theorem 3 (and Theorem 1)",
            ("local",),
            alignment,
            {"drop": cl["align_drop"]},
        ),
        Claim(
            "C3b_relu_counterexample",
            "with ReLU a zero-loss student can have neurons matching no teacher",
            f"{SRC}, Claim 1, Appendix A.2",
            ("claim1",),
            relu_counterexample,
            {"zero_loss": cl["zero_loss"]},
        ),
        Claim(
            "C4_claim2_exponents",
            "two students at angle delta: L = Theta(delta^3); one student: Theta(delta^2)",
            f"{SRC}, Section 4, Claim 2",
            ("claim2",),
            claim2_exponents,
            {"tol": cl["exponent_tol"]},
        ),
        Claim(
            "C5a_exact_linear",
            "m = r converges linearly (locally strongly convex)",
            f"{SRC}, Section 4",
            ("local",),
            exact_linear,
            {"accel": cl["linear_accel"]},
        ),
        Claim(
            "C5b_overparam_rate",
            "m > r converges at least as fast as O(1/T)",
            f"{SRC}, Theorem 5 (T = O(r w_max / (eps eta)))",
            ("local",),
            over_one_over_T,
        ),
        Claim(
            "C6_init_width",
            "Algorithm 1 starts at a lower loss with more student neurons",
            f"{SRC}, Theorem 6, Lemma E.1",
            ("initialisation",),
            init_width,
        ),
        Claim(
            "C7_samples",
            "SGD with N fresh samples per step converges like GD once N is large enough",
            f"{SRC}, Theorem 7",
            ("samples",),
            samples_match_gd,
            {"factor": cl["sgd_factor"]},
        ),
        Claim(
            "C8_figure1_local",
            "Figure 1(c): started near the teachers, GD reaches a small loss",
            f"{SRC}, Figure 1",
            ("figure1",),
            figure1_local,
            {"tol": cfg["figure1"]["tol"]},
        ),
        Claim(
            "C9_relu_variant_sign",
            "ReLU variant (not the paper's model), independent teachers: GD from near the teachers "
            "ends aligned with sign, where the |.| model is aligned only up to sign",
            f"{SRC}, Appendix A.1 with Theorem 3 (contrast: Claim 1, Appendix A.2)",
            ("relu_variant",),
            relu_variant_sign,
            {"angle": cl["relu_sign_angle"]},
        ),
    ]


def evaluate(cfg, tables) -> pd.DataFrame:
    """The claims table of ``tables`` ({experiment: run table})."""
    cl = cfg["claims"]
    return run_claims(claims_for(cfg), tables, alpha=cl["alpha"], n_boot=cl["bootstrap_resamples"], seed=cl["seed"])
