"""Each job's memory (MB) and time (seconds of one core), estimated from the settings it runs.

The workflow declares them to Snakemake (``mem_mb``, ``runtime``) and refuses a configuration
whose job cannot fit before any job starts (:mod:`maskedntk.core.resources`).

Memory.  A cost run at width m, dimension d and mini-batch B holds W, its initial copy, its
copy in tree order and the build's scratch copies (6 m d float64; the tree's centres,
< 2 m d / leaf, fit in the margin), a few m-vectors of indices, flags and projections (~40 m
bytes) and the B x m pre-activations of dense mini-batches: 8 (6 m d + B m) + 40 m bytes.  A
training or activity job holds W (m x d) and the pre-activations of its test inputs (n x m,
twice for the forward pass).  On top comes the process (python, numpy, numba, scikit-learn,
pandas: 250 MB resident, measured with ``/usr/bin/time -f %M python -c "import numpy, pandas,
pyarrow, numba, sklearn.neighbors, scipy.special"``), counted as BASE_MB = 500.

Time, calibrated on the default run (config/sublinear.yaml, measured 2026-12-02 on the 2-core
development machine with two jobs at a time; logs/sublinear/ and the cost tables' per-run times
``t_step`` and ``t_init``):

* one identifier's cost run with s steps: s B m STEP_SECONDS (1 + d/8) of dense steps, plus,
  for a structure, m BUILD_SECONDS (1 + d/8) for its initial build and s m TREE_STEP_SECONDS
  (1 + d/8) for its queries, updates and rebuilds (least squares over the 270 runs of the three
  cost jobs: 3.7e-9, 5.5e-7 and 1.9e-8 s; the jobs' sums predicted 43, 52, 70 s against the
  measured 40, 54, 73 s at d = 2, 4, 8); each run's initial network, INIT_SECONDS m d
  (the jobs' wall time less their runs' time: 2.7 to 8.7 s over 30 runs at m = 2^20); and the
  kernels' first compilation, at most COMPILE_SECONDS (docs/studies/sublinear.md);
* a training step at width m and dimension d, its share of the checkpoints included:
  5e-5 s + 1.6e-9 m d s (train_M*.log: 1.7 s for 5 x 5000 steps at m = 1024, 3.6 s at 4096,
  11.5 s at 16384, d = 16);
* the activity counts: 3e-10 s per unit n m d of every (m, seed) (0.35 s in all).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ...core.runs import Estimate
from . import theory

#: the resident memory of a job's process before its arrays (MB)
BASE_MB = 500
#: cost of one dense SGD step per unit B m (1 + d/8) (s)
STEP_SECONDS = 3.7e-9
#: a structure's initial build per unit m (1 + d/8) (s)
BUILD_SECONDS = 5.5e-7
#: a structure's queries, updates and rebuilds per step and unit m (1 + d/8) (s)
TREE_STEP_SECONDS = 1.9e-8
#: drawing one cost run's initial network, per unit m d (s)
INIT_SECONDS = 2.5e-8
#: the compiled kernels' first compilation (s)
COMPILE_SECONDS = 50
#: a training step: fixed cost and cost per unit m d (s)
TRAIN_STEP_SECONDS, TRAIN_UNIT_SECONDS = 5e-5, 1.6e-9
#: the activity counts per unit n m d (s)
ACTIVITY_UNIT_SECONDS = 3e-10
#: the cost table, the claims and the figures: read a few tables, draw or test (s)
LIGHT_SECONDS = 30


def cost_memory(m: int, d: int, B: int) -> int:
    """Peak bytes of one cost run (the module's formula)."""
    return 8 * (6 * m * d + B * m) + 40 * m


def _mb(nbytes: float) -> int:
    return BASE_MB + math.ceil(nbytes / 2**20)


def _cost(s: Mapping) -> Estimate:
    co, d = s["cost"], int(s["d"])
    scale = 1 + d / 8
    sec = COMPILE_SECONDS
    for m, steps in zip(co["ms"], co["steps"], strict=True):
        for batch in co["batches"]:
            structures = sum(1 for i in batch["identifiers"] if i != "dense")
            every_run = steps * batch["B"] * m * STEP_SECONDS * scale + INIT_SECONDS * m * d
            structure = m * BUILD_SECONDS * scale + steps * m * TREE_STEP_SECONDS * scale
            sec += len(s["seeds"]) * ((1 + structures) * every_run + structures * structure)
    B = max(b["B"] for b in co["batches"])
    return Estimate(_mb(max(cost_memory(m, d, B) for m in co["ms"])), sec)


def _train(s: Mapping) -> Estimate:
    tr, wd = s["training"], s["training"]["width"]
    m, _ = theory.width(float(s["M"]), float(tr["eps"]), float(wd["constant"]), int(wd["m_min"]), int(wd["m_max"]))
    d = int(tr["d"])
    sec = len(s["seeds"]) * tr["steps"] * (TRAIN_STEP_SECONDS + TRAIN_UNIT_SECONDS * m * d)
    return Estimate(_mb(8 * m * (3 * d + 2 * tr["n_test"])), sec)


def _activity(s: Mapping) -> Estimate:
    act = s["activity"]
    d, n = int(act["d"]), int(act["n_inputs"])
    sec = len(s["seeds"]) * sum(ACTIVITY_UNIT_SECONDS * n * m * d for m in act["ms"])
    return Estimate(_mb(8 * max(act["ms"]) * (d + 2 * n)), sec)


ESTIMATORS = {"activity": _activity, "train": _train, "cost": _cost}


def estimate(job: str, settings: Mapping) -> Estimate:
    """The memory and time of ``job`` (a job of ``__main__.JOBS``) run with ``settings`` (its
    part of the configuration and the choice of its run, :func:`.experiments.job_settings`)."""
    if job in ESTIMATORS:
        return ESTIMATORS[job](settings)
    return Estimate(BASE_MB, LIGHT_SECONDS)
