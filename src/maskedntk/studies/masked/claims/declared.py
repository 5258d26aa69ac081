"""The masked-neuron study's claims, declared by data: id, statement, source in the paper
(Liao & Kyrillidis, arXiv 2112.02668v1), the experiments each needs, the test and its
arguments.  Order does not matter: each claim's bootstrap generator comes from its id."""

from __future__ import annotations

from maskedntk.core.claims.declare import Claim

from .levels import three_phases_claim, xi_one_claim
from .rates import prediction_claim, rate_order_claim
from .trend import trend_claim


def _runs(tables, experiment, where):
    runs = tables[experiment]["runs"]
    return runs.query(where) if where else runs


def trend(tables, *, experiment, where="", restriction="", **kw) -> dict:
    """A monotone trend of a response in a treatment on the experiment's runs (``where``: a
    pandas query that restricts them, also stated in the test's text)."""
    return trend_claim(_runs(tables, experiment, where), restriction=restriction, **kw)


def xi_one(tables, **kw) -> dict:
    return xi_one_claim(tables["heatmap_bernoulli"]["runs"], **kw)


def three_phases(tables, **kw) -> dict:
    t = tables["dynamics"]
    return three_phases_claim(t["runs"], t["trajectories"], t.get("trace"), **kw)


def rate_order(tables, **kw) -> dict:
    return rate_order_claim({e: t["runs"] for e, t in tables.items()}, **kw)


def prediction(tables, **kw) -> dict:
    return prediction_claim({e: t["runs"] for e, t in tables.items()}, **kw)


#: the Bernoulli experiments whose cells differ in Theorem 3's factor (theta, tau, eta)
RATE_EXPERIMENTS = ("heatmap_bernoulli", "local_steps")


HB = ("heatmap_bernoulli",)
XI_BELOW_ONE = dict(experiment="heatmap_bernoulli", where="xi < 1", restriction="; xi < 1")

CLAIMS: tuple[Claim, ...] = (
    Claim(
        "xi_lowers_error",
        "Fix the number of subnetworks p and raise the selection probability xi: the error "
        "neighbourhood (plateau) falls.",
        "v1 sec. 5, Fig. 2b; Theorem 3 (B1)",
        HB,
        trend,
        dict(XI_BELOW_ONE, treatment="xi", response="plateau", sign=-1),
    ),
    Claim(
        "xi_one_vanishes",
        "At xi = 1 the error neighbourhood vanishes: B1 = 0 and training is plain GD. Tested as: the "
        "plateau at xi = 1 is at least 100 times below the plateau at the largest xi < 1.",
        "v1 sec. 4.1 after Corollary 4; Theorem 3",
        HB,
        xi_one,
    ),
    Claim(
        "p_lowers_error",
        "Fix xi < 1 and raise p: the error neighbourhood falls.",
        "v1 sec. 5, Fig. 2b; Corollary 5",
        HB,
        trend,
        dict(XI_BELOW_ONE, treatment="p", response="plateau", sign=-1),
    ),
    Claim(
        "p_speeds_rate",
        "Fix xi < 1 and raise p: convergence is faster, since theta = 1 - (1 - xi)^p grows.",
        "v1 sec. 4.1 after Corollary 5; Theorem 3 rate factor",
        HB,
        trend,
        dict(XI_BELOW_ONE, treatment="p", response="rate_empirical", sign=-1),
    ),
    Claim(
        "categorical_p_raises_error",
        "Categorical masks: the error grows with the number of subnetworks p.",
        "v1 sec. 5, Fig. 2c; Theorem 7",
        ("heatmap_categorical",),
        trend,
        dict(experiment="heatmap_categorical", treatment="p", response="plateau", sign=+1),
    ),
    Claim(
        "categorical_tau_raises_error",
        "Categorical masks: the error grows with the number of local steps tau.",
        "v1 sec. 5, Fig. 2c; Theorem 7",
        ("heatmap_categorical",),
        trend,
        dict(
            experiment="heatmap_categorical",
            where="p > 1",
            restriction="; p > 1",
            treatment="tau",
            response="plateau",
            sign=+1,
        ),
    ),
    Claim(
        "width_lowers_error_bernoulli",
        "Bernoulli masks: a wider network (larger m) has a smaller error (the first term of B1, "
        "64 (1-xi)^2 n^3 d / (m lambda0^2)).",
        "Theorem 3, eq. (7)",
        ("width",),
        trend,
        dict(
            experiment="width",
            where="mask == 'bernoulli'",
            restriction="; bernoulli masks",
            treatment="m",
            response="plateau",
            sign=-1,
        ),
    ),
    Claim(
        "width_lowers_error_categorical",
        "Categorical masks: a wider network (larger m) has a smaller error (Theorem 7's error term "
        "O(tau (p-1)^2 n^3 d / (lambda0^2 m))).",
        "v1 sec. 4.1 after Theorem 7",
        ("width",),
        trend,
        dict(
            experiment="width",
            where="mask == 'categorical'",
            restriction="; categorical masks",
            treatment="m",
            response="plateau",
            sign=-1,
        ),
    ),
    Claim(
        "three_phases",
        "Traced through local steps, every global round shows three phases: a smooth decrease during "
        "local training, a drop at aggregation, a rise when new masks are sampled.",
        "v1 sec. 5, Fig. 2a",
        ("dynamics",),
        three_phases,
    ),
    Claim(
        "tau_raises_error",
        "Bernoulli masks: the error neighbourhood grows with the number of local steps tau "
        '("the error term ... increases as we increase the number of local training steps").',
        "Abstract; Corollary 6",
        ("local_steps",),
        trend,
        dict(
            experiment="local_steps",
            where="xi < 1",
            restriction="; xi < 1",
            treatment="tau",
            response="plateau",
            sign=+1,
        ),
    ),
    Claim(
        "rate_follows_theorem",
        "Theorem 3's rate factor 1 - eta theta tau lambda0 / 4 orders the cells: where it is smaller "
        "(larger theta, tau or eta), the loss contracts faster.",
        "Theorem 3, eq. (7); v1 sec. 4.1 after Corollary 5",
        RATE_EXPERIMENTS,
        rate_order,
        needs="any",
    ),
    Claim(
        "prediction_within_25pct",
        "Beyond the paper: the plateau predicted from the data and the initialisation alone (no constant "
        "fitted to runs) is within 25% of the measured stationary plateau (median over Bernoulli runs, m >= 1000).",
        "this project (docs/masked/prediction.md)",
        ("heatmap_bernoulli", "local_steps", "width"),
        prediction,
        needs="any",
    ),
)
