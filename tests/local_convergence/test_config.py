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
            lambda c: c["claims"].pop("alpha"),
            r"local_convergence.claims.alpha: missing key; required keys",
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
    for job in X.JOB_SETTINGS:
        share = X.job_settings(c, job)
        assert X.settings(share) == share  # a share is used as given (not re-validated)
    assert "claims" not in X.job_settings(c, "local") and "local" not in X.job_settings(c, "samples")
