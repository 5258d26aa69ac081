"""What the sublinear study's rules file (workflow/rules/sublinear.smk) needs from its
configuration: every run of a job (its settings, files, code dependencies, memory and time)
and the figure table (figure name -> its inputs).

Kept in the package (not in the rules file) so that the rules file holds only rules."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...core.claims.settings import claim_statistics, with_statistics
from ...core.runs import Runs
from .experiments import cost_labels, job_settings, m_label, validate
from .resources import estimate

#: the command line of every job (``python -m maskedntk.studies.sublinear JOB ...``)
COMMAND = "python -m maskedntk.studies.sublinear"
#: the package's folder (the claims and figure rules depend on their code)
CODE = Path(__file__).parent


def inputs_arg(inputs: Mapping[str, str | list[str]]) -> str:
    """``--inputs`` of a job: 'KEY=PATH KEY=PATH ...' (a key of several files repeated)."""
    pairs = [(k, p) for k, v in inputs.items() for p in ([v] if isinstance(v, str) else v)]
    return " ".join(f"{k}={p}" for k, p in pairs)


class SublinearWorkflow:
    """The study's jobs for one configuration (the whole workflow configuration: the study's
    ``config['sublinear']``, validated, a ``ValueError`` naming the bad key; the global
    ``claims`` and ``max_job_mem_mb``), written under ``{results}/sublinear``.

    A configuration with a job whose memory estimate exceeds the limit is refused here,
    before any job runs (:func:`maskedntk.core.resources.refuse_oversized`)."""

    def __init__(self, config: Mapping, results: str, logs: str):
        self.settings = validate(config.get("sublinear", None))
        statistics = claim_statistics(config)
        self.dir = f"{results}/sublinear"
        self.logs = f"{logs}/sublinear"
        self.command = COMMAND
        #: experiment run name -> (job, the choice of its run)
        self.experiments = {"activity": ("activity", {})}
        self.experiments.update(
            {f"train_{m_label(M)}": ("train", {"M": float(M)}) for M in self.settings["training"]["Ms"]}
        )
        self.experiments.update({f"cost_{lab}": ("cost", {"d": int(lab[1:])}) for lab in cost_labels(self.settings)})
        self.activity = self.job_files("activity")["table"]
        self.train_files = {n: self.job_files(n)["table"] for n, (job, _) in self.experiments.items() if job == "train"}
        self.cost_files = {n: self.job_files(n)["table"] for n, (job, _) in self.experiments.items() if job == "cost"}
        #: THE figure table: figure name -> {input key: input file}
        self.figures = {
            "activity": {"activity": self.activity},
            "persistence": self.train_files,
            "loss": self.train_files,
            "cost": self.cost_files,
        }
        self.claim_inputs = {
            "activity": self.activity,
            "training": list(self.train_files.values()),
            "cost": list(self.cost_files.values()),
        }
        self.claim_files = self.tables("claims", "csv", "md", "html", "json")
        self.cost_table_files = self.tables("cost", "csv", "md", "json")
        #: the study's target: every figure, the claims and the cost table
        self.outputs = [f for name in self.figures for f in self.figure_files(name)]
        self.outputs += self.claim_files + self.cost_table_files
        #: every run (experiments, cost table, claims, figures): its job, settings, memory and time
        runs = {n: (job, job_settings(self.settings, job, **c)) for n, (job, c) in self.experiments.items()}
        runs["cost-table"] = ("cost-table", job_settings(self.settings, "cost-table"))
        runs["claims"] = ("claims", with_statistics(job_settings(self.settings, "claims"), statistics))
        runs.update({f"fig_{f}": ("figure", job_settings(self.settings, "figure", name=f)) for f in self.figures})
        self.runs = Runs("sublinear", runs, estimate, config)

    def code(self, *names: str) -> list[str]:
        """Files of the package (relative to its folder)."""
        return [str(CODE / n) for n in names]

    def job_files(self, name: str) -> dict[str, str]:
        """The outputs of experiment run ``name``: ``table`` (parquet) and ``meta`` (its metadata)."""
        return {key: f"{self.dir}/runs/{name}.{ext}" for key, ext in (("table", "parquet"), ("meta", "json"))}

    def log(self, name: str) -> str:
        return f"{self.logs}/{name}.log"

    def tables(self, name: str, *exts: str) -> list[str]:
        return [f"{self.dir}/tables/{name}.{ext}" for ext in exts]

    def figure_files(self, name: str) -> list[str]:
        return [f"{self.dir}/figures/{name}.{ext}" for ext in ("pdf", "png")]


__all__ = ["COMMAND", "SublinearWorkflow", "inputs_arg"]
