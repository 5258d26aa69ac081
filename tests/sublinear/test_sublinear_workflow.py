"""The sublinear study's Snakemake target end to end through the repository's Snakefile, on
the CI configuration (all of .test/config/); then which jobs a config edit reruns."""

import re
from pathlib import Path

import pandas as pd
import pytest
from study_workflow import check_study_outputs, ci_workdir, planned_rules, snakemake

pytestmark = pytest.mark.workflow


def _check_outputs(out: Path) -> None:
    claims = check_study_outputs(out, ("activity", "persistence", "loss", "cost"), 6)
    assert "not run" not in set(claims["verdict"])
    cost = pd.read_csv(out / "tables" / "cost.csv")
    assert cost["identical"].all()  # every identifier reproduced dense SGD bit for bit
    assert (cost.loc[cost["identifier"] == "dense", "ip_ratio"] == 1).all()
    assert {"compiled_tree", "compiled_static", "partition_tree"} <= set(cost["identifier"])
    assert set(cost["B"]) == {1, 4}
    assert "Crossover" in (out / "tables" / "cost.md").read_text()
    assert "Exactness" in (out / "tables" / "claims.md").read_text()


def test_sublinear_all(tmp_path):
    ci_workdir(tmp_path)
    snakemake(tmp_path, "sublinear_all")
    _check_outputs(tmp_path / "results" / "sublinear")
    # a new claims threshold reruns the claims and the one figure that draws it, nothing else
    config = tmp_path / "config" / "sublinear.yaml"
    config.write_text(re.sub(r"persist_ratio: [0-9.]+", "persist_ratio: 1.4", config.read_text()))
    assert planned_rules(tmp_path, "sublinear_all") == {
        "sublinear_claims",
        "sublinear_fig_persistence",
        "sublinear_all",
    }
