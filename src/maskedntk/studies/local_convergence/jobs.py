"""The functions the workflow's rules call (through ``python -m maskedntk.studies.local_convergence``).

Every output is written atomically; every run table has one JSON metadata file beside it
(:func:`meta`: the settings the job read, the seeds, package versions and git commit from
:mod:`maskedntk.core.provenance`, and the job's wall time).
"""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path

import pandas as pd
import torch

from maskedntk.core.atomic import write_frame, write_json
from maskedntk.core.provenance import provenance

from . import experiments, runs

log = logging.getLogger("maskedntk")

#: figure name -> its module under .figures
FIGURES = {
    "local_rate": "local_rate",
    "gradient_bound": "gradient_bound",
    "alignment": "alignment",
    "claim2": "claim2",
    "rates": "rates",
    "initialisation": "initialisation",
    "samples": "samples",
    "figure1": "figure1",
    "relu_variant": "relu_variant",
    "masked_link": "masked_link",
}
#: experiment -> its run function (``local`` also takes the ratio)
RUNNERS = {
    "local": runs.run_local,
    "gradient_bound": runs.run_gradient_bound,
    "claim2": runs.run_claim2,
    "initialisation": runs.run_initialisation,
    "samples": runs.run_samples,
    "figure1": runs.run_figure1,
    "claim1": runs.run_claim1,
    "relu_variant": runs.run_relu_variant,
    "masked_link": runs.run_masked_link,
}


def meta_path(table: str) -> str:
    """The metadata JSON beside run table ``table`` (x.parquet -> x.json)."""
    return str(Path(table).with_suffix(".json"))


def train(cfg: dict, experiment: str, outputs: dict[str, str], ratio: int | None = None) -> None:
    """Run one experiment (one ratio of ``local``) and write its tables ``outputs`` ({name: path})."""
    if experiment not in RUNNERS:
        raise ValueError(f"experiment = {experiment!r}: must be one of {sorted(RUNNERS)}")
    torch.set_num_threads(1)
    cfg = experiments.settings(cfg)
    t0 = time.perf_counter()
    tables = RUNNERS[experiment](cfg, ratio) if experiment == "local" else RUNNERS[experiment](cfg)
    seconds = time.perf_counter() - t0
    log.info(
        "%s%s: %s in %.1f s",
        experiment,
        "" if ratio is None else f" ratio {ratio}",
        {k: len(v) for k, v in tables.items()},
        seconds,
    )
    if set(outputs) != set(tables):
        raise ValueError(f"{experiment}: outputs {sorted(outputs)} do not match its tables {sorted(tables)}")
    info = {**provenance(cfg), "experiment": experiment, "ratio": ratio, "seeds": cfg["seeds"], "seconds": seconds}
    for name, path in outputs.items():
        write_frame(path, tables[name])
        write_json(meta_path(path), {**info, "table": name, "rows": len(tables[name])})


def claims(cfg: dict, inputs: dict[str, list[str]], out_csv: str, out_md: str, out_html: str) -> None:
    """Evaluate every claim on the run tables ``inputs`` ({experiment: files}) and write the table."""
    from maskedntk.core.claims.render import write_claims

    from .claims import evaluate

    cfg = experiments.settings(cfg)
    tables = {e: pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) for e, files in inputs.items()}
    write_claims(
        evaluate(cfg, tables),
        out_csv,
        out_md,
        out_html,
        title="Local convergence of mildly over-parameterised two-layer networks, the model of "
        "Definition 2 (Zhou, Ge & Jin, COLT 2021): claims",
        alpha=cfg["claims"]["alpha"],
    )


def figure(name: str, cfg: dict, inputs: dict[str, str], pdf: str, png: str) -> None:
    """Render figure ``name`` (a key of FIGURES) from ``inputs`` ({key: run table})."""
    if name not in FIGURES:
        raise ValueError(f"figure = {name!r}: must be one of {sorted(FIGURES)}")
    cfg = experiments.settings(cfg)
    mod = importlib.import_module(f"{__package__}.figures.{FIGURES[name]}")
    mod.render(inputs, pdf, png, cfg)
