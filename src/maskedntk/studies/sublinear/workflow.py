"""What the sublinear study's rules file (workflow/rules/sublinear.smk) needs from its
configuration: the jobs, their files, code dependencies and settings, and the figure table
(figure name -> its inputs).

Kept in the package (not in the rules file) so that the rules file holds only rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .experiments import cost_labels, job_settings, m_label, validate

#: the command line of every job (``python -m maskedntk.studies.sublinear JOB ...``)
COMMAND = "python -m maskedntk.studies.sublinear"
#: the package's folder (the claims and figure rules depend on their code)
CODE = Path(__file__).parent


def inputs_arg(inputs: Mapping[str, str]) -> str:
    """``--inputs`` of the figure jobs: 'KEY=PATH KEY=PATH ...'."""
    return " ".join(f"{k}={v}" for k, v in inputs.items())


class SublinearWorkflow:
    """The study's jobs for one configuration (``config['sublinear']``, validated: a
    ``ValueError`` names the bad key), written under ``{results}/sublinear``."""

    def __init__(self, config: Mapping, results: str, logs: str):
        self.settings = validate(config.get("sublinear", None))
        self.dir = f"{results}/sublinear"
        self.logs = f"{logs}/sublinear"
        self.command = COMMAND
        #: training label -> target norm M; cost label -> d
        self.train_M = {m_label(M): float(M) for M in self.settings["training"]["Ms"]}
        self.cost_d = {lab: int(lab[1:]) for lab in cost_labels(self.settings)}
        self.activity = self.job_files("activity")["table"]
        self.train_files = {f"train_{lab}": self.job_files(f"train_{lab}")["table"] for lab in self.train_M}
        self.cost_files = {f"cost_{lab}": self.job_files(f"cost_{lab}")["table"] for lab in self.cost_d}
        #: THE figure table: figure name -> {input key: input file}
        self.figures = {
            "activity": {"activity": self.activity},
            "persistence": self.train_files,
            "loss": self.train_files,
            "cost": self.cost_files,
        }
        self.claim_files = self.tables("claims", "csv", "md", "html")
        self.cost_table_files = self.tables("cost", "csv", "md")
        #: the study's target: every figure, the claims and the cost table
        self.outputs = [f for name in self.figures for f in self.figure_files(name)]
        self.outputs += self.claim_files + self.cost_table_files

    def settings_json(self, job: str) -> str:
        """The settings job ``job`` reads (see :func:`.experiments.job_settings`) as its
        ``--config``: a change elsewhere in the config never reruns it."""
        return json.dumps(job_settings(self.settings, job), sort_keys=True)

    def M(self, wildcards) -> float:
        return self.train_M[wildcards.sub_train]

    def d(self, wildcards) -> int:
        return self.cost_d[wildcards.sub_cost]

    def code(self, *names: str) -> list[str]:
        """Files of the package (relative to its folder)."""
        return [str(CODE / n) for n in names]

    def job_files(self, name: str) -> dict[str, str]:
        """The outputs of job ``name``: ``table`` (parquet) and ``meta`` (its JSON sidecar)."""
        return {key: f"{self.dir}/runs/{name}.{ext}" for key, ext in (("table", "parquet"), ("meta", "json"))}

    def log(self, name: str) -> str:
        return f"{self.logs}/{name}.log"

    def tables(self, name: str, *exts: str) -> list[str]:
        return [f"{self.dir}/tables/{name}.{ext}" for ext in exts]

    def figure_files(self, name: str) -> list[str]:
        return [f"{self.dir}/figures/{name}.{ext}" for ext in ("pdf", "png")]


__all__ = ["COMMAND", "SublinearWorkflow", "inputs_arg"]
