"""What the local-convergence study's rules file (workflow/rules/local_convergence.smk) needs
from its configuration: the jobs, their files, code dependencies and settings, and the figure
table (figure name -> its inputs).

Kept in the package (not in the rules file) so that the rules file holds only rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .experiments import job_settings, validate

#: the command line of every job (``python -m maskedntk.studies.local_convergence JOB ...``)
COMMAND = "python -m maskedntk.studies.local_convergence"
#: the package's folder (the rules depend on their code)
CODE = Path(__file__).parent
#: the modules every training job runs
ENGINE = ("engine.py", "theory.py", "problem.py", "runs.py", "metrics.py")


class LocalConvergenceWorkflow:
    """The jobs of ``config['local_convergence']`` (validated on construction: a ``ValueError``
    names the bad key); results under ``{results}/local_convergence``, logs under
    ``{logs}/local_convergence``."""

    command = COMMAND

    def __init__(self, config: Mapping, results: str, logs: str):
        self.settings = validate(config.get("local_convergence", None))
        self.dir, self.logs = f"{results}/local_convergence", f"{logs}/local_convergence"
        self.engine = self.code(*ENGINE)
        ratios = self.settings["ratios"]
        #: run tables, by figure-input key
        self.curves = {f"curves_r{r}_runs": self.run(f"curves_r{r}") for r in ratios}
        self.traj = {f"curves_r{r}_traj": self.run(f"curves_r{r}_traj") for r in ratios}
        self.neurons = {f"curves_r{r}_neurons": self.run(f"curves_r{r}_neurons") for r in ratios}
        self.threshold = {f"threshold_r{r}": self.run(f"threshold_r{r}") for r in ratios}
        self.link = self.run("link")
        #: THE figure table: figure name -> {input key: input file}
        self.figures = {
            "loss_curves": self.traj,
            "alignment": {**self.traj, **self.neurons},
            "rate_vs_m": self.curves,
            "mstar_contrast": self.traj,
            "threshold": self.threshold,
            "link": {"link": self.link},
        }
        self.claim_files = [f"{self.dir}/tables/claims.{ext}" for ext in ("csv", "md", "html")]
        #: the study's target: every figure and the claims table
        self.outputs = [f for name in self.figures for f in self.figure_files(name)] + self.claim_files

    def settings_json(self, job: str) -> str:
        """The settings job ``job`` reads (see :func:`.experiments.job_settings`) as its
        ``--config``: a change elsewhere in the config never reruns it."""
        return json.dumps(job_settings(self.settings, job), sort_keys=True)

    def figure_pairs(self, fig: str) -> str:
        """``--input`` of figure ``fig``'s job: 'KEY=PATH KEY=PATH ...'."""
        return " ".join(f"{key}={path}" for key, path in self.figures[fig].items())

    @staticmethod
    def code(*names: str) -> list[str]:
        """Files of the package (relative to its folder)."""
        return [str(CODE / n) for n in names]

    def run(self, name: str, ext: str = "parquet") -> str:
        """The run table of job ``name`` (``ext='json'``: its provenance side file)."""
        return f"{self.dir}/runs/{name}.{ext}"

    def log(self, name: str) -> str:
        return f"{self.logs}/{name}.log"

    def figure_code(self, fig: str) -> list[str]:
        return self.code(f"figures/{fig}.py", "figures/common.py")

    def figure_files(self, name: str) -> list[str]:
        return [f"{self.dir}/figures/{name}.{ext}" for ext in ("pdf", "png")]


__all__ = ["COMMAND", "LocalConvergenceWorkflow"]
