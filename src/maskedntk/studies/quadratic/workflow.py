"""What the quadratic study's rules file (workflow/rules/quadratic.smk) needs from its
configuration: every run of a job (its settings, output files, code dependencies, memory and
time), the figure table (figure name -> its inputs) and the claims' inputs.

Kept in the package (not in the rules file) so that the rules file holds only rules."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...core.claims.settings import claim_statistics, with_statistics
from ...core.runs import Runs
from .experiments import RATE_REGIMES, REGIMES, job_settings, validate
from .resources import estimate

#: the command line of every job (``python -m maskedntk.studies.quadratic JOB ...``)
COMMAND = "python -m maskedntk.studies.quadratic"
#: the package's folder (the rules depend on their code)
CODE = Path(__file__).parent
#: the modules every simulation job runs
ENGINE = ("problems.py", "engine.py", "jobs.py", "experiments.py")
#: simulation job -> the modules it needs besides ENGINE
JOB_CODE = {
    "spectrum": ("theory.py",),
    "limit": ("theory.py", "gaussian_limit.py"),
    "flow": ("gaussian_limit.py",),  # the flow jobs also record the spectral late slope
    "rates": (),
    "phase": ("theory.py",),
    "empirical": ("empirical.py",),
    "masked": ("masked.py",),
}
#: the modules shared by the figures
FIGURE_SHARED = ("common.py", "_flowpanels.py")
#: figure -> the flow setup whose three regimes it draws (beside the limit)
FLOW_FIGURES = {"fig2_phi": "orthonormal", "fig3_overlap": "orthonormal", "fig4_gaussian": "gaussian"}


def inputs_arg(inputs: Mapping[str, str]) -> str:
    """``--inputs`` of the claims and figure jobs: 'KEY=PATH KEY=PATH ...'."""
    return " ".join(f"{k}={v}" for k, v in inputs.items())


class QuadraticWorkflow:
    """The study's jobs for one configuration (the whole workflow configuration: the study's
    ``config['quadratic']``, validated, a ``ValueError`` naming the bad key; the global
    ``claims`` and ``max_job_mem_mb``), written under ``{results}/quadratic``.

    A configuration with a job whose memory estimate exceeds the limit is refused here,
    before any job runs (:func:`maskedntk.core.resources.refuse_oversized`)."""

    def __init__(self, config: Mapping, results: str, logs: str):
        self.settings = validate(config.get("quadratic"))
        statistics = claim_statistics(config)
        self.dir = f"{results}/quadratic"
        self.logs = f"{logs}/quadratic"
        self.command = COMMAND
        setups = self.settings["flow"]["setups"]
        #: simulation run name -> (job, the choice of its run)
        self.simulations = {name: (name, {}) for name in ("spectrum", "limit", "phase", "empirical", "masked")}
        for s in setups:
            self.simulations.update({f"flow_{s}_{r}": ("flow", {"setup": s, "regime": r}) for r in REGIMES})
        self.simulations.update({f"rates_{r}": ("rates", {"regime": r}) for r in RATE_REGIMES})
        #: flow input name '<setup>_<regime>' -> file
        self.flow = {f"{s}_{r}": self.run(f"flow_{s}_{r}") for s in setups for r in REGIMES}
        #: rates input name 'rates_<regime>' -> file
        self.rates = {f"rates_{r}": self.run(f"rates_{r}") for r in RATE_REGIMES}
        #: THE figure table: figure name -> its inputs (name -> file), the figures this
        #: configuration can draw (Figs. 2-4 need their flow setup)
        limit = {"limit": self.run("limit")}
        self.figures = {"fig1_spectrum": {"spectrum": self.run("spectrum")}}
        for fig, setup in FLOW_FIGURES.items():
            if setup in setups:
                self.figures[fig] = {**limit, **{k: v for k, v in self.flow.items() if k.startswith(setup)}}
        self.figures.update(
            fig5_rates=self.rates,
            fig6_gap=limit,
            fig7_empirical={"empirical": self.run("empirical")},
            fig8_masked={"masked": self.run("masked")},
        )
        #: the claims job's inputs
        self.claim_inputs = {
            **limit,
            "phase": self.run("phase"),
            **self.flow,
            **self.rates,
            "empirical": self.run("empirical"),
            "masked": self.run("masked"),
        }
        self.claim_files = [f"{self.dir}/tables/claims.{ext}" for ext in ("csv", "md", "html", "json")]
        #: the study's target: every figure and the claims table
        self.outputs = [f for name in self.figures for f in self.figure_files(name)] + self.claim_files
        #: every run (simulations, claims, figures): its job, settings, memory and time
        runs = {name: (job, job_settings(self.settings, job, **c)) for name, (job, c) in self.simulations.items()}
        runs["claims"] = ("claims", with_statistics(job_settings(self.settings, "claims"), statistics))
        runs.update({fig: ("figure", job_settings(self.settings, "figure", name=fig)) for fig in self.figures})
        self.runs = Runs("quadratic", runs, estimate, config)

    def code(self, *names: str) -> list[str]:
        """Files of the package (relative to its folder)."""
        return [str(CODE / n) for n in names]

    def simulation_code(self, name: str) -> list[str]:
        """The modules simulation run ``name`` runs."""
        return self.code(*ENGINE, *JOB_CODE[self.runs.job(name)])

    def run(self, name: str) -> str:
        """The table of simulation run ``name`` (its metadata: :meth:`meta`)."""
        return f"{self.dir}/runs/{name}.parquet"

    def meta(self, name: str) -> str:
        return f"{self.dir}/runs/{name}.json"

    def log(self, name: str) -> str:
        return f"{self.logs}/{name}.log"

    def figure_code(self, fig: str) -> list[str]:
        return self.code(*(f"figures/{f}" for f in (f"{fig}.py", *FIGURE_SHARED)), "gaussian_limit.py")

    def figure_files(self, name: str) -> list[str]:
        return [f"{self.dir}/figures/{name}.pdf", f"{self.dir}/figures/{name}.png"]


__all__ = ["COMMAND", "QuadraticWorkflow", "inputs_arg"]
