"""Helpers of the studies' workflow tests: run the repository's Snakefile on a copy of the CI
configuration (all of .test/config/), check a study's figures and claims, and read which
rules a dry run would run."""

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


def snakemake(workdir: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile in ``workdir`` on 2 cores; fail with the end of its output."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir)]
    proc = subprocess.run([*cmd, "--cores", "2", *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


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
