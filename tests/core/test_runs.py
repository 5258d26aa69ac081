"""A study's runs (core.runs) and the global claim statistics (core.claims.settings)."""

import json

import pytest

from maskedntk.core.claims.settings import claim_statistics, evaluate_kwargs, split_statistics, with_statistics
from maskedntk.core.resources import runtime_minutes
from maskedntk.core.runs import Estimate, Runs, prepare_settings
from maskedntk.core.schema import ConfigError

STATS = {"alpha": 0.05, "bootstrap_resamples": 500, "seed": 3}


def _estimate(job, settings):
    return Estimate(100 * settings["n"], 60.0 * settings["n"])


def test_runs_give_each_runs_settings_memory_and_runtime():
    runs = Runs("toy", {"a": ("sim", {"n": 2, "b": [1]}), "b": ("sim", {"n": 1})}, _estimate, {"max_job_mem_mb": 200})
    assert list(runs) == ["a", "b"] and runs.job("a") == "sim"
    assert json.loads(runs.config_json("a")) == {"b": [1], "n": 2} and runs.config_json("a").index('"b"') == 1
    assert runs.mem_mb("a") == 200 and runs.runtime("a") == runtime_minutes(120.0)


def test_runs_refuse_the_largest_run_over_the_limit():
    with pytest.raises(ConfigError, match=r"toy job big needs an estimated 300 MB of memory, more than the 200 MB"):
        Runs("toy", {"small": ("sim", {"n": 1}), "big": ("sim", {"n": 3})}, _estimate, {"max_job_mem_mb": 200})


def test_claim_statistics_name_a_missing_key():
    assert claim_statistics({"claims": {**STATS, "other": 1}}) == STATS
    assert evaluate_kwargs({"claims": STATS}) == {"alpha": 0.05, "n_boot": 500, "seed": 3}
    with pytest.raises(ConfigError, match=r"config key claims\.seed: missing key"):
        claim_statistics({"claims": {"alpha": 0.05, "bootstrap_resamples": 500}})
    with pytest.raises(ConfigError, match=r"config key claims: missing"):
        claim_statistics({})


def test_statistics_join_and_split_a_claims_jobs_settings():
    joined = with_statistics({"claims": {"tol": 0.1}, "x": 1}, STATS)
    assert joined == {"claims": {"tol": 0.1, **STATS}, "x": 1}
    assert split_statistics(joined) == (STATS, {"claims": {"tol": 0.1}, "x": 1})
    with pytest.raises(ConfigError, match=r"claims\.alpha: a global setting"):
        with_statistics({"claims": {"alpha": 0.1}}, STATS)


def test_prepare_settings_splits_the_choice_and_the_statistics():
    seen = []

    def reduce(cfg, job, choice):
        seen.append(("whole", dict(cfg), job, choice))
        return {"part": cfg["whole"], **choice}

    def check(part, job, choice):
        seen.append(("part", dict(part), job, choice))
        return {**part, **choice}

    kw = {"choices": ("regime",), "is_whole": lambda s: "whole" in s, "reduce": reduce, "check": check}
    assert prepare_settings({"whole": 1, "regime": "over"}, "sim", **kw) == {"part": 1, "regime": "over"}
    got = prepare_settings({"claims": {"tol": 0.1, **STATS}}, "claims", **kw)
    assert got == {"claims": {"tol": 0.1, **STATS}}
    assert seen == [
        ("whole", {"whole": 1}, "sim", {"regime": "over"}),
        ("part", {"claims": {"tol": 0.1}}, "claims", {}),
    ]
    with pytest.raises(ConfigError, match=r"claims\.alpha: missing key"):
        prepare_settings({"claims": {"tol": 0.1}}, "claims", **kw)
