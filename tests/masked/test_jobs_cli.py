"""The study's job command line (python -m maskedntk.studies.masked JOB, on core.jobcli), the
settings each job reads, and the resources estimated from them."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from maskedntk.core import jobcli
from maskedntk.core.schema import ConfigError
from maskedntk.studies.masked import resources
from maskedntk.studies.masked.__main__ import JOBS, NEEDS, check_settings
from maskedntk.studies.masked.data import load_npz
from maskedntk.studies.masked.workflow import MaskedWorkflow

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "workflow" / "schemas" / "masked.schema.yaml"


def ci_config() -> dict:
    """The CI configuration as Snakemake merges it: the global keys and the key masked."""
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    return cfg | yaml.safe_load((ROOT / ".test" / "config" / "masked.yaml").read_text())


def workflow(cfg: dict, mem_limit_mb: int | None = None) -> MaskedWorkflow:
    return MaskedWorkflow(cfg, "res", "log", SCHEMA, mem_limit_mb=mem_limit_mb)


def test_every_job_has_its_settings_keys():
    assert set(NEEDS) == set(JOBS)


def test_make_data_job_writes_the_data_and_its_metadata(tmp_path):
    data = {"source": "synthetic", "family": "teacher", "n": 12, "d": 5, "seed": 3}
    out, meta = tmp_path / "d.npz", tmp_path / "d.json"
    argv = ["make_data", "--config", json.dumps({"data": data}), "--out", f"data={out}", f"meta={meta}"]
    assert jobcli.main("masked", "maskedntk.studies.masked", JOBS, argv, prepare=check_settings) == 0
    ds = load_npz(out)
    assert ds.X.shape == (12, 5) and np.allclose(np.linalg.norm(ds.X, axis=1), 1.0)
    m = json.loads(meta.read_text())
    assert m["job"] == "make_data" and m["provenance"]["config"] == {"data": data}


def test_a_whole_configuration_is_refused_naming_the_missing_keys(tmp_path):
    """A job takes only the settings it reads; a whole config file names what is missing."""
    proc = subprocess.run(
        [sys.executable, "-m", "maskedntk.studies.masked", "train", "--config", str(ROOT / "config" / "masked.yaml")]
        + ["--out", f"dir={tmp_path / 't'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "job train: --config lacks ['job', 'shared', 'cells']" in proc.stderr


def _job(wf: MaskedWorkflow, experiment: str) -> SimpleNamespace:
    return SimpleNamespace(experiment=experiment, job=next(iter(wf.train_jobs[experiment])))


def test_training_settings_hold_only_what_changes_the_numbers():
    """Measuring (metrics, delta), a protocol's description or the claims' level never change a
    training job's settings (so never retrain); they change the jobs that read them."""
    base = ci_config()
    edited = copy.deepcopy(base)
    edited["masked"]["defaults"]["metrics"]["fraction"] = 0.3
    edited["masked"]["defaults"]["delta"] = 0.2
    edited["masked"]["protocols"]["description"] = "another description"
    edited["claims"]["alpha"] = 0.1
    a, b = workflow(base), workflow(edited)
    for e in a.cells:
        job = _job(a, e)
        assert a.train_settings(job) == b.train_settings(job), e
        assert a.aggregate_settings(e) != b.aggregate_settings(e), e
    assert a.figure_settings("fig_width") == b.figure_settings("fig_width")
    assert a.figure_settings("fig_protocols") != b.figure_settings("fig_protocols")
    assert a.claims_settings() != b.claims_settings()
    # a new step scale retrains
    edited["masked"]["defaults"]["eta"]["scale"] = 0.25
    c = workflow(edited)
    assert a.train_settings(_job(a, "local_steps")) != c.train_settings(_job(c, "local_steps"))


def test_shared_settings_are_given_once():
    wf = workflow(ci_config())
    s = wf.train_settings(_job(wf, "heatmap_bernoulli"))
    assert {"experiment", "data", "eta", "seeds"} <= set(s["shared"])
    assert all(set(cell) == {"train"} for cell in s["cells"].values())
    # every cell is its own settings and the shared ones, as the job rebuilds it
    cells = wf.job_cells(_job(wf, "heatmap_bernoulli"))
    for cid, own in s["cells"].items():
        assert {**s["shared"], **own} == {k: cells[cid][k] for k in ("experiment", "data", "train", "eta", "seeds")}


def test_errors_name_the_study_key():
    cfg = ci_config()
    cfg["masked"]["active_experiments"] = ["nope"]
    with pytest.raises(ConfigError, match=r"config key masked\.active_experiments"):
        workflow(cfg)
    with pytest.raises(ConfigError, match="config key masked: missing"):
        workflow({"claims": cfg["claims"]})


def test_estimates_grow_with_the_settings():
    cell = {
        "data": {"n": 100, "d": 128},
        "train": {"mask": "bernoulli", "p": 4, "tau": 5, "m": 1000, "rounds": 200, "max_rounds": 400},
        "seeds": 5,
    }
    wider = copy.deepcopy(cell)
    wider["train"]["m"] = 4000
    longer = copy.deepcopy(cell)
    longer["train"]["max_rounds"] = 800
    assert resources.train_seconds([wider]) > resources.train_seconds([cell])
    assert resources.train_seconds([longer]) - resources.START_SECONDS == pytest.approx(
        2 * (resources.train_seconds([cell]) - resources.START_SECONDS)
    )
    assert resources.train_job_memory_mb([wider]) > resources.train_job_memory_mb([cell])
    assert resources.predict_memory_mb([wider]) > resources.predict_memory_mb([cell])
    assert resources.predict_seconds([cell, cell]) > resources.predict_seconds([cell])
    # categorical subnetworks are m / p (+ 64) wide
    cat = copy.deepcopy(cell)
    cat["train"]["mask"] = "categorical"
    assert resources.subnetwork_width(cat["train"]) == 1000 // 4 + 64
    assert resources.train_units(cat) < resources.train_units(cell)


def test_every_job_is_estimated_and_the_largest_refused():
    cfg = ci_config()
    wf = workflow(cfg)
    est = wf.memory_estimates()
    for e, jobs in wf.train_jobs.items():
        for job in jobs:
            assert f"train {e}/{job}" in est
        assert f"predict {e}" in est and f"aggregate {e}" in est
    assert "claims" in est and min(est.values()) >= resources.BASE_MB
    with pytest.raises(ConfigError, match=r"masked job .* needs an estimated .* more than the 100 MB"):
        workflow(cfg, mem_limit_mb=100)
