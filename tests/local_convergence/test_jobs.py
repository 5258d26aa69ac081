"""The study's jobs on the one command line (core.jobcli): outputs, the metadata beside them,
the log, errors that name the bad option; and each job's memory and time estimate."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from maskedntk.core.resources import runtime_minutes
from maskedntk.core.schema import ConfigError
from maskedntk.studies.local_convergence import experiments as X
from maskedntk.studies.local_convergence import resources as R
from maskedntk.studies.local_convergence.__main__ import main
from maskedntk.studies.local_convergence.workflow import LocalConvergenceWorkflow

ROOT = Path(__file__).parents[2]
CI = X.validate(yaml.safe_load((ROOT / ".test" / "config" / "local_convergence.yaml").read_text())[X.KEY])
STATS = {"alpha": 0.05, "bootstrap_resamples": 200, "seed": 0}


def _run(tmp_path, job, settings, inputs, out):
    argv = [job, "--config", json.dumps(settings), "--out", *[f"{k}={tmp_path / v}" for k, v in out.items()]]
    if inputs:
        argv[3:3] = ["--inputs", *[f"{k}={v}" for k, v in inputs.items()]]
    return main([*argv, "--log", str(tmp_path / f"{job}.log")])


@pytest.fixture(scope="module")
def claim2(tmp_path_factory):
    """The claim2 training job run on the command line: its folder."""
    tmp = tmp_path_factory.mktemp("claim2")
    share = {**X.job_settings(CI, "claim2"), "experiment": "claim2"}
    assert _run(tmp, "train", share, {}, {"runs": "claim2.parquet", "meta": "claim2.json"}) == 0
    return tmp


def test_train_writes_its_table_metadata_and_log(claim2):
    runs = pd.read_parquet(claim2 / "claim2.parquet")
    assert len(runs) == len(CI["seeds"]) * CI["claim2"]["points"]
    meta = json.loads((claim2 / "claim2.json").read_text())
    assert meta["job"] == "train" and meta["experiment"] == "claim2" and "ratio" not in meta
    assert meta["rows"] == {"runs": len(runs)} == R.table_rows("claim2", CI)
    assert meta["provenance"]["config"] == {**X.job_settings(CI, "claim2"), "experiment": "claim2"}
    assert set(meta["provenance"]) == {"config", "versions", "git_commit"} and meta["seconds"] >= 0
    log = (claim2 / "train.log").read_text()
    assert "job local_convergence train started" in log and "claim2: rows {'runs': " in log
    assert log.rstrip().endswith("job local_convergence train finished")


def test_claims_and_figure_jobs_on_the_command_line(claim2):
    runs = str(claim2 / "claim2.parquet")
    settings = X.with_claim_stats(X.job_settings(CI, "claims"), STATS)
    out = {"csv": "claims.csv", "md": "claims.md", "html": "claims.html", "meta": "claims.json"}
    assert _run(claim2, "claims", settings, {"claim2": runs}, out) == 0
    table = pd.read_csv(claim2 / "claims.csv").set_index("claim")
    assert table.loc["C4_claim2_exponents", "verdict"] != "not run"  # the one claim its tables allow
    assert (table.drop(index="C4_claim2_exponents")["verdict"] == "not run").all()
    meta = json.loads((claim2 / "claims.json").read_text())
    assert meta["job"] == "claims" and meta["claims"] == len(table) and sum(meta["verdicts"].values()) == len(table)
    assert meta["provenance"]["config"]["claims"]["bootstrap_resamples"] == 200
    fig = {**X.job_settings(CI, "figure-claim2"), "figure": "claim2"}
    assert _run(claim2, "figure", fig, {"runs": runs}, {"pdf": "c2.pdf", "png": "c2.png"}) == 0
    assert (claim2 / "c2.pdf").stat().st_size > 5000 and (claim2 / "c2.png").stat().st_size > 5000


@pytest.mark.parametrize(
    ("job", "settings", "out", "message"),
    [
        ("train", {"experiment": "claim2"}, {"runs": "a.parquet"}, "config key seeds: missing; job train claim2 reads"),
        ("train", {**X.job_settings(CI, "claim2"), "experiment": "claim2"}, {"table": "a.parquet"}, "must name its"),
        ("train", X.job_settings(CI, "claim2"), {"runs": "a.parquet"}, "config key experiment = None"),
        ("figure", {"figure": "nope"}, {"pdf": "a.pdf"}, "config key figure = 'nope'"),
        ("claims", X.job_settings(CI, "claims"), {"csv": "a.csv"}, "claims.alpha: missing"),
    ],
)
def test_bad_job_command_lines_fail_naming_what_is_wrong(tmp_path, job, settings, out, message):
    with pytest.raises((SystemExit, ValueError), match=message):
        _run(tmp_path, job, settings, {}, out)


def _share(experiment, cfg=CI, **select):
    return {**X.job_settings(cfg, experiment), "experiment": experiment, **select}


def test_estimates_grow_with_the_sizes_that_cost():
    base = _share("local", ratio=2)
    wide = _share("local", ratio=200)
    S, r = len(CI["seeds"]), CI["teacher"]["r"]
    steps = CI["local"]["steps"] * R.PAIR_S * S * ((201 * r) ** 2 - (3 * r) ** 2)  # the S M^2 term
    rows = R.ROW_S * S * (200 * r - 2 * r)  # one neuron row per student
    assert R.train_seconds("local", wide) - R.train_seconds("local", base) == pytest.approx(steps + rows)
    assert R.train_memory_mb("local", wide) > R.train_memory_mb("local", base) >= R.BASE_MB
    more_seeds = {**base, "seeds": list(range(30))}
    assert R.train_seconds("local", more_seeds) > R.train_seconds("local", base)
    big_n = _share("masked_link")
    big_n["masked_link"] = {**big_n["masked_link"], "n": 4000}
    assert R.train_memory_mb("masked_link", big_n) > R.train_memory_mb("masked_link", _share("masked_link")) + 100
    assert R.train_seconds("claim2", _share("claim2")) < 5  # a few loss evaluations and the start


def test_workflow_declares_each_jobs_estimate_and_refuses_an_absurd_width():
    lc = LocalConvergenceWorkflow({X.KEY: CI}, "results", "logs", mem_limit_mb=4000)
    assert set(lc.estimates) == {*lc.jobs, "claims", *(f"fig_{f}" for f in lc.figures)}
    for job, (mb, seconds) in lc.estimates.items():
        assert R.BASE_MB < mb < 4000 and R.START_S < seconds < 60, (job, mb, seconds)
        assert lc.mem_mb(job) == mb and lc.runtime(job) == runtime_minutes(seconds)
    assert lc.mem_mb("local_r4") == R.train_memory_mb("local", _share("local", ratio=4))
    wide = {**CI, "local": {**CI["local"], "ratios": [1, 2, 10**6]}}
    with pytest.raises(ConfigError, match=r"job local_r1000000 needs an estimated [0-9,]+ MB.*more than the 4,000 MB"):
        LocalConvergenceWorkflow({X.KEY: wide}, "results", "logs", mem_limit_mb=4000)
    LocalConvergenceWorkflow({X.KEY: wide}, "results", "logs")  # no limit given: nothing refused


def test_default_configuration_fits_a_small_machine():
    """Every job of the default and paper configurations fits in 2 GB (the fixed request before
    the estimates), and the default run's estimated time stays within minutes."""
    for name in ("local_convergence.yaml", "local_convergence_paper.yaml"):
        cfg = yaml.safe_load((ROOT / "config" / name).read_text())
        lc = LocalConvergenceWorkflow(cfg, "results", "logs", mem_limit_mb=2000)
        assert max(s for _, s in lc.estimates.values()) < 600, name


def test_each_rules_settings_are_what_its_job_accepts():
    lc = LocalConvergenceWorkflow({X.KEY: CI, "claims": STATS}, "results", "logs")
    for job in lc.estimates:
        kind = "claims" if job == "claims" else "figure" if job.startswith("fig_") else "train"
        settings = json.loads(lc.settings_json(job))
        assert X.job_share(settings, kind) == settings, job
    assert json.loads(lc.settings_json("local_r2"))["ratio"] == 2
    assert json.loads(lc.settings_json("claims"))["claims"]["bootstrap_resamples"] == 200
    assert json.loads(lc.settings_json("fig_rates")) == {"figure": "rates"}
    with pytest.raises(ValueError, match="job = 'fig_nope': must be one of"):
        lc.settings_json("fig_nope")
    with pytest.raises(ConfigError, match="config key claims: missing"):
        LocalConvergenceWorkflow({X.KEY: CI}, "results", "logs").settings_json("claims")
