"""Helpers of the studies' workflow tests: run the repository's Snakefile on a copy of the CI
configuration (all of .test/config/), check a study's figures and claims, and read which
rules a dry run would run.

The CI workflow of every study runs once per pytest session: the fixture ``ci_run`` of
tests/conftest.py runs ``reproduce_all`` on .test/config/ and returns its working directory
(outputs under ``results/<study>/``, logs under ``logs/<study>/``).  A test that edits a
configuration to see what reruns works on a copy of it (:func:`copy_run`), so it neither
retrains nor disturbs the other tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
VERDICTS = {"reproduced", "not reproduced", "inconclusive", "not run"}


def ci_workdir(tmp_path: Path) -> Path:
    """A working directory holding a copy of .test/config/ (every study's CI settings)."""
    shutil.copytree(ROOT / ".test" / "config", tmp_path / "config")
    return tmp_path


def copy_run(run: Path, tmp_path: Path) -> Path:
    """A copy of the finished working directory ``run`` (configs, outputs, logs and Snakemake's
    records, file times kept): a dry run there plans only what an edit makes out of date."""
    dest = tmp_path / "run"
    shutil.copytree(run, dest, symlinks=True)
    return dest


def snakemake(
    workdir: Path, *args: str, cores: int = 2, check: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile in ``workdir`` on ``cores`` cores; with ``check``, fail with
    the end of its output unless it succeeds."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir)]
    proc = subprocess.run(
        [*cmd, "--cores", str(cores), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


def output(proc: subprocess.CompletedProcess) -> str:
    """Everything Snakemake printed (its log goes to stderr, a dry run's plan to stdout)."""
    return proc.stdout + proc.stderr


def planned_rules(workdir: Path, target: str) -> set[str]:
    """The rules a dry run of ``target`` would run."""
    return set(re.findall(r"^rule (\w+):", snakemake(workdir, "--dry-run", target).stdout, re.M))


def check_study_outputs(out: Path, figures, n_claims: int) -> pd.DataFrame:
    """Every figure exists as PDF and PNG, the claims table has ``n_claims`` valid rows."""
    for fig in figures:
        for ext in ("pdf", "png"):
            f = out / "figures" / f"{fig}.{ext}"
            assert f.exists() and f.stat().st_size > 5000, f
    claims = pd.read_csv(out / "tables" / "claims.csv")
    assert len(claims) == n_claims
    assert set(claims["verdict"]) <= VERDICTS
    return claims
