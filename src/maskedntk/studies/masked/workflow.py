"""What the masked-neuron study's rules file (workflow/rules/masked.smk) needs from its
configuration: the grid of cells, the data sets, and the paths and parameters of each job.

Kept in the package (not in the rules file) so that the rules file holds only rules."""

from __future__ import annotations

from pathlib import Path

from .cellconfig import dataset_id
from .experiments import ConfigError, expand_config, validate_config
from .figures import FIGURES
from .jobs import train_memory_mb

TABLES = ("runs", "trajectories", "trace")


class MaskedWorkflow:
    """The study's grid for one configuration: ``cells`` = {experiment: {cell id: cell}},
    ``datasets`` = {dataset id: data block}, written under ``results``."""

    def __init__(self, config: dict, results: str, schema: Path, other_studies=()):
        # the other studies' blocks are validated by their own rules files
        validate_config({k: v for k, v in config.items() if k not in other_studies}, schema)
        self.results = results
        self.cells = expand_config(config)
        self.datasets = {dataset_id(c["data"]): c["data"] for cs in self.cells.values() for c in cs.values()}
        #: the figures this configuration can draw (their experiment is configured)
        self.active_figures = [f for f, spec in FIGURES.items() if spec.experiment in self.cells]

    def cell_of(self, wildcards) -> dict:
        return self.cells[wildcards.experiment][wildcards.cell]

    def training_params(self, wildcards) -> dict:
        """Only what changes the training results: a change elsewhere never retrains."""
        cell = self.cell_of(wildcards)
        return {k: cell[k] for k in ("experiment", "data", "train", "eta", "seeds") if k in cell}

    def data_file(self, wildcards) -> str:
        return f"{self.results}/data/{dataset_id(self.cell_of(wildcards)['data'])}.npz"

    def cell_files(self, experiment: str, name: str) -> list[str]:
        return [f"{self.results}/train/{experiment}/{cell}/{name}" for cell in self.cells[experiment]]

    def train_mem_mb(self, wildcards) -> int:
        cell = self.cell_of(wildcards)
        return train_memory_mb(cell, cell["data"])

    def experiment_tables(self, experiment: str) -> dict[str, str]:
        return {t: f"{self.results}/tables/{experiment}/{t}.{'csv' if t == 'runs' else 'parquet'}" for t in TABLES}

    def all_tables(self) -> dict[str, str]:
        """Every experiment's tables, named '<experiment>_<table>' (the claims rule's input)."""
        return {f"{e}_{t}": p for e in self.cells for t, p in self.experiment_tables(e).items()}

    def figure_outputs(self, name: str) -> list[str]:
        return [f"{self.results}/figures/{name}.pdf", f"{self.results}/figures/{name}.png"]

    def why_not(self, name: str) -> str:
        """Why figure ``name`` cannot be drawn with this configuration."""
        return (
            f"{name} draws the '{FIGURES[name].experiment}' experiment, which this configuration does not "
            f"include (experiments run: {', '.join(self.cells) or 'none'}); add it to `experiments` (and to "
            "`active_experiments` if that is set) in the config file"
        )


__all__ = ["ConfigError", "MaskedWorkflow"]
