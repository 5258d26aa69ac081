"""The Snakemake workflow end to end, on the tiny .test configuration.

One session-scoped run of ``reproduce_all`` in a temporary working directory feeds most
tests; the interrupted-rerun and the cluster-executor tests run their own subsets and
compare with it byte for byte.  Update the golden values on purpose with
``pytest tests/masked/test_workflow.py --update-golden``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from maskedntk.studies.masked.experiments import expand_config
from maskedntk.studies.masked.figures import FIGURES as MASKED_FIGURES

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "test_runs.csv"
FIGURES = list(MASKED_FIGURES)
RUNS_COLUMNS = [
    "experiment",
    "mask",
    "xi",
    "p",
    "tau",
    "m",
    "n",
    "d",
    "kappa",
    "eta",
    "rounds",
    "seed",
    "L0",
    "plateau",
    "final",
    "rate_empirical",
    "rate_theory",
    "lambda0",
    "theta",
    "B1",
    "diverged",
]
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


def snakemake(workdir, *args, check=True, timeout=600, **kw):
    """Run Snakemake on the repository's Snakefile with ``workdir`` as working directory."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def output(proc) -> str:
    """Everything Snakemake printed (its log goes to stderr, a dry run's plan to stdout)."""
    return proc.stdout + proc.stderr


def fresh_workdir(tmp_path_factory, name):
    wd = tmp_path_factory.mktemp(name)
    shutil.copytree(ROOT / ".test" / "config", wd / "config")
    return wd


@pytest.fixture(scope="session")
def test_run(tmp_path_factory):
    """The .test workflow, reproduce_all, run once from scratch."""
    wd = fresh_workdir(tmp_path_factory, "dottest")
    t0 = time.perf_counter()
    snakemake(wd, "--cores", "2", "reproduce_all", timeout=900)
    print(f"\n.test reproduce_all: {time.perf_counter() - t0:.0f} s")
    return wd


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


def test_every_figure_and_table(test_run):
    for fig in FIGURES:
        for ext in ("pdf", "png"):
            path = test_run / "results" / "figures" / f"{fig}.{ext}"
            assert path.exists() and path.stat().st_size > 5000, path
        assert (test_run / "logs" / "figures" / f"{fig}.log").exists()
    png = (test_run / "results" / "figures" / "fig_dynamics.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # each figure file was drawn by its own module (rules defined in a loop once all ran the last script)
    from PIL import Image

    for fig in FIGURES:
        with Image.open(test_run / "results" / "figures" / f"{fig}.png") as im:
            assert im.info.get("Title") == f"maskedntk.studies.masked.figures.{fig.removeprefix('fig_')}", fig
    runs = pd.read_csv(test_run / "results" / "tables" / "runs.csv")
    assert set(RUNS_COLUMNS) <= set(runs.columns)
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    # every experiment, and its re-runs under the compared protocols (<experiment>__<protocol>)
    assert set(runs["experiment"]) == set(expand_config(cfg))
    assert set(cfg["experiments"]) < set(runs["experiment"])
    assert (runs.groupby(["experiment", "cell"]).size() == cfg["defaults"]["seeds"]).all()
    traj = pd.read_parquet(test_run / "results" / "tables" / "trajectories.parquet")
    assert list(traj.columns) == ["experiment", "cell", "seed", "round", "L"]
    K = cfg["defaults"]["train"]["rounds"]
    sizes = traj[traj.experiment == "heatmap_bernoulli"].groupby(["cell", "seed"]).size()
    ran = runs[runs.experiment == "heatmap_bernoulli"].set_index(["cell", "seed"])["rounds_run"]
    # every seed ran K rounds, or a multiple of K when it was extended until stationary
    assert (sizes == ran.loc[sizes.index] + 1).all() and (ran % K == 0).all() and (ran >= K).all()
    claims = pd.read_csv(test_run / "results" / "tables" / "claims.csv")
    assert {"claim", "verdict", "p_value", "effect"} <= set(claims.columns)
    assert set(claims["verdict"]) <= {"reproduced", "not reproduced", "inconclusive", "not run"}
    accuracy = pd.read_csv(test_run / "results" / "tables" / "prediction_accuracy.csv")
    assert "all Bernoulli, m < 1000" in set(accuracy["group"]) and (accuracy["runs"] >= 0).all()
    used = yaml.safe_load((test_run / "results" / "config_used.yaml").read_text())
    assert used["experiments"].keys() == cfg["experiments"].keys()


def test_logs_show_training_progress(test_run):
    """One log per training job, i.e. per grid row (train_job: row), each showing every
    cell of its row."""
    logs = list((test_run / "logs" / "train").rglob("*.log"))
    runs = pd.read_csv(test_run / "results" / "tables" / "runs.csv")
    rows = runs.assign(row=runs["cell"].str.split("/").str[0]).groupby(["experiment", "row"])["cell"].unique()
    assert len(logs) == len(rows) < runs.groupby(["experiment", "cell"]).ngroups
    for (experiment, row), cells in rows.items():
        text = (test_run / "logs" / "train" / experiment / f"{row}.log").read_text()
        assert "round" in text and "L_k" in text and "elapsed" in text
        assert text.count("done in") == len(cells)
        assert all(f"cell {experiment}/{cell}:" in text for cell in cells)


def test_golden_values(test_run, update_golden):
    runs = pd.read_csv(test_run / "results" / "tables" / "runs.csv")
    cols = GOLDEN_EXACT + GOLDEN_FLOATS
    current = runs[cols].sort_values(["experiment", "cell", "seed"]).reset_index(drop=True)
    claims = pd.read_csv(test_run / "results" / "tables" / "claims.csv")[GOLDEN_CLAIM_EXACT + GOLDEN_CLAIM_FLOATS]
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
        cfg = yaml.safe_load((ROOT / ".test" / "config" / f"{study}.yaml").read_text())
        figures[study] = list(workflow(cfg, "results", "logs").figures)
    return figures


def test_report(test_run):
    out = test_run / "report.html"
    snakemake(test_run, "--report", str(out), timeout=600)
    html = out.read_text(errors="replace")
    figures = study_figures()
    assert set(figures) == set(REPORT_CATEGORIES)
    for study, category in REPORT_CATEGORIES.items():
        assert category in html, (study, category)
        assert figures[study], study
        for fig in figures[study]:
            assert fig in html, (study, fig)
        # every figure and the claims table carry their caption
        for caption in [*figures[study], "claims"]:
            if study != "masked":
                assert (ROOT / "workflow" / "report" / study / f"{caption}.rst").exists(), (study, caption)
    assert "claims" in html


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"experiments": {"dynamics": {"grid": {"xi": [1.5]}}}}, ["experiments.dynamics.grid.xi[0] = 1.5", "(0, 1]"]),
        ({"experiments": {"heatmap_bernoulli": {"grid": {"p": [0]}}}}, ["grid.p[0] = 0", "[1, inf)"]),
        ({"experiments": {"local_steps": {"grid": {"tau": ["five"]}}}}, ["grid.tau[0] = 'five'", "integer"]),
        ({"defaults": {"train": {"tua": 3}}}, ["defaults.train", "'tua'", "allowed keys"]),
        ({"experiments": {"width": {"grid": [{"m": []}]}}}, ["experiments.width.grid[0].m", "at least 1"]),
        ({"defaults": {"eta": {"rule": "steepest"}}}, ["defaults.eta.rule", "lambda_max"]),
        ({"results_dir": ""}, ["results_dir = ''", "non-empty"]),
        # a grid that cannot fit in memory is refused with the job's estimate and the limit
        (
            {"experiments": {"width": {"grid": [{"m": [64, 100000000]}]}}},
            ["masked job train width/", "MB of memory, more than the", "max_job_mem_mb"],
        ),
        ({"max_job_mem_mb": 10}, ["needs an estimated", "more than the 10 MB one job may use"]),
    ],
)
def test_bad_config_stops_before_any_job(tmp_path, override, expected):
    wd = tmp_path / "wd"
    shutil.copytree(ROOT / ".test" / "config", wd / "config")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(override))
    proc = snakemake(wd, "--cores", "1", "--configfile", str(bad), check=False, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "invalid configuration" in out
    for text in expected:
        assert text in out, (text, out[-2000:])
    assert not (wd / "results").exists()


def test_config_overrides(tmp_path):
    wd = tmp_path / "wd"
    shutil.copytree(ROOT / ".test" / "config", wd / "config")
    extra = tmp_path / "more.yaml"
    extra.write_text(yaml.safe_dump({"active_experiments": ["local_steps"]}))
    plan = output(snakemake(wd, "-n", "--configfile", str(extra), "--config", "threads=2"))
    assert "fig_local_steps" in plan and "fig_heatmap_bernoulli" not in plan
    assert "threads: 2" in plan


def test_figure_of_an_absent_experiment_says_why(tmp_path):
    """A figure target whose experiment the configuration leaves out explains itself."""
    wd = tmp_path / "wd"
    shutil.copytree(ROOT / ".test" / "config", wd / "config")
    extra = tmp_path / "more.yaml"
    extra.write_text(yaml.safe_dump({"active_experiments": ["local_steps"]}))
    proc = snakemake(wd, "fig_width", "--cores", "1", "--configfile", str(extra), check=False, timeout=300)
    text = output(proc)
    assert proc.returncode != 0
    assert "fig_width draws the 'width' experiment, which this configuration does not include" in text, text[-3000:]
    assert "experiments run: local_steps" in text


def test_train_job_row_or_cell(tmp_path):
    """train_job: row plans one training job per grid row, cell one per cell (same outputs);
    another value is refused with the allowed ones."""
    wd = tmp_path / "wd"
    shutil.copytree(ROOT / ".test" / "config", wd / "config")
    target = "results/tables/heatmap_categorical/runs.csv"
    rows = _planned_jobs(output(snakemake(wd, "-n", target)))
    cells = _planned_jobs(output(snakemake(wd, "-n", target, "--config", "train_job=cell")))
    assert rows == {"p~1", "p~2", "p~4"}
    assert cells == {f"p~{p}/tau~{t}" for p in (1, 2, 4) for t in (1, 3)}
    bad = snakemake(wd, "-n", target, "--config", "train_job=seed", check=False)
    assert bad.returncode != 0 and "train_job" in output(bad) and "row" in output(bad)


def test_results_and_logs_dirs_move_every_output(tmp_path):
    wd = tmp_path / "wd"
    shutil.copytree(ROOT / ".test" / "config", wd / "config")
    plan = output(snakemake(wd, "-n", "--config", "results_dir=out/a", "logs_dir=out/logs"))
    assert "out/a/tables/runs.csv" in plan and "out/a/figures/fig_width.png" in plan
    assert "out/logs/train/" in plan
    assert "results/" not in plan.replace("out/a", "")


def test_figure_target_plans_only_its_jobs(tmp_path):
    wd = tmp_path / "wd"
    shutil.copytree(ROOT / ".test" / "config", wd / "config")
    plan = output(snakemake(wd, "-n", "fig_heatmap_categorical"))
    experiments = {
        line.split("experiment=")[1].split(",")[0].strip() for line in plan.splitlines() if "experiment=" in line
    }
    assert experiments == {"heatmap_categorical"}
    assert "rule fig_heatmap_categorical" in plan and "rule fig_dynamics" not in plan
    full = output(snakemake(wd, "-n", "reproduce_all"))
    for fig in FIGURES:
        assert f"rule {fig}" in full


def _tables_equal(a: Path, b: Path):
    assert a.read_bytes() == b.read_bytes(), f"{a} differs from {b}"


def _planned_jobs(plan: str) -> set[str]:
    """The training jobs (grid rows) a dry run or run plans, from their wildcards."""
    lines = [line for line in plan.splitlines() if "wildcards:" in line and " job=" in line]
    return {line.split(" job=")[1].split(",")[0].strip() for line in lines}


def test_interrupted_rerun_recomputes_only_unfinished_cells(test_run, tmp_path_factory):
    """Kill a sweep hard midway; the rerun keeps finished training jobs (grid rows: 3 of 2
    cells here) and matches an uninterrupted run."""
    wd = fresh_workdir(tmp_path_factory, "interrupted")
    target = "results/tables/heatmap_categorical/runs.csv"
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
    train = wd / "results" / "train" / "heatmap_categorical"
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
    rerun = snakemake(wd, "--cores", "2", target)
    for cell, mtime in kept.items():
        assert written[cell].stat().st_mtime_ns == mtime, f"{cell} was recomputed"
    assert _planned_jobs(output(rerun)) == planned
    _tables_equal(wd / target, test_run / target)


def test_cluster_generic_executor_matches_local(test_run, tmp_path_factory):
    """The scale-out path: jobs submitted through snakemake-executor-plugin-cluster-generic."""
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    wd = fresh_workdir(tmp_path_factory, "cluster")
    target = "results/tables/local_steps/runs.csv"
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
    _tables_equal(wd / target, test_run / target)
    assert len(list((wd / "results" / "train" / "local_steps").rglob("record.json"))) == 4


def test_rerun_is_bit_identical(test_run, tmp_path_factory):
    wd = fresh_workdir(tmp_path_factory, "again")
    target = "results/tables/width/runs.csv"
    snakemake(wd, "--cores", "2", target, "results/tables/width/trajectories.parquet")
    _tables_equal(wd / target, test_run / target)
    traj = "results/tables/width/trajectories.parquet"
    _tables_equal(wd / traj, test_run / traj)
