"""Command line of the local-convergence study: ``python -m maskedntk.studies.local_convergence JOB ...``.

Jobs: ``population`` (one experiment cell), ``link``, ``claims``, ``figure``.  ``--config``
takes the study's settings as a JSON string: the whole
config["local_convergence"] (validated here) or, as the workflow passes it, only the part the job
reads (experiments.job_settings).
"""

from __future__ import annotations

import argparse
import json
import sys

from maskedntk.core.jobs import logged_job

from . import jobs


def _config(arg: str) -> dict:
    try:
        return json.loads(arg)
    except json.JSONDecodeError as err:
        raise SystemExit(f"--config: not valid JSON ({err})") from err


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m maskedntk.studies.local_convergence", description=__doc__)
    sub = p.add_subparsers(dest="job", required=True)

    q = sub.add_parser("population", help="train one (experiment, m/m*) cell on the population loss")
    q.add_argument("--config", required=True)
    q.add_argument("--experiment", required=True, choices=["curves", "threshold"])
    q.add_argument("--ratio", required=True, type=int)
    q.add_argument("--out", required=True)
    q.add_argument("--traj")
    q.add_argument("--neurons")
    q.add_argument("--meta", required=True)

    q = sub.add_parser("link", help="the same teacher data: local GD vs the core's masked algorithm")
    q.add_argument("--config", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--meta", required=True)

    q = sub.add_parser("claims", help="the claims table")
    q.add_argument("--config", required=True)
    q.add_argument("--curves", nargs="+", required=True)
    q.add_argument("--threshold", nargs="+", required=True)
    q.add_argument("--link", required=True)
    q.add_argument("--csv", required=True)
    q.add_argument("--md", required=True)
    q.add_argument("--html", required=True)

    q = sub.add_parser("figure", help="render one figure")
    q.add_argument("--config", required=True)
    q.add_argument("--name", required=True)
    q.add_argument("--input", nargs="+", required=True, help="KEY=FILE pairs")
    q.add_argument("--pdf", required=True)
    q.add_argument("--png", required=True)

    a = p.parse_args(argv)
    cfg = _config(a.config)
    with logged_job(None, f"local_convergence.{a.job}"):
        if a.job == "population":
            jobs.population(cfg, a.experiment, a.ratio, a.out, a.traj, a.neurons, a.meta)
        elif a.job == "link":
            jobs.link(cfg, a.out, a.meta)
        elif a.job == "claims":
            jobs.claims(cfg, a.curves, a.threshold, a.link, a.csv, a.md, a.html)
        else:
            inputs = dict(kv.split("=", 1) for kv in a.input)
            jobs.figure(a.name, cfg, inputs, a.pdf, a.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
