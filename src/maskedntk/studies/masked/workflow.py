"""What the masked-neuron study's rules file (workflow/rules/masked.smk) needs from its
configuration: the grid of cells, the data sets, and each job's files, settings and resources.

Kept in the package (not in the rules file) so that the rules file holds only rules.  Every job
runs ``python -m maskedntk.studies.masked JOB --config SETTINGS --inputs ... --out ... --log``
(:mod:`maskedntk.core.jobcli`); its settings are only what it reads, so a change elsewhere in
the configuration never reruns it (a figure setting never retrains)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path

from ...core.resources import refuse_oversized, runtime_minutes
from ...core.schema import ConfigError, check_schema
from . import resources
from .cellconfig import dataset_id
from .experiments import expand_config
from .figures import FIGURES
from .protocols import SEP, split

#: the command line of every job (``python -m maskedntk.studies.masked JOB ...``), as every
#: study's: the ``python`` of the environment that runs the workflow
COMMAND = "python -m maskedntk.studies.masked"
#: the package's folder (figure, claim and prediction rules depend on their code)
CODE = Path(__file__).parent
#: the tables of an experiment and their file types
TABLES = {"runs": "csv", "trajectories": "parquet", "trace": "parquet"}
#: what a training job of cell ``c`` trains: the keys of a cell that change its numbers
TRAIN_KEYS = ("experiment", "data", "train", "eta", "seeds")


def job_of(cell_id: str, train_job: str) -> str:
    """The training job that trains cell ``cell_id`` ('p~3/xi~0.5/tau~5'): its first path
    component ('p~3', a row of the grid) for ``train_job = 'row'``, the cell itself for
    ``'cell'``.  A job's output is the folder <results>/masked/train/<experiment>/<job>, which
    holds the folders of its cells."""
    return cell_id.split("/")[0] if train_job == "row" else cell_id


def pairs(key: str, paths) -> str:
    """``--inputs`` / ``--out`` words: 'KEY=PATH KEY=PATH ...' (a key repeated per path)."""
    return " ".join(shlex.quote(f"{key}={p}") for p in paths)


class MaskedWorkflow:
    """The study's jobs for one configuration (``config['masked']``, checked against ``schema``;
    a :class:`ConfigError` names the bad key), written under ``{results}/masked`` and logged
    under ``{logs}/masked``: ``cells`` = {experiment: {cell id: cell}}, ``datasets`` = {dataset
    id: data block}, ``train_jobs`` = {experiment: {training job: [cell ids]}}."""

    def __init__(self, config: Mapping, results: str, logs: str, schema, mem_limit_mb: int | None = None):
        if "masked" not in config:
            raise ConfigError("config key masked: missing (the study's settings, config/masked.yaml)")
        self.settings = config["masked"]
        check_schema(self.settings, schema, prefix="masked")
        try:
            self.cells = expand_config(self.settings)
        except ConfigError as err:
            raise ConfigError(str(err).replace("config key ", "config key masked.", 1)) from None
        self.claims = dict(config["claims"])
        self.dir = f"{results}/masked"
        self.logs = f"{logs}/masked"
        self.command = COMMAND
        self.datasets = {dataset_id(c["data"]): c["data"] for cs in self.cells.values() for c in cs.values()}
        #: experiment -> the names of its re-runs under compared protocols
        self.protocol_experiments = {e: [n for n in self.cells if split(n)[1] and split(n)[0] == e] for e in self.cells}
        #: the figures this configuration can draw (their experiment is configured; a figure
        #: drawn under every protocol also needs a compared protocol that ran the experiment)
        self.active_figures = [
            f
            for f, spec in FIGURES.items()
            if (spec.experiment is None and self.cells)
            or (spec.experiment in self.cells and (not spec.protocols or self.protocol_experiments[spec.experiment]))
        ]
        #: the claims are tested under each protocol when some are compared
        self.has_protocols = any(split(e)[1] for e in self.cells)
        self.train_jobs = {e: {} for e in self.cells}
        for e, cells in self.cells.items():
            for cell_id in cells:
                self.train_jobs[e].setdefault(job_of(cell_id, self.settings["train_job"]), []).append(cell_id)
        if mem_limit_mb is not None:
            refuse_oversized(self.memory_estimates(), mem_limit_mb, study="masked")

    # ------------------------------------------------------------------ paths
    def path(self, *parts: str) -> str:
        """A path under the study's results folder."""
        return "/".join([self.dir, *parts])

    def log(self, *parts: str) -> str:
        """The log file of a job: <logs>/masked/<parts>.log."""
        return "/".join([self.logs, *parts]) + ".log"

    def code(self, *names: str) -> list[str]:
        """Files of the package (relative to its folder), inputs of the rules that run them."""
        return [str(CODE / n) for n in names]

    def data_file(self, dataset: str) -> str:
        return self.path("data", f"{dataset}.npz")

    def _cell_data_file(self, cell: Mapping) -> str:
        return self.data_file(dataset_id(cell["data"]))

    def train_dirs(self, experiment: str) -> list[str]:
        """The output folders of ``experiment``'s training jobs."""
        return [self.path("train", experiment, job) for job in self.train_jobs[experiment]]

    def cell_files(self, experiment: str, name: str) -> list[str]:
        """File ``name`` of every cell of ``experiment`` (inside its training job's folder)."""
        return [self.path("train", experiment, cell, name) for cell in self.cells[experiment]]

    def prediction_files(self, experiment: str) -> dict[str, str]:
        """The predictions of ``experiment``'s cells (one job per experiment): {csv, meta}."""
        return {
            "predictions": self.path("tables", experiment, "predictions.csv"),
            "meta": self.path("tables", experiment, "predictions.json"),
        }

    def experiment_tables(self, experiment: str) -> dict[str, str]:
        return {t: self.path("tables", experiment, f"{t}.{ext}") for t, ext in TABLES.items()}

    def all_tables(self) -> dict[str, str]:
        """Every experiment's tables, named '<experiment>_<table>' (the claims jobs' inputs)."""
        return {f"{e}_{t}": p for e in self.cells for t, p in self.experiment_tables(e).items()}

    def figure_inputs(self, name: str) -> dict[str, str]:
        """The table files figure ``name`` reads: {table: path}, and for a figure drawn under
        every protocol also {``runs__<protocol>``: path}."""
        spec = FIGURES[name]
        if spec.experiment is None:
            return {"runs": self.path("tables", "runs.csv")}
        out = {t: self.experiment_tables(spec.experiment)[t] for t in spec.tables}
        if spec.protocols:
            for e in self.protocol_experiments[spec.experiment]:
                out[f"runs{SEP}{split(e)[1]}"] = self.experiment_tables(e)["runs"]
        return out

    def figure_outputs(self, name: str) -> list[str]:
        return [self.path("figures", f"{name}.{ext}") for ext in ("pdf", "png")]

    # ------------------------------------------------------------------ jobs' settings
    @staticmethod
    def settings_arg(settings: Mapping) -> str:
        """A job's ``--config``: its settings as one shell word of JSON."""
        return shlex.quote(json.dumps(settings, sort_keys=True))

    def job_cells(self, wildcards) -> dict[str, dict]:
        """{cell id: cell} of training job ``wildcards.job`` of ``wildcards.experiment``."""
        cells = self.cells[wildcards.experiment]
        return {c: cells[c] for c in self.train_jobs[wildcards.experiment][wildcards.job]}

    @staticmethod
    def _cells_settings(job: str, cells: Mapping[str, Mapping]) -> dict:
        """``cells`` as a job reads them: per cell, what changes its numbers (data, train, eta,
        seeds; a change elsewhere never retrains).  The parts every cell shares (the
        experiment's step grid, say) are given once, under ``shared``, so that the command line
        stays short (a cell is ``{**shared, **cells[c]}``)."""
        own = {c: {k: cell[k] for k in TRAIN_KEYS} for c, cell in cells.items()}
        first = next(iter(own.values()))
        shared = {k: first[k] for k in TRAIN_KEYS if all(cell[k] == first[k] for cell in own.values())}
        return {
            "job": job,
            "shared": shared,
            "cells": {c: {k: v for k, v in cell.items() if k not in shared} for c, cell in own.items()},
        }

    def train_settings(self, wildcards) -> dict:
        """What training job ``wildcards.job`` reads: its name and its cells' settings."""
        return self._cells_settings(wildcards.job, self.job_cells(wildcards))

    def predict_settings(self, experiment: str) -> dict:
        """What predicting ``experiment`` reads: every cell's settings, as training reads them
        (the predictions change exactly when the numbers they predict do)."""
        return self._cells_settings(experiment, self.cells[experiment])

    def _data_files(self, cells) -> list[str]:
        """The data files ``cells`` read (one per distinct data set)."""
        return sorted({self._cell_data_file(c) for c in cells})

    def data_files(self, wildcards) -> list[str]:
        """The data files one training job reads."""
        return self._data_files(self.job_cells(wildcards).values())

    def experiment_data_files(self, experiment: str) -> list[str]:
        """The data files of every cell of ``experiment``."""
        return self._data_files(self.cells[experiment].values())

    def predict_inputs(self, experiment: str) -> str:
        """``--inputs`` of predicting ``experiment``: every cell's record (in the order of its
        cells) and the data files."""
        return " ".join(
            [
                pairs("record", self.cell_files(experiment, "record.json")),
                pairs("data", self.experiment_data_files(experiment)),
            ]
        )

    def aggregate_settings(self, experiment: str) -> dict:
        """What measuring ``experiment`` reads: each cell's ``metrics`` and ``delta``."""
        return {
            "experiment": experiment,
            "cells": {
                c: {"metrics": cell["metrics"], "delta": cell["delta"]} for c, cell in self.cells[experiment].items()
            },
        }

    def aggregate_inputs(self, experiment: str) -> str:
        """``--inputs`` of measuring ``experiment``: every cell's record, trajectories and trace
        (in the order of its cells) and the predictions."""
        return " ".join(
            [
                pairs("record", self.cell_files(experiment, "record.json")),
                pairs("trajectories", self.cell_files(experiment, "trajectories.parquet")),
                pairs("trace", self.cell_files(experiment, "trace.parquet")),
                pairs("predictions", [self.prediction_files(experiment)["predictions"]]),
            ]
        )

    def figure_settings(self, name: str) -> dict:
        """What figure ``name`` reads: its name, and the protocols for a figure drawn under each."""
        out = {"figure": name}
        if FIGURES[name].protocols:
            out["protocols"] = self.settings.get("protocols")
        return out

    def claims_settings(self, robustness: bool = False) -> dict:
        """What a claims job reads: the global ``claims`` settings, the experiments and, for the
        claims under every protocol, the protocols."""
        out = {"claims": self.claims, "experiments": list(self.cells)}
        if robustness:
            out["protocols"] = self.settings.get("protocols")
        return out

    def config_used(self) -> dict:
        """The configuration the study ran with (the global keys and ``masked``)."""
        return {"claims": self.claims, "masked": self.settings}

    @staticmethod
    def table_inputs(tables: Mapping[str, str]) -> str:
        """``--inputs`` of a job reading named tables: 'NAME=PATH ...'."""
        return " ".join(pairs(k, [v]) for k, v in tables.items())

    # ------------------------------------------------------------------ resources
    def _rows(self, experiments) -> int:
        return sum(resources.trajectory_rows(c) for e in experiments for c in self.cells[e].values())

    def train_mem_mb(self, wildcards) -> int:
        return resources.train_job_memory_mb(self.job_cells(wildcards).values())

    def train_runtime(self, wildcards) -> int:
        return runtime_minutes(resources.train_seconds(self.job_cells(wildcards).values()))

    def predict_mem_mb(self, wildcards) -> int:
        return resources.predict_memory_mb(self.cells[wildcards.experiment].values())

    def predict_runtime(self, wildcards) -> int:
        return runtime_minutes(resources.predict_seconds(self.cells[wildcards.experiment].values()))

    def tables_mem_mb(self, experiments=None) -> int:
        """A job reading the tables of ``experiments`` (default: all)."""
        return resources.table_memory_mb(self._rows(self.cells if experiments is None else experiments))

    def tables_runtime(self, experiments=None) -> int:
        return runtime_minutes(resources.table_seconds(self._rows(self.cells if experiments is None else experiments)))

    def memory_estimates(self) -> dict[str, int]:
        """Every job's memory estimate (MB), named '<job> <experiment>/<training job>' for the
        training jobs, '<job> <experiment>' for the others; what the configuration is refused on."""
        out = {}
        for e, jobs in self.train_jobs.items():
            for job, ids in jobs.items():
                out[f"train {e}/{job}"] = resources.train_job_memory_mb([self.cells[e][c] for c in ids])
            out[f"predict {e}"] = resources.predict_memory_mb(self.cells[e].values())
            out[f"aggregate {e}"] = self.tables_mem_mb([e])
        out["claims"] = self.tables_mem_mb()
        return out

    # ------------------------------------------------------------------ targets
    def why_not(self, name: str) -> str:
        """Why figure ``name`` cannot be drawn with this configuration."""
        if FIGURES[name].protocols and FIGURES[name].experiment in self.cells:
            return (
                f"{name} compares the '{FIGURES[name].experiment}' experiment across protocols, and no protocol "
                "under `masked.protocols.compare` re-runs it in this configuration"
            )
        return (
            f"{name} draws the '{FIGURES[name].experiment}' experiment, which this configuration does not "
            f"include (experiments run: {', '.join(self.cells) or 'none'}); add it to `masked.experiments` (and to "
            "`masked.active_experiments` if that is set) in the config file"
        )

    def outputs(self) -> list[str]:
        """The study's target: every figure it can draw and every table."""
        out = [f for name in self.active_figures for f in self.figure_outputs(name)]
        out += [self.path("tables", f) for f in ("runs.csv", "trajectories.parquet", "claims.csv")]
        out += [self.path("tables", "prediction_accuracy.csv"), self.path("config_used.yaml")]
        if self.has_protocols:
            out.append(self.path("tables", "claims_robustness.csv"))
        return out


__all__ = ["ConfigError", "MaskedWorkflow"]
