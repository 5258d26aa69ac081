"""The one command line of every study's jobs, and the one metadata file beside their tables.

::

    python -m maskedntk.studies.<study> JOB --config SETTINGS [--inputs KEY=PATH ...]
                                            --out KEY=PATH ... [--log FILE]

* ``JOB``: one of the study's jobs (its table of :class:`Job`).
* ``--config``: the settings the job reads: a JSON string, or a ``.json`` / ``.yaml`` file.
  A file (or string) holding a whole configuration (one top-level key, the study's name) is
  reduced to the job's part by the study's ``prepare`` function; the workflow's rules pass
  only that part, so a change to a setting reruns only the jobs that read it.  Values that
  select one job of several (an experiment, a width, a figure name) are settings too.
* ``--inputs``: the files the job reads, as KEY=PATH pairs; a key given several times holds
  its paths in the order given.
* ``--out``: the files the job writes, as KEY=PATH pairs.  The key ``meta`` is special: after
  the job succeeds, its metadata (:func:`metadata`) is written there.
* ``--log``: the job's log file (default: stderr); a failed job's log ends with its traceback
  (:func:`maskedntk.core.jobs.logged_job`).

A job function takes one :class:`JobArgs` and returns ``None`` or a mapping of extra metadata
(counts, compile time, ...), which goes into the ``meta`` output beside the common fields.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import write_json
from .jobs import logged_job
from .provenance import provenance

#: the environment variables that size the BLAS / OpenMP thread pools
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Job:
    """One job of a study: ``target`` is ``"module:function"`` inside the study's package
    (imported only when the job runs, so a light job never imports torch), ``help`` one line."""

    target: str
    help: str


@dataclass(frozen=True)
class JobArgs:
    """What a job is given: its name, settings, input files (key -> paths, in order), output
    files (key -> path) and log file."""

    job: str
    settings: dict
    inputs: dict[str, list[str]] = field(default_factory=dict)
    out: dict[str, str] = field(default_factory=dict)
    log: str | None = None

    def input(self, key: str) -> str:
        """The one input file of ``key``; an error naming the key if there is none or several."""
        paths = self.inputs.get(key)
        if not paths or len(paths) != 1:
            raise SystemExit(f"job {self.job}: --inputs needs exactly one {key}=PATH (got {paths or 'none'})")
        return paths[0]

    def output(self, key: str) -> str:
        """The output file of ``key``; an error naming the key if it was not given."""
        if key not in self.out:
            raise SystemExit(f"job {self.job}: --out needs {key}=PATH (given: {sorted(self.out) or 'none'})")
        return self.out[key]


def metadata(job: str, settings: Mapping, seconds: float, extra: Mapping | None = None) -> dict:
    """The metadata beside a job's tables: ``{"job", "seconds", "provenance": {"config",
    "versions", "git_commit"}, ...extra}``; the same fields for every job of every study."""
    meta = {"job": job, "seconds": round(float(seconds), 3), "provenance": provenance(dict(settings))}
    reserved = set(meta) & set(extra or {})
    if reserved:
        raise ValueError(f"extra metadata may not redefine {sorted(reserved)}")
    meta.update(extra or {})
    return meta


def write_metadata(path, job: str, settings: Mapping, seconds: float, extra: Mapping | None = None) -> None:
    """Write :func:`metadata` to ``path`` (atomically)."""
    write_json(path, metadata(job, settings, seconds, extra))


def load_settings(text: str, study: str) -> dict:
    """Settings from ``--config``: a JSON string, or a .json / .yaml file.  A mapping whose
    only key is ``study`` (a whole configuration file) is unwrapped."""
    text = text.strip()
    try:
        if text.startswith("{"):
            data = json.loads(text)
        else:
            path = Path(text)
            if not path.is_file():
                raise SystemExit(f"--config: {text!r} is neither a JSON object nor a file")
            if path.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(path.read_text())
            else:
                data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SystemExit(f"--config: not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise SystemExit(f"--config: expected a mapping of settings, got {type(data).__name__}")
    if set(data) == {study} and isinstance(data[study], dict):
        data = data[study]
    return data


def _pairs(option: str, items: list[str]) -> dict[str, list[str]]:
    bad = [kv for kv in items if "=" not in kv or not kv.split("=", 1)[0]]
    if bad:
        raise SystemExit(f"{option}: expected KEY=PATH pairs, got {bad}")
    pairs: dict[str, list[str]] = {}
    for kv in items:
        key, path = kv.split("=", 1)
        pairs.setdefault(key, []).append(path)
    return pairs


def parser(study: str, jobs: Mapping[str, Job], description: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``python -m maskedntk.studies.<study>``."""
    p = argparse.ArgumentParser(
        prog=f"python -m maskedntk.studies.{study}",
        description=description or __doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("job", choices=sorted(jobs), help="; ".join(f"{k}: {j.help}" for k, j in sorted(jobs.items())))
    p.add_argument("--config", required=True, help="the job's settings: a JSON string or a .json/.yaml file")
    p.add_argument("--inputs", nargs="*", default=[], metavar="KEY=PATH", help="input files (a key may repeat)")
    p.add_argument("--out", nargs="+", required=True, metavar="KEY=PATH", help="output files (meta=PATH: metadata)")
    p.add_argument("--log", default=None, help="log file (default: stderr)")
    return p


def main(
    study: str,
    package: str,
    jobs: Mapping[str, Job],
    argv: list[str] | None = None,
    prepare: Callable[[dict, str], dict] | None = None,
    description: str | None = None,
) -> int:
    """Run one job from the command line ``argv``: parse, load the settings (``prepare(settings,
    job)`` reduces a whole configuration to the job's part), size the BLAS thread pools from the
    setting ``threads`` (default 1) unless the caller set them, then call the job inside
    :func:`~maskedntk.core.jobs.logged_job` and write its metadata to ``--out meta=PATH``."""
    a = parser(study, jobs, description).parse_args(argv)
    settings = load_settings(a.config, study)
    if prepare is not None:
        settings = prepare(settings, a.job)
    out = {k: v[-1] for k, v in _pairs("--out", a.out).items()}
    args = JobArgs(a.job, settings, _pairs("--inputs", a.inputs), out, a.log)
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, str(settings.get("threads", 1)))
    module, _, function = jobs[a.job].target.partition(":")
    with logged_job(a.log, f"{study} {a.job}"):
        t0 = time.perf_counter()
        run = getattr(importlib.import_module(f"{package}.{module}"), function)
        extra = run(args)
        if "meta" in out:
            write_metadata(out["meta"], a.job, settings, time.perf_counter() - t0, extra)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run a study's jobs with python -m maskedntk.studies.<study>")
