"""``python -m maskedntk.studies.masked JOB --config SETTINGS --inputs KEY=PATH ... --out
KEY=PATH ... --log FILE``: the jobs of the study's Snakemake rules (:mod:`maskedntk.core.jobcli`).

The settings of a job are only what it reads (built by :class:`.workflow.MaskedWorkflow`, as the
rules pass them); the keys each job needs are :data:`NEEDS`, and settings without one of them
(a whole configuration, say) are refused naming the missing keys."""

from __future__ import annotations

import sys

from maskedntk.core.jobcli import Job, main

#: job -> what runs it (a function of :mod:`.commands`) and one line of help
JOBS = {
    "make_data": Job("commands:make_data", "build or load one data set (.npz)"),
    "train": Job("commands:train", "train the cells of one training job (a grid row or a cell)"),
    "predict": Job("commands:predict", "predict the plateau of every (cell, seed) of one experiment"),
    "aggregate": Job("commands:aggregate", "measure every cell of one experiment: runs, trajectories, trace"),
    "aggregate_all": Job("commands:aggregate_all", "join the experiments' runs and trajectories"),
    "config_used": Job("commands:config_used", "write the configuration used (YAML)"),
    "figure": Job("commands:figure", "render one figure (PDF and PNG)"),
    "claims": Job("commands:claims", "the claims table (CSV, Markdown, HTML)"),
    "claims_robustness": Job("commands:claims_robustness", "the claims under each protocol"),
    "prediction_accuracy": Job("commands:prediction_accuracy", "the prediction-accuracy table"),
}

#: job -> the settings keys it reads
NEEDS = {
    "make_data": ("data",),
    "train": ("job", "shared", "cells"),
    "predict": ("job", "shared", "cells"),
    "aggregate": ("experiment", "cells"),
    "aggregate_all": (),
    "config_used": ("config",),
    "figure": ("figure",),
    "claims": ("claims", "experiments"),
    "claims_robustness": ("claims", "experiments", "protocols"),
    "prediction_accuracy": (),
}


def check_settings(settings: dict, job: str) -> dict:
    """``settings`` if it has every key ``job`` reads; else exit naming the missing keys."""
    missing = [k for k in NEEDS[job] if k not in settings]
    if missing:
        raise SystemExit(
            f"job {job}: --config lacks {missing}; a job takes only the settings it reads "
            "(as maskedntk.studies.masked.workflow.MaskedWorkflow builds them), not a whole configuration"
        )
    return settings


if __name__ == "__main__":
    sys.exit(
        main("masked", "maskedntk.studies.masked", JOBS, prepare=check_settings, description=__doc__.split("\n\n")[0])
    )
