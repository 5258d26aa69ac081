"""core.claims.rows.median_seed_test: the over-seeds test row every study's claims use."""

import numpy as np
import pandas as pd

from maskedntk.core.claims.rows import SEED_TEST, median_seed_test
from maskedntk.core.claims.stats import claim_rng, cluster_bootstrap, wilcoxon_one_sided


def _row(x, **kw):
    args = {"null": 0.6, "sign": -1, "label": "u", "alpha": 0.05, "n_boot": 300, "rng": claim_rng("C", 3)} | kw
    return median_seed_test(x, **args)


def test_effect_is_the_median_and_the_interval_the_seed_bootstrap():
    x = pd.Series([0.3, 0.1, np.nan, 0.2, 0.5, 0.4], index=[10, 11, 12, 13, 14, 15])
    row = _row(x)
    finite = x.dropna()
    ci = cluster_bootstrap(finite.to_numpy(), finite.index.to_numpy(), np.median, 300, claim_rng("C", 3), 0.05)
    assert row["effect"] == 0.3 and (row["ci_low"], row["ci_high"]) == ci and row["n_units"] == 5
    # every seed below the null: the smallest p five seeds allow, and "reproduced"
    assert row["p_value"] == wilcoxon_one_sided(finite.to_numpy() - 0.6, -1)[0] == 2**-5
    assert row["min_p"] == 2**-5 and row["verdict"] == "reproduced" and row["test"] == SEED_TEST
    assert row["effect_label"] == "u" and "null u >= 0.6" in row["note"]


def test_the_claimed_side_decides_the_verdict():
    x = pd.Series([0.3, 0.1, 0.2, 0.5, 0.4])
    assert _row(x, sign=+1)["verdict"] == "not reproduced"  # all below a null claimed exceeded
    assert _row(x, null=0.3)["verdict"] != "reproduced"  # centred on the null


def test_fewer_than_two_seeds_is_inconclusive():
    short = _row(pd.Series([0.3, np.inf, np.nan]))
    assert short["n_units"] == 1 and short["verdict"] == "inconclusive" and "fewer than 2 seeds" in short["note"]
    assert "effect" not in short
