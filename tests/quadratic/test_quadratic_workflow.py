"""The quadratic study's Snakemake target ``quadratic_all`` through the repository's Snakefile, on the CI
configuration (every file of .test/config/, copied into the temporary working directory)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parents[2]
#: the repository's Snakefile (the study is registered in maskedntk.studies.STUDIES, so it includes
#: workflow/rules/quadratic.smk)
SNAKEFILE = str(ROOT / "Snakefile")
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


@pytest.mark.workflow
def test_quadratic_all(tmp_path):
    shutil.copytree(ROOT / ".test" / "config", tmp_path / "config")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            SNAKEFILE,
            "--directory",
            str(tmp_path),
            "--cores",
            "2",
            "quadratic_all",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = tmp_path / "results" / "quadratic"
    for name in FIGURES:
        for ext in ("pdf", "png"):
            f = out / "figures" / f"{name}.{ext}"
            assert f.exists() and f.stat().st_size > 5000, f
    df = pd.read_csv(out / "tables" / "claims.csv")
    assert len(df) == 12 and df["claim"].is_unique
    assert set(df["verdict"]) <= {"reproduced", "not reproduced", "inconclusive", "not run"}
    assert (df["verdict"] != "not run").all()
    assert df["p_value"].between(0, 1).all()
    # the theory the figures overlay: recovery values at the end of the CI runs
    assert df.set_index("claim").loc["partial_recovery", "effect"] < 0.02
    # the Gaussian setup's own limit is in the limit table and its two claims ran
    lim = pd.read_parquet(out / "runs" / "limit.parquet")
    own = lim[lim["kind"] == "flow_gaussian"]
    assert set(own["regime"]) == {"over", "equal", "under"} and own["phi"].notna().all()
    assert not df.set_index("claim").loc[["gaussian_tracks_own_limit", "gaussian_late_slope"], "effect"].isna().any()
