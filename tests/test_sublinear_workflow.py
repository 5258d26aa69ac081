"""The sublinear study's Snakemake target end to end through the repository's Snakefile, on
the CI configuration (all of .test/config/); then which jobs a config edit reruns."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parents[1]
SNAKEFILE = ROOT / "Snakefile"

pytestmark = pytest.mark.workflow


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir)]
    proc = subprocess.run([*cmd, "--cores", "2", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _check_outputs(out: Path) -> None:
    for fig in ("activity", "persistence", "loss", "cost"):
        for ext in ("pdf", "png"):
            f = out / "figures" / f"{fig}.{ext}"
            assert f.exists() and f.stat().st_size > 5000, f
    claims = pd.read_csv(out / "tables" / "claims.csv")
    assert len(claims) == 6
    assert set(claims["verdict"]) <= {"reproduced", "not reproduced", "inconclusive", "not run"}
    assert "not run" not in set(claims["verdict"])
    cost = pd.read_csv(out / "tables" / "cost.csv")
    assert cost["identical"].all()  # every identifier reproduced dense SGD bit for bit
    assert (cost.loc[cost["identifier"] == "dense", "ip_ratio"] == 1).all()
    assert "Exactness" in (out / "tables" / "claims.md").read_text()


def test_sublinear_all(tmp_path):
    shutil.copytree(ROOT / ".test" / "config", tmp_path / "config")
    _snakemake(tmp_path, "sublinear_all")
    _check_outputs(tmp_path / "results" / "sublinear")
    # a new claims threshold reruns the claims and the one figure that draws it, nothing else
    config = tmp_path / "config" / "sublinear.yaml"
    config.write_text(re.sub(r"persist_ratio: [0-9.]+", "persist_ratio: 1.4", config.read_text()))
    plan = _snakemake(tmp_path, "--dry-run", "sublinear_all").stdout
    assert set(re.findall(r"^rule (\w+):", plan, re.M)) == {
        "sublinear_claims",
        "sublinear_fig_persistence",
        "sublinear_all",
    }, plan
