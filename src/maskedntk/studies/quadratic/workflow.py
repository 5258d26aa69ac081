"""What the quadratic study's rules file (workflow/rules/quadratic.smk) needs from its
configuration: the jobs, their output files, code dependencies and command-line arguments, and
the figure table (figure name -> its inputs).

Kept in the package (not in the rules file) so that the rules file holds only rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .experiments import REGIMES, select, validate

#: the command line of every job (``python -m maskedntk.studies.quadratic JOB ...``)
COMMAND = "python -m maskedntk.studies.quadratic"
#: the package's folder (the rules depend on their code)
CODE = Path(__file__).parent
#: the modules every simulation job runs
ENGINE = ("problems.py", "engine.py", "jobs.py", "experiments.py")
#: job run once per configuration -> the modules it needs besides ENGINE
SINGLE = {
    "spectrum": ("theory.py",),
    "limit": ("theory.py", "gaussian_limit.py"),
    "phase": (),
    "empirical": ("empirical.py",),
    "masked": ("masked.py",),
}
#: rough runtime (minutes) of each job at paper scale, for the SLURM profile
RUNTIME = {"spectrum": 5, "limit": 10, "phase": 20, "empirical": 60, "masked": 30}
#: the regimes of the rates job (Fig. 5)
RATE_REGIMES = ("over", "equal")
#: job or figure -> the settings it reads (a top-level key or 'section.key'); each job receives
#: only these, so an edit elsewhere in the configuration does not rerun it
_RUN = ("base_seed", "seeds", "threads")
_FLOW_FIGURE = ("seeds", "regimes", "flow.dims", "flow.eta", "flow.gamma_max", "limit.gamma_min")
READS = {
    "spectrum": ("base_seed", "threads", "spectrum"),
    "limit": ("threads", "regimes", "limit", "gap", "flow.gamma_max"),
    "flow": (*_RUN, "regimes", "flow.dims", "flow.eta", "flow.gamma_max"),
    "rates": (*_RUN, "rates"),
    "phase": (*_RUN, "phase"),
    "empirical": (*_RUN, "empirical"),
    "masked": (*_RUN, "masked"),
    "claims": (
        "claims",
        "limit.gamma_min",
        "rates.fit_over",
        "rates.fit_equal_loss",
        "masked.xi",
        "masked.taus",
        "masked.xi_sweep_tau",
    ),
    "fig1_spectrum": ("spectrum",),
    "fig2_phi": _FLOW_FIGURE,
    "fig3_overlap": _FLOW_FIGURE,
    "fig4_gaussian": _FLOW_FIGURE,
    "fig5_rates": ("seeds", "rates"),
    "fig6_gap": ("regimes", "gap"),
    "fig7_empirical": ("seeds", "empirical"),
    "fig8_masked": ("seeds", "masked"),
}
#: the modules shared by the figures
FIGURE_SHARED = ("common.py", "_flowpanels.py")
#: figure -> the flow setup whose three regimes it draws (beside the limit)
FLOW_FIGURES = {"fig2_phi": "orthonormal", "fig3_overlap": "orthonormal", "fig4_gaussian": "gaussian"}


def inputs_arg(inputs: Mapping[str, str]) -> str:
    """``--inputs`` of the claims and figure jobs: 'KEY=PATH KEY=PATH ...'."""
    return " ".join(f"{k}={v}" for k, v in inputs.items())


class QuadraticWorkflow:
    """The study's jobs for one configuration (``config['quadratic']``, validated: a
    ``ValueError`` names the bad key), written under ``{results}/quadratic``."""

    def __init__(self, config: Mapping, results: str, logs: str):
        self.settings = validate(config.get("quadratic"))
        self.dir = f"{results}/quadratic"
        self.logs = f"{logs}/quadratic"
        self.command = COMMAND
        self.engine = self.code(*ENGINE)
        #: the flow jobs also record the spectral late slope of each teacher
        self.flow_code = self.engine + self.code("gaussian_limit.py")
        #: flow input name '<setup>_<regime>' -> file
        self.flow = {f"{s}_{r}": self.run(f"flow_{s}_{r}") for s in self.settings["flow"]["setups"] for r in REGIMES}
        #: rates input name 'rates_<regime>' -> file
        self.rates = {f"rates_{r}": self.run(f"rates_{r}") for r in RATE_REGIMES}
        #: THE figure table: figure name -> its inputs (name -> file), the figures this
        #: configuration can draw (Figs. 2-4 need their flow setup)
        limit = {"limit": self.run("limit")}
        self.figures = {"fig1_spectrum": {"spectrum": self.run("spectrum")}}
        for fig, setup in FLOW_FIGURES.items():
            if setup in self.settings["flow"]["setups"]:
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
        self.claim_files = [f"{self.dir}/tables/claims.{ext}" for ext in ("csv", "md", "html")]
        #: the study's target: every figure and the claims table
        self.outputs = [f for name in self.figures for f in self.figure_files(name)] + self.claim_files

    def settings_json(self, job: str) -> str:
        """``--settings`` of ``job`` (a key of READS): the JSON of the settings it reads (a change
        in them, and only in them, reruns it)."""
        return json.dumps(select(self.settings, READS[job]), sort_keys=True)

    def code(self, *names: str) -> list[str]:
        """Files of the package (relative to its folder)."""
        return [str(CODE / n) for n in names]

    def run(self, name: str) -> str:
        """The table of job ``name`` (its JSON sidecar: :meth:`meta`)."""
        return f"{self.dir}/runs/{name}.parquet"

    def meta(self, name: str) -> str:
        return f"{self.dir}/runs/{name}.json"

    def log(self, name: str) -> str:
        return f"{self.logs}/{name}.log"

    def single_code(self, job: str) -> list[str]:
        return self.engine + self.code(*SINGLE[job])

    def figure_code(self, fig: str) -> list[str]:
        return self.code(*(f"figures/{f}" for f in (f"{fig}.py", *FIGURE_SHARED)), "gaussian_limit.py")

    def figure_files(self, name: str) -> list[str]:
        return [f"{self.dir}/figures/{name}.pdf", f"{self.dir}/figures/{name}.png"]


__all__ = ["COMMAND", "READS", "RUNTIME", "SINGLE", "QuadraticWorkflow", "inputs_arg"]
