"""``python -m maskedntk.studies.sublinear JOB ...``: the jobs of the study's Snakemake rules.

Every job takes ``--config`` (a JSON or YAML file holding the study config, the config as a
JSON string, or, as the workflow's rules pass it, the job's own settings as a JSON string: see
:data:`.experiments.JOB_SETTINGS`) and ``--log`` (its log file; a failing job's log ends with
its traceback)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from maskedntk.core.jobs import logged_job

from . import experiments


def _config(arg: str, job: str) -> dict:
    """The settings of ``job``: from a whole study config (a file, or a JSON string; validated)
    its part :func:`.experiments.job_settings`, else the JSON string itself, taken to be the
    job's settings (as the workflow's rules pass them, after validating the whole config)."""
    text = arg.strip()
    if text.startswith("{"):
        data = json.loads(text)
    else:
        path = Path(arg)
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(path.read_text())
        else:
            data = json.loads(path.read_text())
    data = data.get("sublinear", data)
    if experiments.is_full(data):
        return experiments.job_settings(experiments.validate(data), job)
    return data


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m maskedntk.studies.sublinear", description=__doc__)
    sub = p.add_subparsers(dest="job", required=True)

    def add(name, help_, *files, **lists):
        """Subcommand ``name`` with --config, --log, a required --FILE for each of ``files`` and
        a required --KEY (one or more values) for each of ``lists`` (KEY=help)."""
        q = sub.add_parser(name, help=help_)
        q.add_argument("--config", required=True, help="study config: a .json/.yaml file or a JSON string")
        q.add_argument("--log", default=None, help="log file (default: stderr)")
        for f in files:
            q.add_argument(f"--{f}", required=True)
        for k, h in lists.items():
            q.add_argument(f"--{k}", nargs="+", required=True, help=h)
        return q

    add("activity", "active count at initialisation against m", "out", "meta")
    add("train", "online SGD for one target norm M", "out", "meta").add_argument("--M", type=float, required=True)
    add("cost", "per-step cost of every identifier for one d", "out", "meta").add_argument(
        "--d", type=int, required=True
    )
    add("cost-table", "summary table of the cost runs", "csv", "md", inputs="the cost tables")
    add("claims", "the claims table", "activity", "csv", "md", "html", training="tables", cost="tables")
    add("figure", "render one figure", "name", "pdf", "png", inputs="KEY=PATH pairs")

    a = p.parse_args(argv)
    cfg = _config(a.config, f"figure-{a.name}" if a.job == "figure" else a.job)
    with logged_job(a.log, f"sublinear {a.job}"):
        from . import jobs

        if a.job == "activity":
            jobs.activity(cfg, a.out, a.meta)
        elif a.job == "train":
            jobs.train(cfg, a.M, a.out, a.meta)
        elif a.job == "cost":
            jobs.cost(cfg, a.d, a.out, a.meta)
        elif a.job == "cost-table":
            jobs.cost_table(cfg, a.inputs, a.csv, a.md)
        elif a.job == "claims":
            from . import claims

            claims.run(cfg, a.activity, a.training, a.cost, a.csv, a.md, a.html)
        elif a.job == "figure":
            from . import figures

            inputs = dict(kv.split("=", 1) for kv in a.inputs)
            figures.render(a.name, inputs, a.pdf, a.png, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
