"""The figures of the masked-neuron study: :data:`FIGURES` is the one table of them.

Each entry names the module that draws it, the experiment whose tables it reads and which of
those tables (``runs``, ``trajectories``, ``trace``) its ``draw`` function takes, in order.
The workflow generates one rule per entry from this table, and every figure is rendered
through :func:`render`, the one signature shared with every study's figures:
``render(name, inputs, pdf, png)`` with ``inputs`` = {table name: path}.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

log = logging.getLogger("maskedntk")


@dataclass(frozen=True)
class Figure:
    """One figure: ``draw(*tables, pdf, png)`` of ``module`` on the tables of ``experiment``."""

    module: str
    #: the experiment it draws; None: the joined tables of every experiment (results/masked/tables/)
    experiment: str | None
    tables: tuple[str, ...]
    #: drawn from the experiment under every protocol (``draw({protocol: (runs, estimator,
    #: description)}, pdf, png)``; inputs named ``runs`` and ``runs__<protocol>``)
    protocols: bool = False


FIGURES: dict[str, Figure] = {
    "fig_dynamics": Figure("dynamics", "dynamics", ("runs", "trajectories", "trace")),
    "fig_heatmap_bernoulli": Figure("heatmap_bernoulli", "heatmap_bernoulli", ("runs",)),
    "fig_heatmap_categorical": Figure("heatmap_categorical", "heatmap_categorical", ("runs",)),
    "fig_local_steps": Figure("local_steps", "local_steps", ("runs",)),
    "fig_width": Figure("width", "width", ("runs",)),
    "fig_bound_anatomy": Figure("bound_anatomy", "heatmap_bernoulli", ("runs",)),
    "fig_audit": Figure("audit", "audit", ("runs", "trajectories")),
    "fig_protocols": Figure("protocols", "heatmap_bernoulli", ("runs",), protocols=True),
    "fig_prediction": Figure("prediction", None, ("runs",)),
}

_READERS = {"runs": pd.read_csv, "trajectories": pd.read_parquet, "trace": pd.read_parquet}


def render(name: str, inputs: Mapping[str, str], pdf, png, config: Mapping | None = None) -> None:
    """Draw figure ``name`` from the table files ``inputs`` ({table: path}) to ``pdf`` and ``png``
    (``config``: the workflow configuration, read by the figures drawn under every protocol)."""
    if name not in FIGURES:
        raise ValueError(f"figure {name!r} is unknown; the figures are {sorted(FIGURES)}")
    fig = FIGURES[name]
    module = importlib.import_module(f"{__name__}.{fig.module}")
    if fig.protocols:
        from ..protocols import SEP, compared, description, headline

        config = config or {}
        protocols = {None: headline(config), **{p: p for p in compared(config)}}
        frames = [
            {
                label: (
                    pd.read_csv(inputs["runs" if p is None else f"runs{SEP}{p}"]),
                    "plateau" if p is None else compared(config)[p].get("estimator", "plateau"),
                    description(config, p),
                )
                for p, label in protocols.items()
                if ("runs" if p is None else f"runs{SEP}{p}") in inputs
            }
        ]
    else:
        frames = [_READERS[t](inputs[t]) for t in fig.tables]
    summary = module.draw(*frames, pdf, png)
    if isinstance(summary, pd.DataFrame) and not summary.empty:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            log.info("%s summary:\n%s", name, summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    log.info("wrote %s and %s", pdf, png)
