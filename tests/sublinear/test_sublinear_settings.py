"""The sublinear study's jobs: the settings each run receives (only what it reads; the same
numbers from them as from the whole config), the command line and the metadata beside a table,
each job's memory and time estimate and the refusal of a job that cannot fit."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from maskedntk.core.resources import runtime_minutes
from maskedntk.core.schema import ConfigError
from maskedntk.studies.sublinear import experiments, jobs
from maskedntk.studies.sublinear import resources as estimates
from maskedntk.studies.sublinear.workflow import SublinearWorkflow

ROOT = Path(__file__).parents[2]
CI_CONFIG = ROOT / ".test" / "config" / "sublinear.yaml"
#: the global claim statistics of the CI configuration
CLAIMS = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())["claims"]


def _cfg() -> dict:
    return yaml.safe_load(CI_CONFIG.read_text())["sublinear"]


def _workflow(cfg: dict, claims: dict = CLAIMS, **extra) -> SublinearWorkflow:
    return SublinearWorkflow({"sublinear": cfg, "claims": claims, **extra}, "results", "logs")


def _settings(cfg: dict, claims: dict = CLAIMS) -> dict[str, str]:
    wf = _workflow(cfg, claims)
    return {run: wf.runs.config_json(run) for run in wf.runs}


@pytest.mark.parametrize(
    "section, key, value, changed",
    [
        ("claims", "persist_ratio", 1.4, {"claims", "fig_persistence"}),
        ("claims", "active_tolerance", 0.2, {"claims"}),
        ("training", "eps", 1.0e-2, {"train_M1", "train_M4", "claims", "fig_loss"}),
        ("training", "degrees", [2], {"train_M1", "train_M4", "cost_d4"}),
        ("training", "Ms", [1.0, 4.0, 8.0], set()),
        ("training", "steps", 700, {"train_M1", "train_M4"}),
        ("cost", "ds", [4, 8], set()),
        ("cost", "steps", [30, 30, 30], {"cost_d4"}),
        ("activity", "n_inputs", 60, {"activity"}),
        (None, "eta0", 0.5, {"train_M1", "train_M4", "cost_d4"}),
        (
            None,
            "c_threshold",
            0.5,
            {"activity", "train_M1", "train_M4", "cost_d4", "claims", "fig_activity", "fig_cost"},
        ),
    ],
)
def test_a_change_reaches_only_the_runs_that_read_it(section, key, value, changed):
    """(Runs added by the change, a new M or d, are not compared.)"""
    cfg = _cfg()
    before = _settings(cfg)
    (cfg if section is None else cfg[section])[key] = value
    after = _settings(cfg)
    assert {run for run in before if before[run] != after[run]} == changed


@pytest.mark.parametrize("key, value", [("alpha", 0.01), ("bootstrap_resamples", 999), ("seed", 3)])
def test_the_global_claim_statistics_reach_the_claims_only(key, value):
    before, after = _settings(_cfg()), _settings(_cfg(), {**CLAIMS, key: value})
    assert {run for run in before if before[run] != after[run]} == {"claims"}
    assert json.loads(after["claims"])["claims"][key] == value


def test_cost_gets_only_its_seeds():
    cfg = _cfg()
    before = experiments.job_settings(experiments.validate(cfg), "cost", d=4)
    assert before["seeds"] == cfg["seeds"][: cfg["cost"]["n_seeds"]]
    cfg["seeds"] = [*cfg["seeds"], 7]
    assert experiments.job_settings(experiments.validate(cfg), "cost", d=4) == before


def _keys(cfg: dict) -> set:
    """(key, sub-key or None) for every setting of ``cfg``."""
    return {(k, s) for k, v in cfg.items() for s in (v if isinstance(v, dict) else [None])}


def test_every_setting_is_read_by_some_job():
    """Every key of the config reaches a job (Ms and ds as the choice of a run)."""
    wf = _workflow(_cfg())
    read = set().union(*(_keys(settings) for settings in map(wf.runs.settings, wf.runs)))
    assert _keys(wf.settings) - read == {("training", "Ms"), ("cost", "ds")}
    assert {("M", None), ("d", None), ("name", None)} <= read


def test_command_line_settings_from_a_whole_config_or_the_runs_part():
    cfg = experiments.validate(_cfg())
    want = experiments.job_settings(cfg, "train", M=4.0)
    assert experiments.prepare({**cfg, "M": 4.0}, "train") == want
    assert experiments.prepare(want, "train") == want
    with pytest.raises(ValueError, match="cost.steps"):
        experiments.prepare({**cfg, "M": 4.0, "cost": {**cfg["cost"], "steps": [1]}}, "train")
    with pytest.raises(ValueError, match=r"job train: its settings must name \['M'\]"):
        experiments.prepare(cfg, "train")
    with pytest.raises(ValueError, match=r"sublinear cost d = 0\.5: must be an integer >= 2"):
        experiments.prepare({**cfg, "d": 0.5}, "cost")
    claims = experiments.job_settings(cfg, "claims")
    with pytest.raises(ConfigError, match=r"claims\.alpha: missing key"):
        experiments.prepare(claims, "claims")


def test_jobs_give_the_same_numbers_from_their_settings():
    cfg = experiments.validate(_cfg())
    cfg["training"]["steps"] = 30
    cfg["cost"].update(steps=[5, 5], ms=[256, 512])
    whole = jobs.train_table(cfg, 4.0)
    pd.testing.assert_frame_equal(whole, jobs.train_table(experiments.job_settings(cfg, "train", M=4.0), 4.0))
    whole = jobs.cost_runs(cfg, 4)
    part = jobs.cost_runs(experiments.job_settings(cfg, "cost", d=4), 4)
    cols = [c for c in whole.columns if not c.startswith("t_")]  # wall times differ
    pd.testing.assert_frame_equal(whole[cols], part[cols])


def test_command_line_writes_the_table_and_its_metadata(tmp_path):
    cfg = experiments.validate(_cfg())
    cfg["cost"].update(steps=[3, 3, 3])
    settings = experiments.job_settings(cfg, "cost", d=4)
    table, meta, log = tmp_path / "c.parquet", tmp_path / "c.json", tmp_path / "c.log"
    cmd = [sys.executable, "-m", "maskedntk.studies.sublinear", "cost", "--config", json.dumps(settings)]
    cmd += ["--out", f"table={table}", f"meta={meta}", "--log", str(log)]
    subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    df = pd.read_parquet(table)
    got = json.loads(meta.read_text())
    assert set(got) == {"job", "seconds", "provenance", "all_identical", "compile_seconds"}
    assert got["job"] == "cost" and got["provenance"]["config"] == settings
    assert got["all_identical"] == bool(df["identical"].all()) and got["compile_seconds"] >= 0
    assert set(df["d"]) == {4} and "job sublinear cost finished" in log.read_text()


def test_estimates_follow_the_settings():
    wf = _workflow(_cfg())
    cost = wf.runs.settings("cost_d4")
    base = estimates.estimate("cost", cost)
    wider = {**cost, "cost": {**cost["cost"], "ms": [64 * m for m in cost["cost"]["ms"]]}}
    assert estimates.estimate("cost", wider).mem_mb > base.mem_mb
    assert estimates.estimate("cost", wider).seconds > base.seconds
    m = max(cost["cost"]["ms"])
    B = max(b["B"] for b in cost["cost"]["batches"])
    assert base.mem_mb == estimates.BASE_MB + -(-estimates.cost_memory(m, 4, B) // 2**20)
    assert wf.runs.runtime("cost_d4") == runtime_minutes(base.seconds)
    assert wf.runs.mem_mb("claims") == estimates.BASE_MB
    trains = [wf.runs.estimates[run] for run in ("train_M1", "train_M4")]  # M = 4 trains a wider network
    assert trains[1].seconds >= trains[0].seconds and trains[1].mem_mb >= trains[0].mem_mb


def test_a_configuration_whose_job_cannot_fit_is_refused():
    cfg = yaml.safe_load((ROOT / "config" / "sublinear.yaml").read_text())["sublinear"]
    cfg["cost"]["ds"] = [4, 1000000]  # 8 (6 m d + B m) bytes at m = 2^20: about 48 TB
    with pytest.raises(ConfigError, match=r"sublinear job cost_d1000000 needs an estimated [0-9,]+ MB of memory"):
        _workflow(cfg)
    wf = _workflow(_cfg())
    largest = max(wf.runs.estimates, key=wf.runs.mem_mb)
    with pytest.raises(ConfigError, match=rf"job {largest} needs .* more than the 100 MB"):
        _workflow(_cfg(), max_job_mem_mb=100)
