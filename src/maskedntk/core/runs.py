"""A study's runs as its workflow sees them, and a job's settings as its command line reads them.

A *run* is one execution of one of a study's jobs (:mod:`maskedntk.core.jobcli`): its job, its
settings (the part of the configuration the job reads, plus the choice of the run: a regime, a
width, a figure name) and its memory and time estimate.  :class:`Runs` holds every run of a
configuration, gives the rules file each run's ``--config`` JSON, ``mem_mb`` and ``runtime``,
and refuses the configuration before any job when a run cannot fit
(:func:`maskedntk.core.resources.refuse_oversized`).  :func:`prepare_settings` is the other
end: the settings a job receives on its command line, checked once where they enter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .claims.settings import split_statistics, with_statistics
from .resources import job_memory_limit_mb, refuse_oversized, runtime_minutes


@dataclass(frozen=True)
class Estimate:
    """A job's memory (MB) and time (seconds of one core)."""

    mem_mb: int
    seconds: float


class Runs:
    """Every run of a study's configuration: ``runs`` maps a run's name to (job, settings);
    ``estimate(job, settings)`` gives its :class:`Estimate`.  ``config`` (the whole workflow
    configuration) gives the memory one job may use (``max_job_mem_mb``); a run above it raises
    :class:`~maskedntk.core.schema.ConfigError` naming the run, its estimate and the limit."""

    def __init__(
        self,
        study: str,
        runs: Mapping[str, tuple[str, dict]],
        estimate: Callable[[str, Mapping], Estimate],
        config: Mapping,
    ):
        self.runs = dict(runs)
        self.estimates = {name: estimate(job, settings) for name, (job, settings) in self.runs.items()}
        refuse_oversized({n: e.mem_mb for n, e in self.estimates.items()}, job_memory_limit_mb(config), study=study)

    def __iter__(self):
        return iter(self.runs)

    def job(self, name: str) -> str:
        """The job of run ``name``."""
        return self.runs[name][0]

    def settings(self, name: str) -> dict:
        """The settings of run ``name``."""
        return self.runs[name][1]

    def config_json(self, name: str) -> str:
        """``--config`` of run ``name``: the JSON of its settings (a change in them, and only in
        them, reruns it)."""
        return json.dumps(self.runs[name][1], sort_keys=True)

    def mem_mb(self, name: str) -> int:
        """The memory (MB) run ``name`` declares."""
        return self.estimates[name].mem_mb

    def runtime(self, name: str) -> int:
        """The runtime (minutes) run ``name`` declares."""
        return runtime_minutes(self.estimates[name].seconds)


def prepare_settings(
    settings: Mapping,
    job: str,
    choices: Sequence[str],
    is_whole: Callable[[Mapping], bool],
    reduce: Callable[[Mapping, str, dict], dict],
    check: Callable[[Mapping, str, dict], dict],
) -> dict:
    """A job's settings from its command line (a study's ``prepare`` for
    :func:`maskedntk.core.jobcli.main`): the keys ``choices`` (the choice of one run) and, for the
    claims job, the global claim statistics (:mod:`maskedntk.core.claims.settings`) are split
    off; a whole study configuration (``is_whole``) goes to ``reduce(settings, job, choice)``
    (validate, then keep the job's part), a job's part to ``check(settings, job, choice)``;
    the statistics are put back."""
    rest = dict(settings)
    choice = {k: rest.pop(k) for k in choices if k in rest}
    statistics = None
    if job == "claims":
        statistics, rest = split_statistics(rest)
    out = reduce(rest, job, choice) if is_whole(rest) else check(rest, job, choice)
    return out if statistics is None else with_statistics(out, statistics)
