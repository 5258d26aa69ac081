"""What the masked-neuron study's rules file (workflow/rules/masked.smk) needs from its
configuration: the grid of cells, the data sets, and the paths and parameters of each job.

Kept in the package (not in the rules file) so that the rules file holds only rules."""

from __future__ import annotations

from pathlib import Path

from .cellconfig import dataset_id
from .experiments import ConfigError, expand_config, validate_config
from .figures import FIGURES
from .jobs import train_memory_mb
from .protocols import SEP, split

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

    def cell_data_files(self, experiment: str) -> list[str]:
        """The data file of each cell of ``experiment``, in the order of :meth:`cell_files`."""
        return [f"{self.results}/data/{dataset_id(c['data'])}.npz" for c in self.cells[experiment].values()]

    def train_mem_mb(self, wildcards) -> int:
        cell = self.cell_of(wildcards)
        return train_memory_mb(cell, cell["data"])

    def experiment_tables(self, experiment: str) -> dict[str, str]:
        return {t: f"{self.results}/tables/{experiment}/{t}.{'csv' if t == 'runs' else 'parquet'}" for t in TABLES}

    def figure_inputs(self, name: str) -> dict[str, str]:
        """The table files figure ``name`` reads: {table: path}, and for a figure drawn under
        every protocol also {``runs__<protocol>``: path}."""
        spec = FIGURES[name]
        if spec.experiment is None:
            return {"runs": f"{self.results}/tables/runs.csv"}
        out = {t: self.experiment_tables(spec.experiment)[t] for t in spec.tables}
        if spec.protocols:
            for e in self.protocol_experiments[spec.experiment]:
                out[f"runs{SEP}{split(e)[1]}"] = self.experiment_tables(e)["runs"]
        return out

    def all_tables(self) -> dict[str, str]:
        """Every experiment's tables, named '<experiment>_<table>' (the claims rule's input)."""
        return {f"{e}_{t}": p for e in self.cells for t, p in self.experiment_tables(e).items()}

    def figure_outputs(self, name: str) -> list[str]:
        return [f"{self.results}/figures/{name}.pdf", f"{self.results}/figures/{name}.png"]

    def why_not(self, name: str) -> str:
        """Why figure ``name`` cannot be drawn with this configuration."""
        if FIGURES[name].protocols and FIGURES[name].experiment in self.cells:
            return (
                f"{name} compares the '{FIGURES[name].experiment}' experiment across protocols, and no protocol "
                "under `protocols.compare` re-runs it in this configuration"
            )
        return (
            f"{name} draws the '{FIGURES[name].experiment}' experiment, which this configuration does not "
            f"include (experiments run: {', '.join(self.cells) or 'none'}); add it to `experiments` (and to "
            "`active_experiments` if that is set) in the config file"
        )


__all__ = ["ConfigError", "MaskedWorkflow"]
