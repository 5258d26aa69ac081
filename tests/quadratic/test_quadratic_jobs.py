"""The quadratic study's jobs on the one job command line: the settings each run receives, the
command line and the metadata beside a table, and each job's memory and time estimate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from maskedntk.core.resources import runtime_minutes
from maskedntk.core.schema import ConfigError
from maskedntk.studies.quadratic import resources as estimates
from maskedntk.studies.quadratic.experiments import job_settings, prepare, validate, widths
from maskedntk.studies.quadratic.workflow import QuadraticWorkflow

ROOT = Path(__file__).parents[2]


def _config(**edits) -> dict:
    """The default configuration (the global keys and config/quadratic.yaml), with ``edits``
    (``section__key=value`` under ``quadratic``, ``claims__key=value`` of the global claims)."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(yaml.safe_load((ROOT / "config" / "quadratic.yaml").read_text()))
    for name, value in edits.items():
        section, key = name.split("__")
        target = config if section == "claims" else config["quadratic"]
        target[section] = {**target[section], key: value}
    return config


def _changed(**edits) -> set[str]:
    before, after = QuadraticWorkflow(_config(), "r", "l"), QuadraticWorkflow(_config(**edits), "r", "l")
    return {run for run in before.runs if before.runs.config_json(run) != after.runs.config_json(run)}


def test_each_run_receives_only_the_settings_it_reads():
    wf = QuadraticWorkflow(_config(), "results", "logs")
    flow = json.loads(wf.runs.config_json("flow_gaussian_under"))
    assert sorted(flow) == ["base_seed", "flow", "regime", "regimes", "seeds", "setup", "threads"]
    assert flow["regimes"] == {"under": [0.25, 0.5]} and (flow["setup"], flow["regime"]) == ("gaussian", "under")
    assert sorted(flow["flow"]) == ["dims", "eta", "gamma_max"]  # not flow.setups: the setup is the run's own
    # a run's settings pass the command line's check unchanged
    for run in wf.runs:
        assert prepare(json.loads(wf.runs.config_json(run)), wf.runs.job(run)) == wf.runs.settings(run), run


@pytest.mark.parametrize(
    "edits, changed",
    [
        ({"masked__p": 3}, {"fig8_masked", "masked"}),
        ({"masked__xi": 0.75}, {"claims", "fig8_masked", "masked"}),
        ({"rates__fit_over": [9.0, 25.0]}, {"claims", "fig5_rates"}),
        ({"rates__equal": [0.5, 0.5 + 1e-9]}, {"rates_equal", "fig5_rates"}),
        (
            {"regimes__under": [0.25, 0.6]},
            {"limit", "flow_orthonormal_under", "flow_gaussian_under", "fig2_phi", "fig3_overlap", "fig4_gaussian"}
            | {"fig6_gap"},
        ),
        ({"claims__alpha": 0.01}, {"claims"}),
        ({"claims__bootstrap_resamples": 999}, {"claims"}),
    ],
)
def test_an_edit_reruns_only_the_runs_that_read_it(edits, changed):
    assert _changed(**edits) == changed


def test_a_runs_choice_is_checked():
    settings = job_settings(validate(_config()["quadratic"]), "flow", setup="gaussian", regime="over")
    with pytest.raises(ValueError, match=r"quadratic flow regime = 'sideways': must be one of"):
        prepare({**settings, "regime": "sideways"}, "flow")
    with pytest.raises(ValueError, match=r"job flow: its settings must name \['setup', 'regime'\]"):
        prepare({k: v for k, v in settings.items() if k != "setup"}, "flow")
    with pytest.raises(ValueError, match=r"quadratic rates regime = 'under'"):
        job_settings(validate(_config()["quadratic"]), "rates", regime="under")


def test_claims_settings_need_the_global_statistics():
    wf = QuadraticWorkflow(_config(), "results", "logs")
    settings = json.loads(wf.runs.config_json("claims"))
    assert {k: settings["claims"][k] for k in ("alpha", "bootstrap_resamples", "seed")} == _config()["claims"]
    del settings["claims"]["bootstrap_resamples"]
    with pytest.raises(ConfigError, match=r"claims\.bootstrap_resamples: missing key"):
        prepare(settings, "claims")
    with pytest.raises(ConfigError, match=r"config key claims: missing"):
        QuadraticWorkflow({k: v for k, v in _config().items() if k != "claims"}, "results", "logs")


def _run(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "maskedntk.studies.quadratic", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


def test_command_line_writes_the_table_its_metadata_and_log(tmp_path):
    settings = job_settings(validate(_config(spectrum__d=40)["quadratic"]), "spectrum")
    table, meta, log = tmp_path / "s.parquet", tmp_path / "s.json", tmp_path / "s.log"
    _run("spectrum", "--config", json.dumps(settings), "--out", f"table={table}", f"meta={meta}", "--log", str(log))
    m, _ = widths(40, settings["spectrum"]["alpha"], settings["spectrum"]["alpha_star"])
    assert len(pd.read_parquet(table)) == m  # one eigenvalue per column of U
    got = json.loads(meta.read_text())
    assert set(got) == {"job", "seconds", "provenance", "rows"}
    assert got["job"] == "spectrum" and got["rows"] == m and got["provenance"]["config"] == settings
    assert "wrote" in log.read_text() and "job quadratic spectrum finished" in log.read_text()


def test_command_line_reduces_a_whole_configuration(tmp_path):
    path = tmp_path / "quadratic.yaml"
    config = _config(spectrum__d=40)
    path.write_text(yaml.safe_dump({"quadratic": config["quadratic"]}))
    meta = tmp_path / "s.json"
    _run("spectrum", "--config", str(path), "--out", f"table={tmp_path / 's.parquet'}", f"meta={meta}")
    want = job_settings(validate(config["quadratic"]), "spectrum")
    assert json.loads(meta.read_text())["provenance"]["config"] == want


def test_estimates_follow_the_settings():
    wf = QuadraticWorkflow(_config(), "results", "logs")
    flow = wf.runs.settings("flow_orthonormal_equal")
    base = estimates.estimate("flow", flow)
    # t_step at the calibration point: 16000 steps at d = 80, m = m* = 40, 5 seeds (6.5 s measured)
    assert estimates.gd_seconds(16000, 5, 80, 40, 40) == pytest.approx(6.5, rel=0.02)
    longer = {**flow, "flow": {**flow["flow"], "gamma_max": 2 * flow["flow"]["gamma_max"]}}
    assert estimates.estimate("flow", longer).seconds == pytest.approx(2 * base.seconds, rel=0.01)
    emp = wf.runs.settings("empirical")
    more = {**emp, "empirical": {**emp["empirical"], "n_over_d2": [64.0]}}
    assert estimates.estimate("empirical", more).mem_mb > estimates.estimate("empirical", emp).mem_mb
    assert wf.runs.runtime("flow_orthonormal_equal") == runtime_minutes(base.seconds)
    assert wf.runs.mem_mb("claims") == estimates.BASE_MB


@pytest.mark.parametrize(
    "edits, job",
    [
        ({"spectrum__d": 1000000}, "spectrum"),
        ({"empirical__d": 3000}, "empirical"),
        ({"rates__dims": [20, 100000]}, "rates_"),
    ],
)
def test_a_configuration_whose_job_cannot_fit_is_refused(edits, job):
    with pytest.raises(
        ConfigError, match=rf"quadratic job {job}\w* needs an estimated [0-9,]+ MB of memory, more than"
    ):
        QuadraticWorkflow(_config(**edits), "results", "logs")


def test_the_memory_limit_comes_from_max_job_mem_mb():
    config = _config()
    wf = QuadraticWorkflow(config, "results", "logs")
    largest = max(wf.runs.estimates, key=lambda run: wf.runs.mem_mb(run))
    QuadraticWorkflow({**config, "max_job_mem_mb": wf.runs.mem_mb(largest)}, "results", "logs")
    with pytest.raises(ConfigError, match=rf"job {largest} needs an estimated"):
        QuadraticWorkflow({**config, "max_job_mem_mb": wf.runs.mem_mb(largest) - 1}, "results", "logs")
