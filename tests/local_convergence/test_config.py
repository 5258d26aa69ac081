"""Configuration: the schema names the bad key and what is allowed; every job's share."""

import copy
from pathlib import Path

import pytest
import yaml

from maskedntk.studies.local_convergence import experiments as X

ROOT = Path(__file__).parents[2]


def _cfg(name="config/local_convergence.yaml"):
    return yaml.safe_load((ROOT / name).read_text())["local_convergence"]


@pytest.mark.parametrize(
    "name",
    ["config/local_convergence.yaml", "config/local_convergence_paper.yaml", ".test/config/local_convergence.yaml"],
)
def test_shipped_configs_validate(name):
    X.validate(_cfg(name))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["local"].update(eta=-1), r"local_convergence.local.eta = -1: must be in \(0, inf\)"),
        (
            lambda c: c["teacher"].update(colour=1),
            r"local_convergence.teacher: unknown key\(s\) \['colour'\]; allowed keys",
        ),
        (
            lambda c: c["claims"].pop("m_slope_max"),
            r"local_convergence.claims.m_slope_max: missing key; required keys",
        ),
        (  # the significance level and the bootstrap are the global key claims, not the study's
            lambda c: c["claims"].update(alpha=0.05),
            r"local_convergence.claims: unknown key\(s\) \['alpha'\]",
        ),
        (lambda c: c["teacher"].update(r="3"), r"local_convergence.teacher.r = '3': must be of type integer"),
        (lambda c: c["teacher"].update(w_min=2.0), r"teacher.w_min = 2.0: must be <= teacher.w_max"),
        (lambda c: c["local"].update(ratios=[2, 4]), r"local.ratios: must include 1"),
        (lambda c: c["figure1"].update(Delta=1.0), r"figure1.Delta = 1.0: must be <= pi / \(2 r\)"),
        (lambda c: c["teacher"].update(r=5), r"teacher.r = 5: must be <= teacher.d = 4"),
        (lambda c: c["masked_link"].update(xi=1.5), r"masked_link.xi = 1.5: must be in \(0, 1\]"),
    ],
)
def test_bad_config_names_the_key(edit, message):
    c = copy.deepcopy(_cfg())
    edit(c)
    with pytest.raises(ValueError, match=message):
        X.validate(c)


def test_no_default_in_code_and_job_shares():
    c = X.validate(_cfg())
    with pytest.raises(ValueError, match="required"):
        X.validate({k: v for k, v in c.items() if k != "samples"})
    assert "claims" not in X.job_settings(c, "local") and "local" not in X.job_settings(c, "samples")
    assert set(X.FIGURES) == {j.removeprefix("figure-") for j in X.JOB_SETTINGS if j.startswith("figure-")}


STATS = {"alpha": 0.05, "bootstrap_resamples": 300, "seed": 4}


def test_job_share_passes_a_share_and_reduces_a_whole_config():
    c = X.validate(_cfg())
    share = {**X.job_settings(c, "samples"), "experiment": "samples"}
    assert X.job_share(share, "train") == share  # as the workflow passes it: used as given
    assert X.job_share({**c, "experiment": "samples"}, "train") == share  # a whole config: reduced
    local = X.job_share({**c, "experiment": "local", "ratio": 2}, "train")
    assert local == {**X.job_settings(c, "local"), "experiment": "local", "ratio": 2}
    fig = X.job_share({**c, "figure": "local_rate"}, "figure")
    assert fig == {**X.job_settings(c, "figure-local_rate"), "figure": "local_rate"}
    claims = X.with_claim_stats(X.job_settings(c, "claims"), STATS)
    assert X.job_share(claims, "claims") == claims
    assert claims["claims"]["bootstrap_resamples"] == 300 and claims["claims"]["m_slope_max"] == 0.25
    assert "bootstrap_resamples" not in c["claims"]  # the study's own settings are not changed


@pytest.mark.parametrize(
    ("settings", "job", "message"),
    [
        ({"seeds": [0, 1]}, "train", r"config key experiment = None: must be one of \['local'"),
        ({"experiment": "lokal"}, "train", r"experiment = 'lokal': must be one of"),
        ({"experiment": "local"}, "train", "ratio = None: the experiment local needs a positive integer"),
        ({"experiment": "local", "ratio": "2"}, "train", "ratio = '2': the experiment local needs a positive integer"),
        ({"experiment": "claim2", "ratio": 2}, "train", "ratio = 2: only the experiment local takes a ratio"),
        ({"figure": "heatmap"}, "figure", r"config key figure = 'heatmap': must be one of \['local_rate'"),
        (X.job_settings(X.validate(_cfg()), "claims"), "claims", r"claims.alpha: missing; the claims job needs"),
        ({"experiment": "claim2", "seeds": [0, 1]}, "train", r"config key claim2: missing; job train claim2"),
    ],
)
def test_job_share_names_the_bad_selection(settings, job, message):
    with pytest.raises(ValueError, match=message):
        X.job_share(settings, job)


def test_whole_config_ratio_must_be_one_of_the_config():
    with pytest.raises(ValueError, match="ratio = 3: must be one of local.ratios"):
        X.job_share({**_cfg(), "experiment": "local", "ratio": 3}, "train")


@pytest.mark.parametrize(
    ("stats", "message"),
    [(None, "config key claims: missing"), ({"alpha": 0.05, "seed": 0}, "claims.bootstrap_resamples: missing")],
)
def test_claims_needs_the_global_claims_settings(stats, message):
    with pytest.raises(ValueError, match=message):
        X.with_claim_stats(X.job_settings(X.validate(_cfg()), "claims"), stats)
