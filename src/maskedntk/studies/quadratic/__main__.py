"""Command line of the study's jobs: ``python -m maskedntk.studies.quadratic JOB --settings JSON
--out PATH [--setup S] [--regime R]`` (JOB: spectrum, limit, flow, rates, phase, empirical,
masked, claims, figure).  ``--settings`` is the JSON of ``config['quadratic']``."""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m maskedntk.studies.quadratic", description=__doc__)
    ap.add_argument(
        "job", choices=("spectrum", "limit", "flow", "rates", "phase", "empirical", "masked", "claims", "figure")
    )
    ap.add_argument("--settings", required=True, help="JSON of config['quadratic']")
    ap.add_argument("--out", nargs="+", required=True, help="output file(s)")
    ap.add_argument("--setup")
    ap.add_argument("--regime")
    ap.add_argument("--name", help="figure name (job 'figure')")
    ap.add_argument("--inputs", nargs="*", default=[], help="KEY=PATH inputs (jobs 'claims', 'figure')")
    args = ap.parse_args(argv)
    cfg = json.loads(args.settings)
    # BLAS threads follow the `threads` setting (as Snakemake does for its jobs) unless set by the
    # caller; must happen before numpy is imported: oversubscribed BLAS is 10-20x slower here
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(cfg.get("threads", 1)))
    inputs = dict(kv.split("=", 1) for kv in args.inputs)
    if args.job not in ("claims", "figure"):
        from . import jobs  # imports torch; the claims and figure jobs do not need it

    if args.job == "flow":
        jobs.job_flow(cfg, args.out[0], args.setup, args.regime)
    elif args.job == "rates":
        jobs.job_rates(cfg, args.out[0], args.regime)
    elif args.job == "claims":
        from .claims import job_claims

        job_claims(cfg, inputs, *args.out)
    elif args.job == "figure":
        from .figures import render_figure

        render_figure(args.name, inputs, args.out[0], args.out[1], cfg)
    else:
        getattr(jobs, f"job_{args.job}")(cfg, args.out[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
