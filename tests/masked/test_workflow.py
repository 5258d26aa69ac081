"""The masked study's Snakemake workflow end to end, on the tiny .test configuration.

The session's run of every study's CI workflow (the fixture ``ci_run`` of tests/conftest.py:
``reproduce_all`` on .test/config/) feeds most tests; the interrupted-rerun, cluster-executor
and rerun tests run their own subsets and compare with it byte for byte, and the tests of what
an edit reruns work on a copy of it.  Update the golden values on purpose with
``pytest tests/masked/test_workflow.py --update-golden``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from runs_columns import RUNS_COLUMNS
from study_workflow import ROOT, ci_workdir, copy_run, output, planned_rules, snakemake

from maskedntk.studies.masked.experiments import expand_config
from maskedntk.studies.masked.figures import FIGURES as MASKED_FIGURES

GOLDEN = ROOT / "tests" / "golden" / "test_runs.csv"
FIGURES = list(MASKED_FIGURES)
#: the CI settings of the study (the key masked of .test/config/masked.yaml)
CI = yaml.safe_load((ROOT / ".test" / "config" / "masked.yaml").read_text())["masked"]
#: numeric columns compared with the golden values, and the tolerance (float64 on one machine type)
GOLDEN_FLOATS = [
    "plateau_predicted",
    "cor6_order",
    "error_after_K",
    "window_mean",
    "eta",
    "lambda0",
    "theta",
    "B1",
    "rate_theory",
    "L0",
    "plateau",
    "final",
    "rate_empirical",
    "authors_estimate",
]
GOLDEN_EXACT = ["experiment", "cell", "seed", "diverged", "diverged_round", "stationary", "rounds_run"]
GOLDEN_RTOL = 1e-8
#: loss columns, also allowed an absolute difference of GOLDEN_LOSS_ATOL * L_0 (rounding level)
GOLDEN_LOSSES = ["L0", "plateau", "final", "authors_estimate", "error_after_K", "window_mean"]
GOLDEN_CLAIMS = ROOT / "tests" / "golden" / "test_claims.csv"
#: claim columns compared exactly, and numerically (the bootstrap is seeded by the claim id)
GOLDEN_CLAIM_EXACT = ["claim", "verdict", "n_units"]
GOLDEN_CLAIM_FLOATS = ["effect", "ci_low", "ci_high", "p_value", "min_p"]
GOLDEN_LOSS_ATOL = 1e-14

pytestmark = pytest.mark.workflow


def results(wd: Path) -> Path:
    return wd / "results" / "masked"


def logs(wd: Path) -> Path:
    return wd / "logs" / "masked"


def fresh_workdir(tmp_path_factory, name):
    return ci_workdir(tmp_path_factory.mktemp(name))


def with_config(tmp_path: Path, settings: dict) -> Path:
    """A config file holding ``settings`` (to merge with --configfile)."""
    f = tmp_path / "more.yaml"
    f.write_text(yaml.safe_dump(settings))
    return f


def test_lint_is_clean():
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--directory", ".test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations, your workflow is in a good condition" in proc.stdout + proc.stderr


def test_every_figure_and_table(ci_run):
    out = results(ci_run)
    for fig in FIGURES:
        for ext in ("pdf", "png"):
            path = out / "figures" / f"{fig}.{ext}"
            assert path.exists() and path.stat().st_size > 5000, path
        assert (logs(ci_run) / "figures" / f"{fig}.log").exists()
    png = (out / "figures" / "fig_dynamics.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # each figure file was drawn by its own module (rules defined in a loop once all ran the last script)
    from PIL import Image

    for fig in FIGURES:
        with Image.open(out / "figures" / f"{fig}.png") as im:
            assert im.info.get("Title") == f"maskedntk.studies.masked.figures.{fig.removeprefix('fig_')}", fig
    runs = pd.read_csv(out / "tables" / "runs.csv")
    assert set(RUNS_COLUMNS) <= set(runs.columns)
    # every experiment, and its re-runs under the compared protocols (<experiment>__<protocol>)
    assert set(runs["experiment"]) == set(expand_config(CI))
    assert set(CI["experiments"]) < set(runs["experiment"])
    assert (runs.groupby(["experiment", "cell"]).size() == CI["defaults"]["seeds"]).all()
    traj = pd.read_parquet(out / "tables" / "trajectories.parquet")
    assert list(traj.columns) == ["experiment", "cell", "seed", "round", "L"]
    K = CI["defaults"]["train"]["rounds"]
    sizes = traj[traj.experiment == "heatmap_bernoulli"].groupby(["cell", "seed"]).size()
    ran = runs[runs.experiment == "heatmap_bernoulli"].set_index(["cell", "seed"])["rounds_run"]
    # every seed ran K rounds, or a multiple of K when it was extended until stationary
    assert (sizes == ran.loc[sizes.index] + 1).all() and (ran % K == 0).all() and (ran >= K).all()
    claims = pd.read_csv(out / "tables" / "claims.csv")
    assert {"claim", "verdict", "p_value", "effect"} <= set(claims.columns)
    assert set(claims["verdict"]) <= {"reproduced", "not reproduced", "inconclusive", "not run"}
    accuracy = pd.read_csv(out / "tables" / "prediction_accuracy.csv")
    assert "all Bernoulli, m < 1000" in set(accuracy["group"]) and (accuracy["runs"] > 0).any()
    used = yaml.safe_load((out / "config_used.yaml").read_text())
    assert used["masked"]["experiments"].keys() == CI["experiments"].keys()
    assert used["claims"] == yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())["claims"]


def test_metadata_beside_every_table(ci_run):
    """Each table's metadata (core.jobcli's one format: job, seconds, provenance) is beside it,
    and each cell's record carries the same fields."""
    out = results(ci_run)
    beside = {
        "tables/runs.json": "aggregate_all",
        "tables/heatmap_bernoulli/runs.json": "aggregate",
        "tables/heatmap_bernoulli/predictions.json": "predict",
        "tables/claims.json": "claims",
        "tables/claims_robustness.json": "claims_robustness",
        "tables/prediction_accuracy.json": "prediction_accuracy",
    }
    for path, job in beside.items():
        meta = json.loads((out / path).read_text())
        assert meta["job"] == job and meta["seconds"] >= 0, path
        assert set(meta["provenance"]) == {"config", "versions", "git_commit"}, path
    claims = json.loads((out / "tables" / "claims.json").read_text())
    assert claims["provenance"]["config"]["claims"] == CI_CLAIMS
    record = json.loads((out / "train" / "heatmap_bernoulli" / "p~1" / "xi~0.3" / "tau~2" / "record.json").read_text())
    assert record["job"] == "train" and record["seconds"] > 0
    assert set(record["provenance"]) == {"config", "versions", "git_commit"}


#: the global claims settings of the CI configuration
CI_CLAIMS = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())["claims"]


def test_logs_show_training_progress(ci_run):
    """One log per training job, i.e. per grid row (train_job: row), each showing every
    cell of its row."""
    train_logs = list((logs(ci_run) / "train").rglob("*.log"))
    runs = pd.read_csv(results(ci_run) / "tables" / "runs.csv")
    rows = runs.assign(row=runs["cell"].str.split("/").str[0]).groupby(["experiment", "row"])["cell"].unique()
    assert len(train_logs) == len(rows) < runs.groupby(["experiment", "cell"]).ngroups
    for (experiment, row), cells in rows.items():
        text = (logs(ci_run) / "train" / experiment / f"{row}.log").read_text()
        assert "round" in text and "L_k" in text and "elapsed" in text
        assert text.count("done in") == len(cells)
        assert all(f"cell {experiment}/{cell}:" in text for cell in cells)


def test_golden_values(ci_run, update_golden):
    runs = pd.read_csv(results(ci_run) / "tables" / "runs.csv")
    cols = GOLDEN_EXACT + GOLDEN_FLOATS
    current = runs[cols].sort_values(["experiment", "cell", "seed"]).reset_index(drop=True)
    claims = pd.read_csv(results(ci_run) / "tables" / "claims.csv")[GOLDEN_CLAIM_EXACT + GOLDEN_CLAIM_FLOATS]
    if update_golden:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        current.to_csv(GOLDEN, index=False, float_format="%.17g")
        claims.to_csv(GOLDEN_CLAIMS, index=False, float_format="%.17g")
        pytest.skip(f"golden values rewritten: {GOLDEN}, {GOLDEN_CLAIMS}")
    # the claims: every verdict, and every number to within the runs' tolerance
    golden_claims = pd.read_csv(GOLDEN_CLAIMS)
    for c in GOLDEN_CLAIM_EXACT:
        assert claims[c].astype(str).tolist() == golden_claims[c].astype(str).tolist(), c
    for c in GOLDEN_CLAIM_FLOATS:
        got, want = claims[c].to_numpy(float), golden_claims[c].to_numpy(float)
        assert np.allclose(got, want, rtol=1e-6, atol=1e-12, equal_nan=True), (c, got, want)
    assert GOLDEN.exists(), "no golden values: run pytest tests/masked/test_workflow.py --update-golden"
    golden = pd.read_csv(GOLDEN)
    assert len(current) == len(golden)
    for c in GOLDEN_EXACT:
        assert current[c].astype(str).tolist() == golden[c].astype(str).tolist(), c
    # a loss at rounding level (the xi = 1 cells converge to ~1e-16) is noise whose digits
    # depend on the BLAS kernels of the CPU: compare losses to within GOLDEN_LOSS_ATOL * L_0
    floor = GOLDEN_LOSS_ATOL * golden["L0"].to_numpy(float)
    for c in GOLDEN_FLOATS:
        atol = floor if c in GOLDEN_LOSSES else 0.0
        got, want = current[c].to_numpy(float), golden[c].to_numpy(float)
        bad = ~(np.isclose(got, want, rtol=GOLDEN_RTOL, atol=0.0, equal_nan=True) | (np.abs(got - want) <= atol))
        assert not bad.any(), f"{c}: {int(bad.sum())} rows differ, first: got {got[bad][:3]}, golden {want[bad][:3]}"


#: each study's category in the HTML report (the *_CATEGORY constants of workflow/rules/<study>.smk)
REPORT_CATEGORIES = {
    "masked": "Masked neurons",
    "quadratic": "Quadratic networks",
    "local_convergence": "Local convergence",
    "sublinear": "Sublinear SGD",
}


def study_figures() -> dict[str, list[str]]:
    """Every study's figure names on the .test configuration, as its rules file defines them."""
    from maskedntk.studies.local_convergence.workflow import LocalConvergenceWorkflow
    from maskedntk.studies.quadratic.workflow import QuadraticWorkflow
    from maskedntk.studies.sublinear.workflow import SublinearWorkflow

    figures = {"masked": FIGURES}
    for study, workflow in [
        ("quadratic", QuadraticWorkflow),
        ("local_convergence", LocalConvergenceWorkflow),
        ("sublinear", SublinearWorkflow),
    ]:
        cfg = {}  # the global keys and the study's, as the Snakefile loads them
        for name in ("config.yaml", f"{study}.yaml"):
            cfg.update(yaml.safe_load((ROOT / ".test" / "config" / name).read_text()))
        figures[study] = list(workflow(cfg, "results", "logs").figures)
    return figures


def test_report(ci_run, tmp_path):
    out = tmp_path / "report.html"
    snakemake(ci_run, "--report", str(out), timeout=600)
    html = out.read_text(errors="replace")
    figures = study_figures()
    assert set(figures) == set(REPORT_CATEGORIES)
    for study, category in REPORT_CATEGORIES.items():
        assert category in html, (study, category)
        assert figures[study], study
        for fig in figures[study]:
            assert fig in html, (study, fig)
        # every figure and the claims table carry their caption, in workflow/report/<study>/
        for caption in [*figures[study], "claims"]:
            assert (ROOT / "workflow" / "report" / study / f"{caption}.rst").exists(), (study, caption)
    assert "claims" in html


@pytest.mark.parametrize(
    "override, expected",
    [
        (
            {"masked": {"experiments": {"dynamics": {"grid": {"xi": [1.5]}}}}},
            ["masked.experiments.dynamics.grid.xi[0] = 1.5", "(0, 1]"],
        ),
        ({"masked": {"experiments": {"heatmap_bernoulli": {"grid": {"p": [0]}}}}}, ["grid.p[0] = 0", "[1, inf)"]),
        (
            {"masked": {"experiments": {"local_steps": {"grid": {"tau": ["five"]}}}}},
            ["grid.tau[0] = 'five'", "integer"],
        ),
        ({"masked": {"defaults": {"train": {"tua": 3}}}}, ["masked.defaults.train", "'tua'", "allowed keys"]),
        (
            {"masked": {"experiments": {"width": {"grid": [{"m": []}]}}}},
            ["masked.experiments.width.grid[0].m", "at least 1"],
        ),
        ({"masked": {"defaults": {"eta": {"rule": "steepest"}}}}, ["masked.defaults.eta.rule", "lambda_max"]),
        ({"masked": {"active_experiments": ["nope"]}}, ["masked.active_experiments", "'nope'"]),
        ({"results_dir": ""}, ["results_dir = ''", "non-empty"]),
        ({"result_dir": "out"}, ["unknown key(s) ['result_dir']", "results_dir"]),
        ({"claims": {"alpha": 2.0}}, ["claims.alpha = 2.0", "(0, 1)"]),
        # a grid that cannot fit in memory is refused with the job's estimate and the limit
        (
            {"masked": {"experiments": {"width": {"grid": [{"m": [64, 100000000]}]}}}},
            ["masked job train width/", "MB of memory, more than the", "max_job_mem_mb"],
        ),
        ({"max_job_mem_mb": 10}, ["needs an estimated", "more than the 10 MB one job may use"]),
    ],
)
def test_bad_config_stops_before_any_job(tmp_path, override, expected):
    wd = ci_workdir(tmp_path / "wd")
    proc = snakemake(wd, "--configfile", str(with_config(tmp_path, override)), cores=1, check=False, timeout=120)
    out = output(proc)
    assert proc.returncode != 0
    assert "invalid configuration" in out
    for text in expected:
        assert text in out, (text, out[-2000:])
    assert not (wd / "results").exists()


def test_config_overrides(tmp_path):
    wd = ci_workdir(tmp_path / "wd")
    extra = with_config(tmp_path, {"masked": {"active_experiments": ["local_steps"], "threads": 2}})
    plan = output(snakemake(wd, "-n", "masked_all", "--configfile", str(extra)))
    assert "fig_local_steps" in plan and "fig_heatmap_bernoulli" not in plan
    assert "threads: 2" in plan


def test_figure_of_an_absent_experiment_says_why(tmp_path):
    """A figure target whose experiment the configuration leaves out explains itself."""
    wd = ci_workdir(tmp_path / "wd")
    extra = with_config(tmp_path, {"masked": {"active_experiments": ["local_steps"]}})
    proc = snakemake(wd, "fig_width", "--configfile", str(extra), cores=1, check=False)
    text = output(proc)
    assert proc.returncode != 0
    assert "fig_width draws the 'width' experiment, which this configuration does not include" in text, text[-3000:]
    assert "experiments run: local_steps" in text


def test_train_job_row_or_cell(tmp_path):
    """train_job: row plans one training job per grid row, cell one per cell (same outputs);
    another value is refused with the allowed ones."""
    wd = ci_workdir(tmp_path / "wd")
    target = "results/masked/tables/heatmap_categorical/runs.csv"
    rows = _planned_jobs(output(snakemake(wd, "-n", target)))
    cells = _planned_jobs(output(snakemake(wd, "-n", target, "--config", "masked={train_job: cell}")))
    assert rows == {"p~1", "p~2", "p~4"}
    assert cells == {f"p~{p}/tau~{t}" for p in (1, 2, 4) for t in (1, 3)}
    bad = snakemake(wd, "-n", target, "--config", "masked={train_job: seed}", check=False)
    assert bad.returncode != 0 and "masked.train_job" in output(bad) and "row" in output(bad)


def test_results_and_logs_dirs_move_every_output(tmp_path):
    wd = ci_workdir(tmp_path / "wd")
    plan = output(snakemake(wd, "-n", "masked_all", "--config", "results_dir=out/a", "logs_dir=out/logs"))
    assert "out/a/masked/tables/runs.csv" in plan and "out/a/masked/figures/fig_width.png" in plan
    assert "out/logs/masked/train/" in plan
    assert "results/" not in plan.replace("out/a", "")


def test_figure_target_plans_only_its_jobs(tmp_path):
    wd = ci_workdir(tmp_path / "wd")
    plan = output(snakemake(wd, "-n", "fig_heatmap_categorical"))
    experiments = {
        line.split("experiment=")[1].split(",")[0].strip() for line in plan.splitlines() if "experiment=" in line
    }
    assert experiments == {"heatmap_categorical"}
    assert "rule fig_heatmap_categorical" in plan and "rule fig_dynamics" not in plan
    full = output(snakemake(wd, "-n", "masked_all"))
    for fig in FIGURES:
        assert f"rule {fig}" in full


def test_an_edit_reruns_only_the_jobs_that_read_it(ci_run, tmp_path):
    """Each job's settings are only what it reads: how the plateau is measured re-measures
    without retraining; a protocol's description redraws its figure and robustness table; the
    claims' significance level reruns only the claims (and the configuration shown)."""
    wd = copy_run(ci_run, tmp_path)
    assert planned_rules(wd, "masked_all") == set()
    config = wd / "config" / "masked.yaml"
    original = config.read_text()
    edits = {
        "fraction: 0.25": ("fraction: 0.3", {"aggregate_experiment", "aggregate_all"}),
        "description: the paper's v1 definitions": ("description: the v1 definitions", {"fig_protocols"}),
    }
    for old, (new, must) in edits.items():
        assert old in original, old
        config.write_text(original.replace(old, new, 1))
        planned = planned_rules(wd, "masked_all")
        assert must <= planned, (old, planned)
        assert not planned & {"make_data", "train", "predict"}, (old, planned)
    config.write_text(original)
    glob = wd / "config" / "config.yaml"
    glob.write_text(glob.read_text().replace("alpha: 0.05", "alpha: 0.1"))
    # (config_used, a local rule, reruns too: it shows the settings)
    planned = planned_rules(wd, "masked_all") - {"config_used"}
    assert planned == {"claims", "claims_robustness", "masked_all"}, planned


def test_job_resources_come_from_the_settings(tmp_path):
    """Training jobs declare the memory and runtime estimated from their cells: wider and longer
    runs ask for more of both."""
    wd = ci_workdir(tmp_path / "wd")
    target = "results/masked/tables/width/runs.csv"

    def train_resources(*args) -> tuple[int, int]:
        """The largest mem_mb and runtime of the planned training jobs."""
        plan = output(snakemake(wd, "-n", target, *args))
        blocks = [b for b in plan.split("rule ")[1:] if b.startswith("train:")]
        assert blocks and all("runtime=" in b and "mem_mb=" in b for b in blocks)
        return tuple(max(int(b.split(f"{key}=")[1].split(",")[0]) for b in blocks) for key in ("mem_mb", "runtime"))

    mem, runtime = train_resources()
    bigger = {"width": {"grid": [{"m": [64, 20000]}], "train": {"max_rounds": 100000}}}
    mem_big, runtime_big = train_resources(
        "--configfile", str(with_config(tmp_path, {"masked": {"experiments": bigger}}))
    )
    assert mem_big > mem and runtime_big > runtime >= 5


def _tables_equal(a: Path, b: Path):
    assert a.read_bytes() == b.read_bytes(), f"{a} differs from {b}"


def _planned_jobs(plan: str) -> set[str]:
    """The training jobs (grid rows) a dry run or run plans, from their wildcards."""
    lines = [line for line in plan.splitlines() if "wildcards:" in line and " job=" in line]
    return {line.split(" job=")[1].split(",")[0].strip() for line in lines}


def test_interrupted_rerun_recomputes_only_unfinished_cells(ci_run, tmp_path_factory):
    """Kill a sweep hard midway; the rerun keeps finished training jobs (grid rows: 3 of 2
    cells here) and matches an uninterrupted run."""
    wd = fresh_workdir(tmp_path_factory, "interrupted")
    target = "results/masked/tables/heatmap_categorical/runs.csv"
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(wd),
        "--cores",
        "1",
        target,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    train = results(wd) / "train" / "heatmap_categorical"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(train.rglob("record.json"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written = {str(p.parent.relative_to(train)): p for p in train.rglob("record.json")}
    assert 3 <= len(written) < 6, "the sweep should have been killed midway"
    for p in (wd / "results").rglob("*"):  # no truncated output: every written file is complete
        if p.suffix == ".parquet" and not p.name.startswith("."):
            pd.read_parquet(p)
        elif p.suffix == ".json" and not p.name.startswith("."):
            yaml.safe_load(p.read_text())
    snakemake(wd, "--unlock")
    # Snakemake redoes the unfinished rows, and a row killed between writing its outputs and
    # Snakemake recording the job as finished; every row it had recorded is kept
    dry = snakemake(wd, "-n", target)
    planned = _planned_jobs(output(dry))
    kept = {cell: p.stat().st_mtime_ns for cell, p in written.items() if cell.split("/")[0] not in planned}
    assert kept, "at least one finished row must be kept"
    assert len(planned) == 3 - len({cell.split("/")[0] for cell in kept})
    rerun = snakemake(wd, target)
    for cell, mtime in kept.items():
        assert written[cell].stat().st_mtime_ns == mtime, f"{cell} was recomputed"
    assert _planned_jobs(output(rerun)) == planned
    _tables_equal(wd / target, ci_run / target)


def test_cluster_generic_executor_matches_local(ci_run, tmp_path_factory):
    """The scale-out path: jobs submitted through snakemake-executor-plugin-cluster-generic."""
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    wd = fresh_workdir(tmp_path_factory, "cluster")
    target = "results/masked/tables/local_steps/runs.csv"
    snakemake(
        wd,
        "--executor",
        "cluster-generic",
        "--cluster-generic-submit-cmd",
        f"bash {ROOT / 'tests' / 'cluster' / 'submit.sh'}",
        "--jobs",
        "2",
        "--latency-wait",
        "10",
        target,
        timeout=600,
    )
    _tables_equal(wd / target, ci_run / target)
    assert len(list((results(wd) / "train" / "local_steps").rglob("record.json"))) == 4


def test_rerun_is_bit_identical(ci_run, tmp_path_factory):
    wd = fresh_workdir(tmp_path_factory, "again")
    target = "results/masked/tables/width/runs.csv"
    traj = "results/masked/tables/width/trajectories.parquet"
    snakemake(wd, target, traj)
    _tables_equal(wd / target, ci_run / target)
    _tables_equal(wd / traj, ci_run / traj)


def test_the_top_level_names_no_study():
    """The Snakefile and common.smk name no study: every study's rules, config file and local
    rules come from its own rules file."""
    from maskedntk.studies import STUDIES

    for path in (ROOT / "Snakefile", ROOT / "workflow" / "rules" / "common.smk"):
        text = path.read_text()
        assert not [s for s in STUDIES if re.search(rf"\b{s}\b", text)], path
    for study in STUDIES:
        assert f'configfile: "config/{study}.yaml"' in (ROOT / "workflow" / "rules" / f"{study}.smk").read_text()
