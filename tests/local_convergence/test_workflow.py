"""The local-convergence study's Snakemake target end to end through the repository's
Snakefile, on the CI configuration (all of .test/config/): every job runs on the one command
line, every figure and claim exists, each job's tables have its metadata (core.jobcli) and
its log; then which jobs a config edit reruns, and a configuration too large refused."""

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from study_workflow import ROOT, check_study_outputs, ci_workdir, copy_run, planned_rules, snakemake

from maskedntk.studies.local_convergence import claims, experiments
from maskedntk.studies.local_convergence.workflow import TABLES

pytestmark = pytest.mark.workflow


def test_local_convergence_all(ci_run, tmp_path):
    # the session's CI run (reproduce_all on .test/config/, once), copied: the edits below stay here
    wd = copy_run(ci_run, tmp_path)
    out = wd / "results" / "local_convergence"
    table = check_study_outputs(out, experiments.FIGURES, len(claims.claims_for(experiments.validate(_ci()))))
    assert table["p_value"].dropna().between(0, 1).all()
    # every training job ran: one local job per ratio and one per other experiment; its
    # metadata (core.jobcli) beside its runs table names the job, its settings and each table's rows
    jobs = {f"local_r{q}": ("local", q) for q in _ci()["local"]["ratios"]}
    jobs.update({e: (e, None) for e in experiments.RUN_JOBS if e != "local"})
    assert {p.stem for p in (out / "runs").glob("*.json")} == set(jobs)
    for job, (experiment, ratio) in jobs.items():
        meta = json.loads((out / "runs" / f"{job}.json").read_text())
        assert meta["job"] == "train" and meta["experiment"] == experiment and meta.get("ratio") == ratio
        assert set(meta["provenance"]) == {"config", "versions", "git_commit"} and meta["seconds"] > 0
        want = {**experiments.job_settings(_ci(), experiment), "experiment": experiment}
        assert meta["provenance"]["config"] == want | ({} if ratio is None else {"ratio": ratio})
        assert set(meta["rows"]) == set(TABLES[experiment])
        for t, n in meta["rows"].items():
            assert n == len(pd.read_parquet(out / "runs" / f"{job}{'' if t == 'runs' else '_' + t}.parquet")) > 0
        log = (wd / "logs" / "local_convergence" / f"{job}.log").read_text()
        assert "job local_convergence train started" in log and "job local_convergence train finished" in log
    # the claims job read the global claims settings (.test/config/config.yaml), not a study copy
    meta = json.loads((out / "tables" / "claims.json").read_text())
    stats = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())["claims"]
    assert meta["job"] == "claims" and meta["claims"] == len(table)
    assert {k: meta["provenance"]["config"]["claims"][k] for k in stats} == stats
    assert sum(meta["verdicts"].values()) == len(table)
    assert (pd.read_parquet(out / "runs" / "local_r1.parquet")["L_final"] < 1e-8).all()  # m = r: linear
    # the ReLU variant beside the |.| model, from the same start, labelled as a variant
    rv = pd.read_parquet(out / "runs" / "relu_variant.parquet")
    assert set(rv["model"]) == {"abs (paper)", "ReLU variant"}
    assert (rv.groupby("seed")["L0"].nunique() == 2).all()  # same start, two different losses
    assert not rv["diverged"].any()
    assert len(pd.read_parquet(out / "runs" / "relu_variant_traj.parquet")) > 0
    # the masked-neuron algorithm on this study's teacher, one row per seed and width
    ml = pd.read_parquet(out / "runs" / "masked_link.parquet")
    assert sorted(ml["m"].unique()) == _ci()["masked_link"]["widths"]
    assert len(ml) == len(_ci()["seeds"]) * len(_ci()["masked_link"]["widths"])
    assert (ml["train_error"] < ml["train_error0"]).all() and not ml["diverged"].any()
    # a claims threshold reruns the claims table only; a samples setting only its job, figure, claims
    config = wd / "config" / "local_convergence.yaml"
    text = config.read_text()
    config.write_text(re.sub(r"align_drop: [0-9.]+", "align_drop: 0.6", text))
    assert planned_rules(wd, "local_convergence_all") == {"local_convergence_claims", "local_convergence_all"}
    config.write_text(re.sub(r"batch: \[2, 16, 64\]", "batch: [2, 16, 32]", text))
    assert planned_rules(wd, "local_convergence_all") == {
        "local_convergence_samples",
        "local_convergence_fig_samples",
        "local_convergence_claims",
        "local_convergence_all",
    }
    config.write_text(
        re.sub(
            r"relu_variant: \{ratio: 2, rho: 0.1, eta: 0.1, steps: 300\}",
            "relu_variant: {ratio: 2, rho: 0.1, eta: 0.1, steps: 250}",
            text,
        )
    )
    assert planned_rules(wd, "local_convergence_all") == {
        "local_convergence_relu_variant",
        "local_convergence_fig_relu_variant",
        "local_convergence_claims",
        "local_convergence_all",
    }
    config.write_text(re.sub(r"rounds: 30,", "rounds: 25,", text))
    assert planned_rules(wd, "local_convergence_all") == {  # no claim reads it
        "local_convergence_masked_link",
        "local_convergence_fig_masked_link",
        "local_convergence_all",
    }
    config.write_text(text)
    # the global bootstrap setting reruns this study's claims table only
    glob = wd / "config" / "config.yaml"
    glob.write_text(re.sub(r"bootstrap_resamples: [0-9]+", "bootstrap_resamples: 400", glob.read_text()))
    assert planned_rules(wd, "local_convergence_all") == {"local_convergence_claims", "local_convergence_all"}


def _ci():
    return yaml.safe_load((ROOT / ".test" / "config" / "local_convergence.yaml").read_text())["local_convergence"]


def test_job_shares_give_the_same_numbers():
    """Each job computes from its share of the config (what the workflow passes) exactly what
    it computes from the whole config."""
    from maskedntk.studies.local_convergence import runs

    cfg = experiments.validate(_ci())
    cfg["local"]["steps"], cfg["samples"]["steps"], cfg["figure1"]["steps"] = 30, 20, 20
    cfg["gradient_bound"]["steps"], cfg["initialisation"]["steps"] = 20, 20

    def part(job):
        select = {"experiment": job} | ({"ratio": 2} if job == "local" else {})
        return experiments.job_share({**experiments.job_settings(cfg, job), **select}, "train")

    tables = {}
    for job in experiments.RUN_JOBS:
        full = runs.run_local(cfg, 2) if job == "local" else getattr(runs, f"run_{job}")(cfg)
        sub = runs.run_local(part(job), 2) if job == "local" else getattr(runs, f"run_{job}")(part(job))
        for name in full:
            pd.testing.assert_frame_equal(full[name], sub[name])
        tables[job] = full["runs"]
    stats = {"alpha": 0.05, "bootstrap_resamples": 200, "seed": 0}
    whole = {**cfg, "claims": {**cfg["claims"], **stats}}
    share = experiments.with_claim_stats(experiments.job_settings(cfg, "claims"), stats)
    pd.testing.assert_frame_equal(claims.evaluate(whole, tables), claims.evaluate(share, tables))


def test_rules_run_the_one_command_line_with_estimated_resources(tmp_path):
    """Every job's shell command is the study's one command line (the settings, inputs, outputs
    with the metadata and log) and declares the memory and runtime estimated from its settings."""
    from maskedntk.studies.local_convergence.workflow import LocalConvergenceWorkflow

    ci_workdir(tmp_path)
    out = snakemake(tmp_path, "--dry-run", "--printshellcmds", "local_convergence_all").stdout
    command = r"^(?:Shell command: )?python -m maskedntk\.studies\.local_convergence (\w+) (.*)$"
    commands = re.findall(command, out, re.M)
    lc = LocalConvergenceWorkflow({"local_convergence": _ci()}, "results", "logs")
    assert len(commands) == len(lc.jobs) + 1 + len(lc.figures)
    for job, rest in commands:
        assert job in ("train", "claims", "figure")
        assert re.match(r"--config '\{.*\}' (--inputs \S+=\S+( \S+=\S+)* )?--out \S+=\S+( \S+=\S+)* --log \S+$", rest)
        assert (" meta=" in rest) == (job != "figure"), rest
    declared, rule = {}, None  # rule -> its resources line, read block by block
    for line in out.splitlines():
        if m := re.match(r"(?:local)?rule (\w+):", line):
            rule = m.group(1)
        elif (m := re.match(r"\s+resources: (.*)", line)) and rule and rule.startswith("local_convergence_"):
            declared[rule.removeprefix("local_convergence_")] = m.group(1)
    assert "mem_mb" not in declared.pop("all")  # the target: no job of its own
    assert set(declared) == set(lc.estimates)
    for job, res in declared.items():
        assert re.search(rf"\bmem_mb={lc.mem_mb(job)}\b", res), (job, res)
        assert re.search(rf"\bruntime={lc.runtime(job)}\b", res), (job, res)


@pytest.mark.parametrize(
    ("edit", "job"),
    [  # an absurd width (m = 10^6 r) and an absurd dimension
        ((r"ratios: \[1, 2, 4\]", "ratios: [1, 2, 1000000]"), "local_r1000000"),
        # (claim1's Monte Carlo check of the ReLU loss holds 20000 samples of dimension d)
        ((r"teacher: \{r: 2, d: 3,", "teacher: {r: 2, d: 2000000000,"), "claim1"),
    ],
)
def test_oversized_configuration_refused_before_any_job(tmp_path, edit, job):
    ci_workdir(tmp_path)
    config = tmp_path / "config" / "local_convergence.yaml"
    config.write_text(re.sub(*edit, config.read_text()))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path)]
    proc = subprocess.run([*cmd, "--cores", "1", "local_convergence_all"], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    message = rf"local_convergence job {job} needs an estimated [0-9,]+ MB of memory, more than the [0-9,]+ MB"
    assert re.search(message, proc.stderr + proc.stdout), proc.stderr[-2000:]
    assert not (tmp_path / "results").exists()
