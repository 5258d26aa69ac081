"""What the study's rules file (workflow/rules/local_convergence.smk) needs from its
configuration: the jobs, their output tables, the settings each reads, the figure table
(figure name -> its inputs) and each job's memory and time estimate.  Kept in the package so
that the rules file holds only rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from maskedntk.core.resources import refuse_oversized, runtime_minutes

from . import resources
from .experiments import FIGURES, RUN_JOBS, job_settings, validate, with_claim_stats

#: the command line of every job (:mod:`.__main__`)
COMMAND = "python -m maskedntk.studies.local_convergence"
#: the package's folder (the rules depend on their code)
CODE = Path(__file__).parent
#: the modules every training job runs
ENGINE = ("engine.py", "theory.py", "problem.py", "runs.py", "experiments.py", "jobs.py")
#: the training jobs no claim reads (besides ``local``, which the claims read per ratio)
NO_CLAIM = ("local", "masked_link")
#: the masked study's modules the masked_link job runs as well
MASKED = ("engine.py", "spec.py", "stepsize.py", "masks.py", "rng.py")
#: the tables of each training job (``local``: per ratio)
TABLES = {
    "local": ("runs", "traj", "neurons"),
    "figure1": ("runs", "traj"),
    "relu_variant": ("runs", "traj"),
    **{job: ("runs",) for job in RUN_JOBS if job not in ("local", "figure1", "relu_variant")},
}


def pairs(files: Mapping[str, str | list[str]]) -> str:
    """``KEY=PATH ...`` for ``--inputs`` / ``--out`` (a list: the key once per path, in order)."""
    return " ".join(f"{k}={p}" for k, v in files.items() for p in ([v] if isinstance(v, str) else v))


class LocalConvergenceWorkflow:
    """The jobs of ``config['local_convergence']`` (validated on construction: a ``ValueError``
    names the bad key); results under ``{results}/local_convergence``, logs under
    ``{logs}/local_convergence``.  With ``mem_limit_mb``, a configuration with a job estimated
    above it is refused on construction (before any job runs), naming the job, its estimate
    and the limit.  The claims job also reads the global key ``claims`` of ``config``."""

    command = COMMAND

    def __init__(self, config: Mapping, results: str, logs: str, mem_limit_mb: int | None = None):
        self.settings = validate(config.get("local_convergence", None))
        self.claim_stats = config.get("claims")
        self.dir, self.logs = f"{results}/local_convergence", f"{logs}/local_convergence"
        self.engine = self.code(*ENGINE)
        self.ratios = self.settings["local"]["ratios"]
        #: training job name -> (experiment, its settings: the share with experiment and ratio)
        self.train = {f"local_r{q}": ("local", self._share("local", ratio=q)) for q in self.ratios}
        self.train.update({e: (e, self._share(e)) for e in RUN_JOBS if e != "local"})
        #: training job name -> {table: file}
        self.jobs = {job: self.tables(e, job) for job, (e, _) in self.train.items()}
        local = lambda t: {f"{t}_r{q}": self.jobs[f"local_r{q}"][t] for q in self.ratios}  # noqa: E731
        #: THE figure table: figure name -> {input key: file}
        self.figures = {
            "local_rate": local("runs"),
            "gradient_bound": {"runs": self.jobs["gradient_bound"]["runs"]},
            "alignment": {**local("neurons"), "claim1": self.jobs["claim1"]["runs"]},
            "claim2": {"runs": self.jobs["claim2"]["runs"]},
            "rates": local("traj"),
            "initialisation": {"runs": self.jobs["initialisation"]["runs"]},
            "samples": {"runs": self.jobs["samples"]["runs"]},
            "figure1": dict(self.jobs["figure1"]),
            "relu_variant": dict(self.jobs["relu_variant"]),
            "masked_link": {"runs": self.jobs["masked_link"]["runs"]},
        }
        if set(self.figures) != set(FIGURES):
            raise RuntimeError(f"the figure table {sorted(self.figures)} must list the figures {sorted(FIGURES)}")
        #: the claims job's inputs: experiment -> run tables
        self.claim_inputs = {"local": list(local("runs").values())}
        self.claim_inputs.update({job: [self.jobs[job]["runs"]] for job in RUN_JOBS if job not in NO_CLAIM})
        #: the claims job's outputs (csv, md, html and its metadata)
        self.claim_files = {ext: f"{self.dir}/tables/claims.{ext}" for ext in ("csv", "md", "html")}
        self.claim_files["meta"] = f"{self.dir}/tables/claims.json"
        #: the study's target: every figure and the claims table
        self.outputs = [f for name in self.figures for f in self.figure_files(name).values()]
        self.outputs += list(self.claim_files.values())
        #: job name (a rule's name without the study prefix) -> (memory MB, time s)
        self.estimates = {job: self._train_estimate(job) for job in self.train}
        self.estimates["claims"] = self._reader_estimate(self.claim_inputs, claims=True)
        self.estimates.update({f"fig_{f}": self._reader_estimate(i, claims=False) for f, i in self.figures.items()})
        if mem_limit_mb is not None:
            refuse_oversized({j: mb for j, (mb, _) in self.estimates.items()}, mem_limit_mb, study="local_convergence")

    # ------------------------------------------------------------------ settings of each job

    def _share(self, experiment: str, **select) -> dict:
        return {**job_settings(self.settings, experiment), "experiment": experiment, **select}

    def settings_json(self, job: str) -> str:
        """The ``--config`` of job ``job`` (a key of :attr:`estimates`: a training job, ``claims``
        or ``fig_<figure>``): the settings it reads (:func:`.experiments.job_settings`) with those
        that select it (``experiment``, ``ratio``, ``figure``); the claims job's ``claims`` also
        holds the global claims settings.  A change elsewhere in the config never reruns it."""
        if job in self.train:
            settings = self.train[job][1]
        elif job == "claims":
            settings = with_claim_stats(job_settings(self.settings, "claims"), self.claim_stats)
        elif job.startswith("fig_") and job[4:] in self.figures:
            settings = {**job_settings(self.settings, f"figure-{job[4:]}"), "figure": job[4:]}
        else:
            raise ValueError(f"job = {job!r}: must be one of {sorted(self.estimates)}")
        return json.dumps(settings, sort_keys=True)

    # ------------------------------------------------------------------ resources

    def _train_estimate(self, job: str) -> tuple[int, float]:
        experiment, share = self.train[job]
        return resources.train_memory_mb(experiment, share), resources.train_seconds(experiment, share)

    def _rows(self, files) -> int:
        """The rows of the run tables ``files`` (by the estimate of the jobs that write them)."""
        by_file = {}
        for job, (experiment, share) in self.train.items():
            by_file.update({self.jobs[job][t]: n for t, n in resources.table_rows(experiment, share).items()})
        return sum(by_file[f] for f in files)

    def _reader_estimate(self, inputs: Mapping, *, claims: bool) -> tuple[int, float]:
        files = [f for v in inputs.values() for f in ([v] if isinstance(v, str) else v)]
        rows = self._rows(files)
        return resources.reader_memory_mb(rows), resources.reader_seconds(rows, claims=claims)

    def mem_mb(self, job: str) -> int:
        """The memory (MB) to declare for job ``job`` (``local_r2``, ``claims``, ``fig_rates``)."""
        return self.estimates[job][0]

    def runtime(self, job: str) -> int:
        """The runtime (minutes) to declare for job ``job`` (:func:`~maskedntk.core.resources.runtime_minutes`)."""
        return runtime_minutes(self.estimates[job][1])

    # ------------------------------------------------------------------ files

    def job_code(self, job: str) -> list[str]:
        """The code training job ``job`` runs (its rule's code input)."""
        extra = [str(CODE.parent / "masked" / n) for n in MASKED] if self.train[job][0] == "masked_link" else []
        return self.engine + extra

    def tables(self, experiment: str, job: str) -> dict[str, str]:
        return {t: f"{self.dir}/runs/{job}{'' if t == 'runs' else '_' + t}.parquet" for t in TABLES[experiment]}

    def train_outputs(self, job: str) -> dict[str, str]:
        """Every file training job ``job`` writes: its tables and the metadata beside its runs table."""
        return {**self.jobs[job], "meta": str(Path(self.jobs[job]["runs"]).with_suffix(".json"))}

    @staticmethod
    def code(*names: str) -> list[str]:
        return [str(CODE / n) for n in names]

    def log(self, name: str) -> str:
        return f"{self.logs}/{name}.log"

    def figure_code(self, fig: str) -> list[str]:
        return self.code(f"figures/{fig}.py", "figures/common.py")

    def figure_files(self, name: str) -> dict[str, str]:
        return {ext: f"{self.dir}/figures/{name}.{ext}" for ext in ("pdf", "png")}


__all__ = ["COMMAND", "LocalConvergenceWorkflow", "pairs"]
