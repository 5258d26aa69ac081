"""Command line of the local-convergence study: ``python -m maskedntk.studies.local_convergence JOB ...``.

Jobs: ``train`` (one experiment, or one ratio of ``local``), ``claims``, ``figure``.
``--config`` takes the study's settings as a JSON string: the whole config["local_convergence"]
(validated here) or, as the workflow passes it, only the part the job reads
(experiments.job_settings).  ``--log`` is the rule's log file (core.jobs.logged_job).
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


def _pairs(items) -> dict[str, str]:
    bad = [kv for kv in items if "=" not in kv]
    if bad:
        raise SystemExit(f"expected KEY=FILE pairs, got {bad}")
    return dict(kv.split("=", 1) for kv in items)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m maskedntk.studies.local_convergence", description=__doc__)
    sub = p.add_subparsers(dest="job", required=True)

    q = sub.add_parser("train", help="run one experiment (one ratio of 'local')")
    q.add_argument("--experiment", required=True, choices=sorted(jobs.RUNNERS))
    q.add_argument("--ratio", type=int)
    q.add_argument("--out", nargs="+", required=True, help="TABLE=FILE pairs")

    q = sub.add_parser("claims", help="the claims table")
    q.add_argument("--input", nargs="+", required=True, help="EXPERIMENT=FILE pairs (repeat a key for several files)")
    q.add_argument("--csv", required=True)
    q.add_argument("--md", required=True)
    q.add_argument("--html", required=True)

    q = sub.add_parser("figure", help="render one figure")
    q.add_argument("--name", required=True)
    q.add_argument("--input", nargs="+", required=True, help="KEY=FILE pairs")
    q.add_argument("--pdf", required=True)
    q.add_argument("--png", required=True)

    for q in sub.choices.values():
        q.add_argument("--config", required=True)
        q.add_argument("--log")

    a = p.parse_args(argv)
    cfg = _config(a.config)
    with logged_job(a.log, f"local_convergence.{a.job}"):
        if a.job == "train":
            jobs.train(cfg, a.experiment, _pairs(a.out), a.ratio)
        elif a.job == "claims":
            inputs: dict[str, list[str]] = {}
            for kv in a.input:
                key, _, path = kv.partition("=")
                inputs.setdefault(key, []).append(path)
            jobs.claims(cfg, inputs, a.csv, a.md, a.html)
        else:
            jobs.figure(a.name, cfg, _pairs(a.input), a.pdf, a.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
