"""The study's jobs (the table :data:`.__main__.JOBS`), each a function of one
:class:`~maskedntk.core.jobcli.JobArgs`: its settings (:func:`.experiments.job_share`), input
and output files.  Every output is written atomically; the metadata beside a job's tables (the
output ``meta``) is written by :mod:`maskedntk.core.jobcli` with the extra fields each job returns.
"""

from __future__ import annotations

import importlib
import logging

import pandas as pd

from maskedntk.core.atomic import write_frame
from maskedntk.core.jobcli import JobArgs

log = logging.getLogger("maskedntk")

#: experiment -> its run function in :mod:`.runs` (``local`` also takes the ratio); imported
#: by the training job only, so that a figure or claims job never starts torch
RUNNERS = {
    "local": "run_local",
    "gradient_bound": "run_gradient_bound",
    "claim2": "run_claim2",
    "initialisation": "run_initialisation",
    "samples": "run_samples",
    "figure1": "run_figure1",
    "claim1": "run_claim1",
    "relu_variant": "run_relu_variant",
    "masked_link": "run_masked_link",
}


def _tables(args: JobArgs) -> dict[str, str]:
    """The table outputs of a job: every ``--out`` but ``meta``."""
    return {k: v for k, v in args.out.items() if k != "meta"}


def train(args: JobArgs) -> dict:
    """Run one experiment (settings ``experiment``; ``ratio`` for ``local``) and write its
    tables (``--out runs=... [traj=... neurons=...] meta=...``)."""
    import torch

    from . import runs

    s = args.settings
    experiment, ratio = s["experiment"], s.get("ratio")
    torch.set_num_threads(1)
    run = getattr(runs, RUNNERS[experiment])
    tables = run(s, ratio) if experiment == "local" else run(s)
    outputs = _tables(args)
    if set(outputs) != set(tables):
        raise SystemExit(f"job train {experiment}: --out {sorted(outputs)} must name its tables {sorted(tables)}")
    rows = {k: len(v) for k, v in tables.items()}
    log.info("%s%s: rows %s", experiment, "" if ratio is None else f" ratio {ratio}", rows)
    for name, path in outputs.items():
        write_frame(path, tables[name])
    return {"experiment": experiment, **({} if ratio is None else {"ratio": ratio}), "rows": rows}


def claims(args: JobArgs) -> dict:
    """Evaluate every claim on the run tables (``--inputs EXPERIMENT=FILE ...``) and write the
    table (``--out csv=... md=... html=... meta=...``)."""
    from maskedntk.core.claims.render import write_claims

    from .claims import evaluate

    s = args.settings
    tables = {e: pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) for e, files in args.inputs.items()}
    table = evaluate(s, tables)
    write_claims(
        table,
        args.output("csv"),
        args.output("md"),
        args.output("html"),
        title="Local convergence of mildly over-parameterised two-layer networks, the model of "
        "Definition 2 (Zhou, Ge & Jin, COLT 2021): claims",
        alpha=s["claims"]["alpha"],
    )
    verdicts = table["verdict"].value_counts().to_dict()
    log.info("%d claims: %s", len(table), verdicts)
    return {"claims": len(table), "verdicts": verdicts}


def figure(args: JobArgs) -> None:
    """Render figure ``figure`` (a setting) from its run tables (``--inputs KEY=FILE ...``) to
    ``--out pdf=... png=...``."""
    name = args.settings["figure"]
    mod = importlib.import_module(f"{__package__}.figures.{name}")
    mod.render({k: args.input(k) for k in args.inputs}, args.output("pdf"), args.output("png"), args.settings)
    log.info("figure %s: inputs %s", name, sorted(args.inputs))
