"""What each job of the masked-neuron study asks of the machine: memory (MB) and time (seconds
of one core), estimated from the settings the job runs, before any job starts.

The workflow declares them to Snakemake (``mem_mb``, and ``runtime`` through
:func:`maskedntk.core.resources.runtime_minutes`) and refuses a configuration whose job cannot
fit (:func:`maskedntk.core.resources.refuse_oversized`).  Sizes are in the paper's notation: n
samples of dimension d, m hidden neurons, p subnetworks of width w per round, tau local steps,
S seeds, K_max = ``max_rounds`` (a run is extended until stationary up to it, so the time is an
upper bound).

The time constants are calibrated on the default configuration's run (``snakemake masked_all
--cores 2``, one core per job, on a 2-core machine at load average 3-5): each job's log gives its
seconds between "job ... started" and "job ... finished" and, for a training job, the rounds each
seed ran.  ``python benchmarks/calibrate_masked_resources.py --logs logs/masked --configs
config/config.yaml config/masked.yaml`` prints, per kind of job, the seconds per unit of its work
formula; on that run training took a median 0.020 and at most 0.077 s per 1e9 units of
:func:`train_units` (38 jobs; the slowest per unit are categorical rows with narrow
subnetworks), prediction a median 1.04 and at most 5.9 s per 1e9 units of :func:`predict_units`
(38 jobs), and the jobs that read tables (measurement, figures, joined tables, claims; 24 jobs) a
median 15 and at most 150 s per million rows of :func:`trajectory_rows` (a figure's drawing, not
its reading, sets the largest).  Each constant below is the median, rounded up: the estimate of a
typical job.  The runtime a rule declares is three times the estimate
(:data:`maskedntk.core.resources.RUNTIME_SAFETY`), and the estimate assumes every seed runs
``max_rounds``; with these constants every job of that run finished within its declared runtime
(the script prints the smallest constants for which that holds: 0.015 for training, 0 for the
others, whose start-up allowance covers them).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping

#: seconds of Python, torch and pandas start-up, and reading a job's files, before any work
START_SECONDS = 5.0
#: seconds per 1e9 units of training work (:func:`train_units`): the default run's median 0.020
TRAIN_SECONDS_PER_GUNIT = 0.02
#: a float64 multiply-add costs about twice a float32 one on a CPU (README: float32 1.4-1.8x faster)
FLOAT64_COST = 2.0
#: seconds per 1e9 units of prediction work (:func:`predict_units`): the default run's median 1.04
PREDICT_SECONDS_PER_GUNIT = 1.1
#: seconds per million rows of trajectory (and trace) tables a job reads (:func:`trajectory_rows`):
#: the default run's median 15.4
TABLE_SECONDS_PER_MROW = 16.0
#: memory of a Python process with torch, numpy and pandas loaded (MB)
BASE_MB = 500
#: bytes a pandas table row of the trajectory / trace tables takes while a job holds it, with
#: the copies a concatenation makes
ROW_BYTES = 300


def _item_bytes(train: Mapping) -> int:
    """Bytes per number: 4 for float32, else 8 (``auto`` may run float64)."""
    return 4 if train.get("dtype", "float64") == "float32" else 8


def seed_count(cell: Mapping) -> int:
    seeds = cell.get("seeds", 1)
    return seeds if isinstance(seeds, int) else len(seeds)


def subnetwork_width(train: Mapping) -> int:
    """w: the width of one subnetwork, m for Bernoulli masks (every neuron may be held), about
    m / p + 64 for categorical masks (each neuron held by exactly one subnetwork)."""
    return train["m"] if train.get("mask", "bernoulli") == "bernoulli" else train["m"] // train["p"] + 64


def train_memory_mb(cell: Mapping, data: Mapping) -> int:
    """Memory estimate of one training job in MB (the engine's work buffers dominate): the
    subnetworks' activations, 8 n (p w + 3 m) / 2 numbers of the cell's dtype."""
    t = cell["train"]
    n, _ = data_shape(data)
    return int(BASE_MB + 8 * _item_bytes(t) * n * (t.get("p", 1) * subnetwork_width(t) + 3 * t["m"]) / 2**20)


def state_memory_mb(cell: Mapping, data: Mapping) -> int:
    """Memory of a cell's runs while its job trains them together with other cells: the
    stacked pre-activations and their aggregation buffer, 2 S m n numbers of the cell's dtype
    (the work buffers of the largest batch are in :func:`train_memory_mb`)."""
    t = cell["train"]
    n, _ = data_shape(data)
    return int(2 * seed_count(cell) * t["m"] * n * _item_bytes(t) / 2**20) + 1


def train_job_memory_mb(cells: Iterable[Mapping]) -> int:
    """A training job's memory: the largest work buffers of its cells plus the state of all of
    them (they train together, round by round)."""
    cells = list(cells)
    return max(train_memory_mb(c, c["data"]) for c in cells) + sum(state_memory_mb(c, c["data"]) for c in cells)


def runs_float64(train: Mapping) -> bool:
    """Whether a cell trains in float64: ``dtype: float64``, or ``auto`` where xi_eff = 1
    (Bernoulli xi = 1, categorical p = 1), as the engine chooses."""
    dtype = train.get("dtype", "float64")
    if dtype != "auto":
        return dtype == "float64"
    categorical = train.get("mask", "bernoulli") == "categorical"
    return (train.get("p", 1) == 1) if categorical else (train.get("xi", 1.0) == 1.0)


def train_units(cell: Mapping) -> float:
    """The work of training one cell: S K_max n (p w tau + m) (n + d), the multiply-adds of
    p tau local steps of width w and one tracked forward pass per round, each against the
    n x n kernel and the n x d inputs; twice that in float64 (:data:`FLOAT64_COST`)."""
    t = cell["train"]
    n, d = data_shape(cell["data"])
    rounds = max(t.get("max_rounds", t.get("rounds", 200)), t.get("rounds", 200))
    work = seed_count(cell) * rounds * n * (t.get("p", 1) * subnetwork_width(t) * t.get("tau", 1) + t["m"]) * (n + d)
    return float(work * (FLOAT64_COST if runs_float64(t) else 1.0))


def train_seconds(cells: Iterable[Mapping]) -> float:
    """A training job's time estimate (one core): start-up plus its cells' work."""
    return START_SECONDS + TRAIN_SECONDS_PER_GUNIT * sum(train_units(c) for c in cells) / 1e9


def predict_units(cell: Mapping) -> float:
    """The work of predicting one cell's plateaus: S n m (n + d) tau, the initial pre-activations
    and the kernels of each seed, one per local step."""
    t = cell["train"]
    n, d = data_shape(cell["data"])
    return float(seed_count(cell) * n * t["m"] * (n + d) * t.get("tau", 1))


def predict_seconds(cells: Iterable[Mapping]) -> float:
    """A prediction job's time estimate (one core)."""
    return START_SECONDS + PREDICT_SECONDS_PER_GUNIT * sum(predict_units(c) for c in cells) / 1e9


def predict_memory_mb(cells: Iterable[Mapping]) -> int:
    """A prediction job's memory: one seed's pre-activations and their copies, 4 n m numbers,
    and its kernels, 8 n^2, in float64 (the cells are predicted one at a time)."""
    sizes = [(*data_shape(c["data"]), c["train"]["m"]) for c in cells]
    return int(BASE_MB + max(8 * (4 * n * m + 8 * n * n + n * d) for n, d, m in sizes) / 2**20)


def trajectory_rows(cell: Mapping) -> int:
    """Rows a cell adds to the trajectory table (S (K_max + 1)) and, when it records the loss
    through every local step, to the trace table (S K_max p tau)."""
    t = cell["train"]
    rounds = max(t.get("max_rounds", t.get("rounds", 200)), t.get("rounds", 200))
    rows = seed_count(cell) * (rounds + 1)
    if t.get("trace"):
        rows += seed_count(cell) * rounds * t.get("p", 1) * t.get("tau", 1)
    return rows


def table_memory_mb(rows: int) -> int:
    """Memory of a job that holds ``rows`` rows of the trajectory and trace tables."""
    return int(BASE_MB + rows * ROW_BYTES / 2**20)


def table_seconds(rows: int) -> float:
    """Time of a job that reads and writes ``rows`` rows of tables (aggregation, claims, figures)."""
    return START_SECONDS + TABLE_SECONDS_PER_MROW * rows / 1e6


def data_shape(data: Mapping) -> tuple[int, int]:
    """(n, d) of a data block, read from the data itself when the block does not set both (a
    builtin data set or a file)."""
    if data.get("n") and data.get("d"):
        return int(data["n"]), int(data["d"])
    return _loaded_shape(json.dumps(dict(data), sort_keys=True))


@functools.cache
def _loaded_shape(data_json: str) -> tuple[int, int]:
    from .cellconfig import load_data

    ds = load_data(json.loads(data_json))
    return int(ds.n), int(ds.d)
