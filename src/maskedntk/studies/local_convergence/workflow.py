"""What the study's rules file (workflow/rules/local_convergence.smk) needs from its
configuration: the jobs, their output tables, the settings each reads, and the figure table
(figure name -> its inputs).  Kept in the package so that the rules file holds only rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .experiments import RUN_JOBS, job_settings, validate

#: the command line of every job
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


class LocalConvergenceWorkflow:
    """The jobs of ``config['local_convergence']`` (validated on construction: a ``ValueError``
    names the bad key); results under ``{results}/local_convergence``, logs under
    ``{logs}/local_convergence``."""

    command = COMMAND

    def __init__(self, config: Mapping, results: str, logs: str):
        self.settings = validate(config.get("local_convergence", None))
        self.dir, self.logs = f"{results}/local_convergence", f"{logs}/local_convergence"
        self.engine = self.code(*ENGINE)
        self.ratios = self.settings["local"]["ratios"]
        #: training job name -> {table: file}; the local job once per ratio
        self.jobs = {f"local_r{q}": self.tables("local", f"local_r{q}") for q in self.ratios}
        self.jobs.update({job: self.tables(job, job) for job in RUN_JOBS if job != "local"})
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
        #: the claims job's inputs: experiment -> run tables
        self.claim_inputs = {"local": list(local("runs").values())}
        self.claim_inputs.update({job: [self.jobs[job]["runs"]] for job in RUN_JOBS if job not in NO_CLAIM})
        self.claim_files = [f"{self.dir}/tables/claims.{ext}" for ext in ("csv", "md", "html")]
        #: the study's target: every figure and the claims table
        self.outputs = [f for name in self.figures for f in self.figure_files(name)] + self.claim_files

    def job_code(self, experiment: str) -> list[str]:
        """The code a training job of ``experiment`` runs (its rule's code input)."""
        extra = [str(CODE.parent / "masked" / n) for n in MASKED] if experiment == "masked_link" else []
        return self.engine + extra

    def tables(self, experiment: str, job: str) -> dict[str, str]:
        return {t: f"{self.dir}/runs/{job}{'' if t == 'runs' else '_' + t}.parquet" for t in TABLES[experiment]}

    def outputs_of(self, job: str) -> list[str]:
        """Every file training job ``job`` writes: its tables and their metadata JSON."""
        files = list(self.jobs[job].values())
        return files + [str(Path(f).with_suffix(".json")) for f in files]

    def out_pairs(self, job: str) -> str:
        return " ".join(f"{t}={f}" for t, f in self.jobs[job].items())

    def settings_json(self, job: str) -> str:
        """The settings job ``job`` reads (:func:`.experiments.job_settings`) as its ``--config``:
        a change elsewhere in the config never reruns it."""
        return json.dumps(job_settings(self.settings, job), sort_keys=True)

    def figure_pairs(self, fig: str) -> str:
        return " ".join(f"{key}={path}" for key, path in self.figures[fig].items())

    def claim_pairs(self) -> str:
        return " ".join(f"{e}={f}" for e, files in self.claim_inputs.items() for f in files)

    @staticmethod
    def code(*names: str) -> list[str]:
        return [str(CODE / n) for n in names]

    def log(self, name: str) -> str:
        return f"{self.logs}/{name}.log"

    def figure_code(self, fig: str) -> list[str]:
        return self.code(f"figures/{fig}.py", "figures/common.py")

    def figure_files(self, name: str) -> list[str]:
        return [f"{self.dir}/figures/{name}.{ext}" for ext in ("pdf", "png")]


__all__ = ["COMMAND", "LocalConvergenceWorkflow"]
