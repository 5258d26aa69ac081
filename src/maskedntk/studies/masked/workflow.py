"""What the masked-neuron study's rules file (workflow/rules/masked.smk) needs from its
configuration: the grid of cells, the data sets, and the paths and parameters of each job.

Kept in the package (not in the rules file) so that the rules file holds only rules."""

from __future__ import annotations

from pathlib import Path

from ...core.resources import refuse_oversized
from .cellconfig import dataset_id
from .experiments import ConfigError, expand_config, validate_config
from .figures import FIGURES
from .jobs import state_memory_mb, train_memory_mb
from .protocols import SEP, split

TABLES = ("runs", "trajectories", "trace")
#: what one training job trains when the configuration does not say (key ``train_job``)
TRAIN_JOB_DEFAULT = "row"


def job_of(cell_id: str, train_job: str) -> str:
    """The training job that trains cell ``cell_id`` ('p~3/xi~0.5/tau~5'): its first path
    component ('p~3', a row of the grid) for ``train_job = 'row'``, the cell itself for
    ``'cell'``.  A job's outputs are the folder results/train/<experiment>/<job>, which holds
    the folders of its cells."""
    return cell_id.split("/")[0] if train_job == "row" else cell_id


class MaskedWorkflow:
    """The study's grid for one configuration: ``cells`` = {experiment: {cell id: cell}},
    ``datasets`` = {dataset id: data block}, written under ``results``."""

    def __init__(self, config: dict, results: str, schema: Path, other_studies=(), mem_limit_mb: int | None = None):
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
        #: experiment -> {training job: [its cell ids]}
        mode = config.get("train_job", TRAIN_JOB_DEFAULT)
        self.train_jobs = {e: {} for e in self.cells}
        for e, cells in self.cells.items():
            for cell_id in cells:
                self.train_jobs[e].setdefault(job_of(cell_id, mode), []).append(cell_id)
        if mem_limit_mb is not None:
            estimates = {
                f"train {e}/{job}": self._job_mem_mb(e, job) for e, jobs in self.train_jobs.items() for job in jobs
            }
            refuse_oversized(estimates, mem_limit_mb, study="masked")

    def job_cells(self, wildcards) -> dict[str, dict]:
        """{cell id: cell} of training job ``wildcards.job`` of ``wildcards.experiment``."""
        cells = self.cells[wildcards.experiment]
        return {c: cells[c] for c in self.train_jobs[wildcards.experiment][wildcards.job]}

    def training_params(self, wildcards) -> dict[str, dict]:
        """{cell id: what changes its training results} for one training job (a change
        elsewhere never retrains), with the path of the cell's data file."""
        return {
            cell_id: {k: cell[k] for k in ("experiment", "data", "train", "eta", "seeds") if k in cell}
            | {"data_file": self._data_path(cell)}
            for cell_id, cell in self.job_cells(wildcards).items()
        }

    def _data_path(self, cell: dict) -> str:
        return f"{self.results}/data/{dataset_id(cell['data'])}.npz"

    def data_files(self, wildcards) -> list[str]:
        """The data files one training job reads (one per distinct data set of its cells)."""
        return sorted({self._data_path(c) for c in self.job_cells(wildcards).values()})

    def train_dirs(self, experiment: str) -> list[str]:
        """The output folders of ``experiment``'s training jobs (inputs of the rules that read
        its cells, which take the cells' files from :meth:`cell_files`)."""
        return [f"{self.results}/train/{experiment}/{job}" for job in self.train_jobs[experiment]]

    def prediction_files(self, experiment: str) -> list[str]:
        """The predictions of ``experiment``'s cells, one file per training job."""
        return [f"{self.results}/tables/{experiment}/predictions/{job}.csv" for job in self.train_jobs[experiment]]

    def cell_files(self, experiment: str, name: str) -> list[str]:
        return [f"{self.results}/train/{experiment}/{cell}/{name}" for cell in self.cells[experiment]]

    def cell_data_files(self, experiment: str) -> list[str]:
        """The data file of each cell of ``experiment``, in the order of :meth:`cell_files`."""
        return [self._data_path(c) for c in self.cells[experiment].values()]

    def _job_mem_mb(self, experiment: str, job: str) -> int:
        cells = [self.cells[experiment][c] for c in self.train_jobs[experiment][job]]
        return max(train_memory_mb(c, c["data"]) for c in cells) + sum(state_memory_mb(c, c["data"]) for c in cells)

    def train_mem_mb(self, wildcards) -> int:
        """The largest memory estimate of the job's cells plus the state of all of them (they
        train together, round by round)."""
        return self._job_mem_mb(wildcards.experiment, wildcards.job)

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
