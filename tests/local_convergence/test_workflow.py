"""The local-convergence study's Snakemake target end to end through the repository's
Snakefile, on the CI configuration (all of .test/config/): every job runs, every figure and
claim exists, each table has its metadata; then which jobs a config edit reruns."""

import json
import re

import pandas as pd
import pytest
from study_workflow import check_study_outputs, ci_workdir, planned_rules, snakemake

from maskedntk.studies.local_convergence import claims, experiments, jobs

pytestmark = pytest.mark.workflow


def test_local_convergence_all(tmp_path):
    ci_workdir(tmp_path)
    snakemake(tmp_path, "local_convergence_all", timeout=1500)  # ~20 jobs; slow only on a loaded machine
    out = tmp_path / "results" / "local_convergence"
    table = check_study_outputs(out, jobs.FIGURES, len(claims.claims_for(experiments.validate(_ci()))))
    assert table["p_value"].dropna().between(0, 1).all()
    runs = sorted((out / "runs").glob("*.parquet"))
    names = {p.stem for p in runs}
    # every training job ran: one local job per ratio and one per other experiment
    assert {f"local_r{q}" for q in _ci()["local"]["ratios"]} <= names
    assert set(experiments.RUN_JOBS) - {"local"} <= names
    for p in runs:
        meta = json.loads(p.with_suffix(".json").read_text())
        assert {"config", "versions", "git_commit", "seeds"} <= set(meta)
        assert meta["rows"] == len(pd.read_parquet(p))
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
    config = tmp_path / "config" / "local_convergence.yaml"
    text = config.read_text()
    config.write_text(re.sub(r"align_drop: [0-9.]+", "align_drop: 0.6", text))
    assert planned_rules(tmp_path, "local_convergence_all") == {"local_convergence_claims", "local_convergence_all"}
    config.write_text(re.sub(r"batch: \[2, 16, 64\]", "batch: [2, 16, 32]", text))
    assert planned_rules(tmp_path, "local_convergence_all") == {
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
    assert planned_rules(tmp_path, "local_convergence_all") == {
        "local_convergence_relu_variant",
        "local_convergence_fig_relu_variant",
        "local_convergence_claims",
        "local_convergence_all",
    }
    config.write_text(re.sub(r"rounds: 30,", "rounds: 25,", text))
    assert planned_rules(tmp_path, "local_convergence_all") == {  # no claim reads it
        "local_convergence_masked_link",
        "local_convergence_fig_masked_link",
        "local_convergence_all",
    }


def _ci():
    import yaml
    from study_workflow import ROOT

    return yaml.safe_load((ROOT / ".test" / "config" / "local_convergence.yaml").read_text())["local_convergence"]


def test_job_shares_give_the_same_numbers():
    """Each job computes from its share of the config (what the workflow passes) exactly what
    it computes from the whole config."""
    from maskedntk.studies.local_convergence import runs

    cfg = experiments.validate(_ci())
    cfg["local"]["steps"], cfg["samples"]["steps"], cfg["figure1"]["steps"] = 30, 20, 20
    cfg["gradient_bound"]["steps"], cfg["initialisation"]["steps"] = 20, 20

    def part(job):
        return experiments.settings(experiments.job_settings(cfg, job))

    tables = {}
    for job in experiments.RUN_JOBS:
        full = runs.run_local(cfg, 2) if job == "local" else getattr(runs, f"run_{job}")(cfg)
        sub = runs.run_local(part(job), 2) if job == "local" else getattr(runs, f"run_{job}")(part(job))
        for name in full:
            pd.testing.assert_frame_equal(full[name], sub[name])
        tables[job] = full["runs"]
    pd.testing.assert_frame_equal(claims.evaluate(cfg, tables), claims.evaluate(part("claims"), tables))
