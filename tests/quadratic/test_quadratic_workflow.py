"""The quadratic study's Snakemake target ``quadratic_all`` through the repository's Snakefile, on the CI
configuration (every file of .test/config/, copied into the temporary working directory): its outputs,
the metadata beside every table, the memory and runtime each rule declares, and the refusal of a
configuration whose job cannot fit."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from study_workflow import ROOT, check_study_outputs, ci_workdir, snakemake

from maskedntk.studies.quadratic.workflow import QuadraticWorkflow

FIGURES = [
    "fig1_spectrum",
    "fig2_phi",
    "fig3_overlap",
    "fig4_gaussian",
    "fig5_rates",
    "fig6_gap",
    "fig7_empirical",
    "fig8_masked",
]


def _workflow(workdir) -> QuadraticWorkflow:
    """The study's workflow object of the configuration in ``workdir`` (as the rules file builds it)."""
    config = {}
    for name in ("config.yaml", "quadratic.yaml"):
        config.update(yaml.safe_load((workdir / "config" / name).read_text()))
    return QuadraticWorkflow(config, "results", "logs")


def _declared_resources(dry_run: str) -> dict[str, dict[str, int]]:
    """rule name -> {mem_mb, runtime} from the job blocks of a dry run's output."""
    out = {}
    for block in re.split(r"\n(?=rule )", dry_run):
        rule = re.match(r"rule (\w+):", block)
        res = re.search(r"resources: (.*)", block)
        pairs = dict(kv.split("=", 1) for kv in res.group(1).split(", ")) if res else {}
        if rule and "mem_mb" in pairs:  # (the target rule quadratic_all declares none)
            out[rule.group(1)] = {k: int(pairs[k]) for k in ("mem_mb", "runtime")}
    return out


@pytest.mark.workflow
def test_quadratic_all(ci_run):
    wd = ci_run  # the session's CI run (reproduce_all on .test/config/, once); read only here
    out = wd / "results" / "quadratic"
    df = check_study_outputs(out, FIGURES, 12)
    assert df["claim"].is_unique
    assert (df["verdict"] != "not run").all()
    assert df["p_value"].between(0, 1).all()
    # the theory the figures overlay: recovery values at the end of the CI runs
    assert df.set_index("claim").loc["partial_recovery", "effect"] < 0.02
    # the Gaussian setup's own limit is in the limit table and its two claims ran
    lim = pd.read_parquet(out / "runs" / "limit.parquet")
    own = lim[lim["kind"] == "flow_gaussian"]
    assert set(own["regime"]) == {"over", "equal", "under"} and own["phi"].notna().all()
    assert not df.set_index("claim").loc[["gaussian_tracks_own_limit", "gaussian_late_slope"], "effect"].isna().any()
    # every table's metadata: the one format of core.jobcli, holding the settings the job read
    wf = _workflow(wd)
    for run in wf.simulations:
        meta = json.loads((out / "runs" / f"{run}.json").read_text())
        assert meta["job"] == wf.runs.job(run) and meta["seconds"] > 0
        assert meta["provenance"]["config"] == json.loads(wf.runs.config_json(run))
        assert meta["rows"] == len(pd.read_parquet(out / "runs" / f"{run}.parquet"))
        assert (
            "job quadratic " + wf.runs.job(run) + " finished" in (wd / "logs" / "quadratic" / f"{run}.log").read_text()
        )
    claims_meta = json.loads((out / "tables" / "claims.json").read_text())
    assert claims_meta["provenance"]["config"]["claims"]["bootstrap_resamples"] == 500  # the global key of .test
    # the memory and runtime each rule declares are the workflow's estimates
    declared = _declared_resources(snakemake(wd, "--dry-run", "--forceall", "quadratic_all").stdout)
    for run in [*wf.simulations, *wf.figures, "claims"]:
        assert declared[f"quadratic_{run}"] == {"mem_mb": wf.runs.mem_mb(run), "runtime": wf.runs.runtime(run)}, run


@pytest.mark.workflow
def test_a_job_too_large_is_refused_before_any_job(tmp_path):
    ci_workdir(tmp_path)
    path = tmp_path / "config" / "quadratic.yaml"
    path.write_text(path.read_text().replace("    d: 300\n", "    d: 1000000\n", 1))  # spectrum.d
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path)]
    run = subprocess.run([*cmd, "--cores", "1", "quadratic_all"], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    message = run.stdout + run.stderr
    assert re.search(
        r"quadratic job spectrum needs an estimated [0-9,]+ MB of memory, more than the [0-9,]+ MB", message
    )
    assert not (tmp_path / "results").exists()  # no job ran
