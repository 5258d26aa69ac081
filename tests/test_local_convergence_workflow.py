"""The local-convergence study's Snakemake target end to end through the repository's
Snakefile, on the CI configuration (all of .test/config/); then which jobs a config edit reruns."""

import re
from pathlib import Path

import pandas as pd
import pytest
from study_workflow import check_study_outputs, ci_workdir, planned_rules, snakemake

pytestmark = pytest.mark.workflow

FIGURES = ("loss_curves", "alignment", "rate_vs_m", "mstar_contrast", "threshold", "link")


def _check_outputs(out: Path) -> None:
    claims = check_study_outputs(out, FIGURES, 8)
    assert claims["p_value"].between(0, 1).all()
    runs = pd.read_parquet(out / "runs" / "curves_r1.parquet")
    assert (runs["L_final"] < 1e-10).all()  # m = m*: linear convergence to round-off
    assert "C3_rate_independent_of_m" in (out / "tables" / "claims.md").read_text()


def test_local_convergence_all(tmp_path):
    ci_workdir(tmp_path)
    snakemake(tmp_path, "local_convergence_all")
    _check_outputs(tmp_path / "results" / "local_convergence")
    # a new claims threshold reruns the claims and the one figure that draws it, nothing else
    config = tmp_path / "config" / "local_convergence.yaml"
    config.write_text(re.sub(r"rate_band: [0-9.]+", "rate_band: 2.5", config.read_text()))
    assert planned_rules(tmp_path, "local_convergence_all") == {
        "local_convergence_claims",
        "local_convergence_fig_rate_vs_m",
        "local_convergence_all",
    }


def test_job_settings_give_the_same_numbers():
    """Each job computes from its share of the config (what the workflow passes) exactly what
    it computes from the whole config."""
    from maskedntk.studies.local_convergence import claims, experiments, jobs, runs

    cfg = experiments.validate(
        {
            "m_star": 2,
            "ratios": [1, 2],
            "seeds": [0, 1],
            "curves": {"d": [3], "rho": [0.3], "steps": 60, "checkpoints": 5},
            "threshold": {"d": 3, "rho": [0.3, 3.0], "steps": 40},
            "link": {"d": 3, "n": 8, "steps": 20, "seeds": [0], "core_widths": [2, 4], "core_rounds": 2},
        }
    )
    assert set(jobs.FIGURES) == {j.removeprefix("figure-") for j in experiments.JOB_SETTINGS if j.startswith("figure-")}

    def part(job):
        return experiments.settings(experiments.job_settings(cfg, job))

    def same(a, b):
        drop = [c for c in a if c.endswith("seconds")]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop))

    out = {}
    for exp in ("curves", "threshold"):
        full, sub = runs.run_population(cfg, exp, 2), runs.run_population(part(exp), exp, 2)
        for a, b in zip(full, sub, strict=True):
            same(a, b)
        out[exp] = full[0]
    link = runs.run_link(cfg)
    same(link, runs.run_link(part("link")))
    same(
        claims.evaluate(cfg, out["curves"], out["threshold"], link),
        claims.evaluate(part("claims"), out["curves"], out["threshold"], link),
    )
