"""The functions the workflow's rules call (through ``python -m maskedntk.studies.local_convergence``).

Every output is written atomically; every run table has a JSON side file with provenance
(configuration, package versions, git commit) and the job's wall time.
"""

from __future__ import annotations

import importlib
import logging
import time

import pandas as pd

from maskedntk.core.atomic import write_frame, write_json
from maskedntk.core.provenance import provenance

from .experiments import settings

log = logging.getLogger("maskedntk")

#: figure name -> module under .figures (each exposes render(inputs, pdf, png, settings))
FIGURES = {
    "loss_curves": "loss_curves",
    "alignment": "alignment",
    "rate_vs_m": "rate_vs_m",
    "threshold": "threshold",
    "mstar_contrast": "mstar_contrast",
    "link": "link",
}


def _setup():
    """Import the engine (torch) only in the jobs that train; one thread: the batches are
    small, and the machine's cores go to parallel jobs."""
    import torch

    from . import runs

    torch.set_num_threads(1)
    return runs


def population(
    cfg: dict, experiment: str, ratio: int, out_runs: str, out_traj: str | None, out_neurons: str | None, meta: str
) -> None:
    """Train one (experiment, m/m*) cell; write its run table (and trajectories, neurons)."""
    runs = _setup()
    cfg = settings(cfg)
    t0 = time.perf_counter()
    df, traj, neurons = runs.run_population(cfg, experiment, ratio)
    seconds = time.perf_counter() - t0
    log.info("%s ratio %d: %d runs in %.1f s", experiment, ratio, len(df), seconds)
    write_frame(out_runs, df)
    if out_traj:
        write_frame(out_traj, traj)
    if out_neurons:
        write_frame(out_neurons, neurons)
    write_json(meta, {**provenance(cfg), "experiment": experiment, "ratio": ratio, "seconds": seconds})


def link(cfg: dict, out: str, meta: str) -> None:
    """The same teacher data trained by this study's GD and by the core's masked algorithm."""
    runs = _setup()
    cfg = settings(cfg)
    t0 = time.perf_counter()
    df = runs.run_link(cfg)
    seconds = time.perf_counter() - t0
    log.info("link: %d rows in %.1f s", len(df), seconds)
    write_frame(out, df)
    write_json(meta, {**provenance(cfg), "experiment": "link", "seconds": seconds})


def claims(
    cfg: dict, curves: list[str], threshold: list[str], link_file: str, out_csv: str, out_md: str, out_html: str
) -> None:
    """Evaluate every claim and write the claims table (CSV, Markdown, HTML)."""
    from maskedntk.core.claims.render import write_claims

    from .claims import evaluate

    cfg = settings(cfg)
    cur = pd.concat([pd.read_parquet(f) for f in curves], ignore_index=True)
    thr = pd.concat([pd.read_parquet(f) for f in threshold], ignore_index=True)
    lnk = pd.read_parquet(link_file)
    table = evaluate(cfg, cur, thr, lnk)
    write_claims(
        table,
        out_csv,
        out_md,
        out_html,
        title="Local convergence of mildly over-parameterised two-layer ReLU networks "
        "(Zhou, Ge & Jin, COLT 2021): claims",
        alpha=cfg["claims"]["alpha"],
    )


def figure(name: str, cfg: dict, inputs: dict[str, str], pdf: str, png: str) -> None:
    """Render figure ``name`` (a key of FIGURES)."""
    if name not in FIGURES:
        raise ValueError(f"figure = {name!r}: must be one of {sorted(FIGURES)}")
    cfg = settings(cfg)
    mod = importlib.import_module(f"{__package__}.figures.{FIGURES[name]}")
    mod.render(inputs, pdf, png, cfg)
