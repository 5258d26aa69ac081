"""Calibrate the masked study's time estimates (maskedntk.studies.masked.resources) on a run's logs.

Reads every job log of a finished run of the masked study (the seconds between "job ... started"
and "job ... finished"; for a training job, the rounds each seed ran) and the configuration it
ran, and prints for each kind of job the seconds per unit of its work formula (the median and the
largest over the run's jobs) and the smallest constant with which every job of the run finishes
within the runtime its rule declares (RUNTIME_SAFETY times the estimate, which assumes every
seed runs ``max_rounds``).  The constants of resources.py are the medians, checked to lie above
that smallest constant.

    python benchmarks/calibrate_masked_resources.py --logs logs/masked \\
        --configs config/config.yaml config/masked.yaml

(``--logs`` is the study's log folder: <logs_dir>/masked; a configuration written before the
study's settings moved under the key ``masked`` is read as well.)
"""

from __future__ import annotations

import argparse
import re
import statistics
from datetime import datetime
from pathlib import Path

import yaml

from maskedntk.core.resources import RUNTIME_SAFETY
from maskedntk.studies.masked import resources
from maskedntk.studies.masked.experiments import expand_config
from maskedntk.studies.masked.figures import FIGURES
from maskedntk.studies.masked.predicted_map import _merge

STAMP = re.compile(r"^(\d\d:\d\d:\d\d) INFO job (?:masked )?(\w+) (started|finished)", re.M)
ROUNDS = re.compile(r"^\S+ INFO (\S+): eta = .* rounds run \[([0-9, ]+)\]", re.M)


def seconds(text: str) -> float | None:
    """Wall seconds between the job's start and finish lines (None for a failed job)."""
    marks = {kind: datetime.strptime(t, "%H:%M:%S") for t, _, kind in STAMP.findall(text)}
    if {"started", "finished"} - set(marks):
        return None
    return (marks["finished"] - marks["started"]).total_seconds() % 86400


def jobs(logs: Path, cells: dict) -> dict[str, list[tuple[float, float, float]]]:
    """{job kind: [(seconds, units of the work it did, units its estimate assumes)]}: a training
    job's estimate assumes every seed runs ``max_rounds``, its work counts the rounds run."""
    out: dict[str, list[tuple[float, float, float]]] = {"train": [], "predict": [], "tables": []}
    for path in sorted((logs / "train").rglob("*.log")):
        text = path.read_text()
        s = seconds(text)
        experiment = path.relative_to(logs / "train").parts[0]
        if s is None or experiment not in cells:
            continue
        done = assumed = 0.0
        for cell_id, ran in ROUNDS.findall(text):
            cell = cells[experiment][cell_id]
            t = cell["train"]
            full = resources.train_units(cell)
            assumed += full
            done += (
                full / (resources.seed_count(cell) * max(t["max_rounds"], t["rounds"])) * sum(map(int, ran.split(",")))
            )
        if done:
            out["train"].append((s, done / 1e9, assumed / 1e9))
    for path in sorted((logs / "predict").glob("*.log")):  # one prediction job per experiment
        text = path.read_text()
        s = seconds(text)
        experiment = path.stem
        if s is None or experiment not in cells:
            continue
        units = sum(resources.predict_units(c) for c in cells[experiment].values()) / 1e9
        out["predict"].append((s, units, units))
    # the jobs that read tables: measuring one experiment, a figure (its experiment's tables),
    # the joined tables and the claims (every experiment's)
    readers = {f"aggregate_experiment/{e}.log": [e] for e in cells}
    readers |= {f"figures/{f}.log": [s.experiment] if s.experiment else list(cells) for f, s in FIGURES.items()}
    readers |= {f"{j}.log": list(cells) for j in ("aggregate_all", "claims", "claims_robustness")}
    for name, experiments in readers.items():
        if (logs / name).exists() and (s := seconds((logs / name).read_text())) is not None:
            rows = sum(resources.trajectory_rows(c) for e in experiments if e in cells for c in cells[e].values())
            out["tables"].append((s, rows / 1e6, rows / 1e6))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logs", type=Path, required=True, help="the study's log folder (<logs_dir>/masked)")
    ap.add_argument("--configs", nargs="+", required=True, help="the run's config files, later merged over earlier")
    a = ap.parse_args()
    config: dict = {}
    for f in a.configs:
        config = _merge(config, yaml.safe_load(Path(f).read_text()) or {})
    cells = expand_config(config.get("masked", config))
    units = {"train": "1e9 training units", "predict": "1e9 prediction units", "tables": "1e6 table rows"}
    for kind, measured in jobs(a.logs, cells).items():
        if not measured:
            continue
        ratios = [s / done for s, done, _ in measured]
        # the smallest constant whose declared runtime (RUNTIME_SAFETY x the estimate) covers every job
        cover = max((s / RUNTIME_SAFETY - resources.START_SECONDS) / assumed for s, _, assumed in measured)
        print(
            f"{kind}: {len(measured)} jobs, seconds per {units[kind]}: median {statistics.median(ratios):.3g}, "
            f"largest {max(ratios):.3g}; every job within its declared runtime down to {max(cover, 0.0):.3g}"
        )


if __name__ == "__main__":
    main()
