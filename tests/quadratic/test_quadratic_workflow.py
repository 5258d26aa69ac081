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
        timeout=900,  # a shared, loaded machine (load 10-13) needs ~5-6 min; idle ~1 min
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


def test_each_job_receives_only_the_settings_it_reads():
    import json

    import yaml

    from maskedntk.studies.quadratic.experiments import validate
    from maskedntk.studies.quadratic.workflow import READS, QuadraticWorkflow

    config = yaml.safe_load(open(ROOT / "config" / "quadratic.yaml"))
    wf = QuadraticWorkflow(config, "results", "logs")
    flow = json.loads(wf.settings_json("flow"))
    assert sorted(flow) == ["base_seed", "flow", "regimes", "seeds", "threads"]
    assert sorted(flow["flow"]) == ["dims", "eta", "gamma_max"]  # not flow.setups: the setup is a wildcard
    assert validate(flow, partial=True) == flow
    with pytest.raises(ValueError, match=r"quadratic\.claims: missing key"):
        validate(flow)  # the whole configuration still needs every key
    # an edit of the masked study's settings reruns the masked job, the claims and Fig. 8 only
    edited = {"quadratic": {**config["quadratic"], "masked": {**config["quadratic"]["masked"], "p": 3}}}
    wf2 = QuadraticWorkflow(edited, "results", "logs")
    changed = sorted(job for job in READS if wf.settings_json(job) != wf2.settings_json(job))
    assert changed == ["fig8_masked", "masked"]
    edited["quadratic"]["masked"]["xi"] = 0.75
    changed = sorted(
        job for job in READS if wf.settings_json(job) != QuadraticWorkflow(edited, "r", "l").settings_json(job)
    )
    assert changed == ["claims", "fig8_masked", "masked"]
