"""The sublinear study's Snakemake target end to end through the repository's Snakefile, on
the CI configuration (all of .test/config/); the metadata beside every table; then which jobs a
config edit reruns, and the refusal of a configuration whose job cannot fit."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from study_workflow import ROOT, check_study_outputs, ci_workdir, copy_run, planned_rules

from maskedntk.studies.sublinear.workflow import SublinearWorkflow

pytestmark = pytest.mark.workflow


def _check_outputs(out: Path) -> None:
    claims = check_study_outputs(out, ("activity", "persistence", "loss", "cost"), 6)
    assert "not run" not in set(claims["verdict"])
    cost = pd.read_csv(out / "tables" / "cost.csv")
    assert cost["identical"].all()  # every identifier reproduced dense SGD bit for bit
    assert (cost.loc[cost["identifier"] == "dense", "ip_ratio"] == 1).all()
    assert {"compiled_tree", "compiled_static", "partition_tree"} <= set(cost["identifier"])
    assert set(cost["B"]) == {1, 4}
    assert "Crossover" in (out / "tables" / "cost.md").read_text()
    assert "Exactness" in (out / "tables" / "claims.md").read_text()


def _check_metadata(workdir: Path) -> None:
    """Every table's metadata is core.jobcli's, holding the settings its job read."""
    config = {}
    for name in ("config.yaml", "sublinear.yaml"):
        config.update(yaml.safe_load((workdir / "config" / name).read_text()))
    wf = SublinearWorkflow(config, "results", "logs")
    out = workdir / "results" / "sublinear"
    for run in wf.experiments:
        meta = json.loads((out / "runs" / f"{run}.json").read_text())
        assert meta["job"] == wf.runs.job(run) and meta["seconds"] > 0
        assert meta["provenance"]["config"] == json.loads(wf.runs.config_json(run))
    cost = json.loads((out / "runs" / "cost_d4.json").read_text())
    assert cost["all_identical"] is True and cost["compile_seconds"] >= 0
    for table, run in (("claims", "claims"), ("cost", "cost-table")):
        meta = json.loads((out / "tables" / f"{table}.json").read_text())
        assert meta["job"] == run and meta["provenance"]["config"] == json.loads(wf.runs.config_json(run))


def test_sublinear_all(ci_run, tmp_path):
    # the session's CI run (reproduce_all on .test/config/, once), copied: the edits below stay here
    wd = copy_run(ci_run, tmp_path)
    _check_outputs(wd / "results" / "sublinear")
    _check_metadata(wd)
    # a new claims threshold reruns the claims and the one figure that draws it, nothing else
    config = wd / "config" / "sublinear.yaml"
    config.write_text(re.sub(r"persist_ratio: [0-9.]+", "persist_ratio: 1.4", config.read_text()))
    assert planned_rules(wd, "sublinear_all") == {
        "sublinear_claims",
        "sublinear_fig_persistence",
        "sublinear_all",
    }


def test_a_job_too_large_is_refused_before_any_job(tmp_path):
    ci_workdir(tmp_path)
    config = tmp_path / "config" / "sublinear.yaml"
    config.write_text(config.read_text().replace("    ds: [4]\n", "    ds: [4, 1000000]\n"))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path)]
    # (a limit below any machine's memory: the .test widths make the job need about 47 GB)
    cmd += ["--config", "max_job_mem_mb=16000"]
    run = subprocess.run([*cmd, "--cores", "1", "sublinear_all"], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert re.search(r"sublinear job cost_d1000000 needs an estimated [0-9,]+ MB", run.stdout + run.stderr)
    assert not (tmp_path / "results").exists()  # no job ran
