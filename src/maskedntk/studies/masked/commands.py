"""The jobs of ``python -m maskedntk.studies.masked JOB``: each reads its command line
(:class:`maskedntk.core.jobcli.JobArgs`: settings, inputs, outputs) and calls the work in
:mod:`.jobs`, :mod:`.claims`, :mod:`.figures` or :mod:`.accuracy`.  The settings each job
reads are built by :class:`.workflow.MaskedWorkflow` (only what the job reads)."""

from __future__ import annotations

import os
from pathlib import Path

from maskedntk.core.jobcli import JobArgs

from . import jobs
from .cellconfig import dataset_id

#: the tables of an experiment
TABLES = ("runs", "trajectories", "trace")


def make_data(args: JobArgs) -> None:
    """Build (or load and normalise) the data set of ``settings.data``; ``--out data=FILE.npz``."""
    jobs.make_data_job(args.settings["data"], args.output("data"))


def _cells_with_data(args: JobArgs) -> dict[str, dict]:
    """The job's cells ({cell id: its training settings, the shared ones and its own}), each
    with the input data file of its data set (``--inputs data=<dataset id>.npz``, one per data set)."""
    files = {Path(p).stem: p for p in args.inputs.get("data", [])}
    out = {}
    for cell_id, own in args.settings["cells"].items():
        cell = {**args.settings["shared"], **own}
        ds = dataset_id(cell["data"])
        if ds not in files:
            raise SystemExit(
                f"job {args.job}: cell {cell_id} needs --inputs data=<...>/{ds}.npz (given: {sorted(files)})"
            )
        out[cell_id] = {**cell, "data_file": files[ds]}
    return out


def train(args: JobArgs) -> dict:
    """Train the cells of one training job together; ``--out dir=FOLDER`` gets one folder per
    cell (trajectories, trace, record.json).  Threads: the OMP_NUM_THREADS the rule sets."""
    cells = _cells_with_data(args)
    jobs.train_cells_job(cells, args.settings["job"], args.output("dir"), int(os.environ.get("OMP_NUM_THREADS", 1)))
    return {"cells": len(cells)}


def predict(args: JobArgs) -> dict:
    """Predict the plateau of every (cell, seed) of one experiment (``--inputs record=...``, one
    per cell in the order of ``settings.cells``, and ``data=...``); ``--out predictions=FILE.csv``."""
    cells = _cells_with_data(args)
    records = args.inputs.get("record", [])
    if len(records) != len(cells):
        raise SystemExit(f"job {args.job}: --inputs needs one record=PATH per cell ({len(cells)}), got {len(records)}")
    jobs.predict_job(records, [c["data_file"] for c in cells.values()], args.output("predictions"))
    return {"cells": len(cells)}


def aggregate(args: JobArgs) -> dict:
    """Measure every cell of one experiment (``--inputs record=... trajectories=... trace=...``
    in the order of ``settings.cells``, ``predictions=...``); ``--out runs= trajectories= trace=``."""
    from .metrics import PlateauOptions

    cells = args.settings["cells"]
    measures = [(PlateauOptions(**c["metrics"]), float(c["delta"])) for c in cells.values()]
    files = {k: args.inputs.get(k, []) for k in ("record", "trajectories", "trace")}
    for key, paths in files.items():
        if len(paths) != len(cells):
            raise SystemExit(f"job {args.job}: --inputs needs one {key}=PATH per cell ({len(cells)}), got {len(paths)}")
    jobs.aggregate_job(
        measures,
        files["record"],
        files["trajectories"],
        files["trace"],
        *(args.output(t) for t in TABLES),
        args.inputs.get("predictions"),
    )
    return {"experiment": args.settings["experiment"], "cells": len(cells)}


def aggregate_all(args: JobArgs) -> None:
    """Join every experiment's runs and trajectories (``--inputs runs=... trajectories=...``)."""
    jobs.concat_job(args.inputs["runs"], args.inputs["trajectories"], args.output("runs"), args.output("trajectories"))


def config_used(args: JobArgs) -> None:
    """The configuration the study ran with, as YAML (``--out config=FILE``; shown in the report)."""
    jobs.write_config_job(args.settings["config"], args.output("config"))


def _experiment_tables(args: JobArgs) -> dict[str, dict[str, str]]:
    """{experiment: {table: path}} from ``--inputs <experiment>_<table>=PATH``."""
    return {e: {t: args.input(f"{e}_{t}") for t in TABLES} for e in args.settings["experiments"]}


def claims(args: JobArgs) -> None:
    """The claims table (``--out csv= md= html=``) from every experiment's tables."""
    from .claims import claims_job

    out = args.out
    claims_job(_experiment_tables(args), args.settings["claims"], out["csv"], out["md"], out["html"])


def claims_robustness(args: JobArgs) -> None:
    """Every claim under each protocol (``--out csv= md=``)."""
    from .claims import robustness_job

    s = args.settings
    robustness_job(
        _experiment_tables(args), s["claims"], {"protocols": s["protocols"]}, args.output("csv"), args.output("md")
    )


def figure(args: JobArgs) -> None:
    """Figure ``settings.figure`` from its tables (``--inputs <table>=PATH``); ``--out pdf= png=``."""
    from .figures import render

    inputs = {k: v[0] for k, v in args.inputs.items()}
    render(args.settings["figure"], inputs, args.output("pdf"), args.output("png"), args.settings)


def prediction_accuracy(args: JobArgs) -> None:
    """The prediction-accuracy table (``--out csv= md=``) from the joined runs."""
    from .accuracy import accuracy_job

    accuracy_job(args.input("runs"), args.output("csv"), args.output("md"))
