"""The sublinear study's per-job settings: each job gets only what it reads, and gives the same
numbers from it as from the whole config."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from maskedntk.studies.sublinear import experiments, jobs
from maskedntk.studies.sublinear.__main__ import _config
from maskedntk.studies.sublinear.workflow import SublinearWorkflow

ROOT = Path(__file__).parents[2]
CI_CONFIG = ROOT / ".test" / "config" / "sublinear.yaml"


def _cfg() -> dict:
    return yaml.safe_load(CI_CONFIG.read_text())["sublinear"]


def _settings(cfg: dict) -> dict[str, str]:
    wf = SublinearWorkflow({"sublinear": cfg}, "results", "logs")
    return {job: wf.settings_json(job) for job in experiments.JOB_SETTINGS}


@pytest.mark.parametrize(
    "section, key, value, changed",
    [
        ("claims", "persist_ratio", 1.4, {"claims", "figure-persistence"}),
        ("claims", "active_tolerance", 0.2, {"claims"}),
        ("training", "eps", 1.0e-2, {"train", "claims", "figure-loss"}),
        ("training", "degrees", [2], {"train", "cost"}),
        ("training", "Ms", [1.0, 4.0, 8.0], set()),
        ("training", "steps", 700, {"train"}),
        ("cost", "ds", [4, 8], set()),
        ("cost", "steps", [30, 30, 30], {"cost"}),
        ("activity", "n_inputs", 60, {"activity"}),
        (None, "alpha", 0.1, {"claims"}),
        (None, "eta0", 0.5, {"train", "cost"}),
        (None, "c_threshold", 0.5, {"activity", "train", "cost", "claims", "figure-activity", "figure-cost"}),
    ],
)
def test_a_change_reaches_only_the_jobs_that_read_it(section, key, value, changed):
    cfg = _cfg()
    before = _settings(cfg)
    (cfg if section is None else cfg[section])[key] = value
    after = _settings(cfg)
    assert {job for job in before if before[job] != after[job]} == changed


def test_cost_gets_only_its_seeds():
    cfg = _cfg()
    before = experiments.job_settings(experiments.validate(cfg), "cost")
    assert before["seeds"] == cfg["seeds"][: cfg["cost"]["n_seeds"]]
    cfg["seeds"] = [*cfg["seeds"], 7]
    assert experiments.job_settings(experiments.validate(cfg), "cost") == before


def _keys(cfg: dict) -> set:
    """(key, sub-key or None) for every setting of ``cfg``."""
    return {(k, s) for k, v in cfg.items() for s in (v if isinstance(v, dict) else [None])}


def test_every_setting_is_read_by_some_job():
    """Every key of the config reaches a job (Ms and ds through the jobs' own arguments)."""
    cfg = experiments.validate(_cfg())
    read = set().union(*(_keys(experiments.job_settings(cfg, job)) for job in experiments.JOB_SETTINGS))
    assert _keys(cfg) - read == {("training", "Ms"), ("cost", "ds")}


def test_cli_takes_a_whole_config_or_the_job_settings(tmp_path):
    cfg = experiments.validate(_cfg())
    want = experiments.job_settings(cfg, "train")
    assert _config(str(CI_CONFIG), "train") == want
    (tmp_path / "c.json").write_text(json.dumps({"sublinear": cfg}))
    assert _config(str(tmp_path / "c.json"), "train") == want
    assert _config(json.dumps(cfg), "train") == want
    assert _config(json.dumps(want), "train") == want
    with pytest.raises(ValueError, match="cost.steps"):
        _config(json.dumps({**cfg, "cost": {**cfg["cost"], "steps": [1]}}), "train")


def test_jobs_give_the_same_numbers_from_their_settings(tmp_path):
    cfg = experiments.validate(_cfg())
    cfg["training"]["steps"] = 30
    cfg["cost"].update(steps=[5, 5], ms=[256, 512])
    for job, run in (
        ("train", lambda c, out, meta: jobs.train(c, 4.0, out, meta)),
        ("cost", lambda c, out, meta: jobs.cost(c, 4, out, meta)),
    ):
        whole = run(cfg, str(tmp_path / "a.parquet"), str(tmp_path / "a.json"))
        part = run(experiments.job_settings(cfg, job), str(tmp_path / "b.parquet"), str(tmp_path / "b.json"))
        cols = [c for c in whole.columns if not c.startswith("t_")]  # wall times differ
        pd.testing.assert_frame_equal(whole[cols], part[cols])
