"""What each job of the study asks of the machine: rows of its tables, memory (MB) and time (s),
computed from the settings the job runs (:func:`.experiments.job_settings`).

The model.  Every training job runs :func:`.engine.train` on S = len(seeds) runs batched, m
students and r teachers in d dimensions, M = m + r.  One GD step evaluates the closed-form
population loss (:func:`.theory.loss_and_grad_u`), whose (S, M, M) pairwise arrays dominate
both time and memory:

    seconds per step  =  STEP_S + PAIR_S * S M^2  (+ SAMPLE_S * S N M d for N fresh samples, Theorem 7)
    bytes             =  PAIR_ARRAYS * 8 S M^2  +  8 S M d (W, its gradient, ...)  +  ROW_BYTES * rows

plus the start of a job's process (START_S, BASE_MB: Python, torch, pandas imported).  The
masked_link job runs the masked study's engine: ROUND_S plus its multiply-adds (FLOP_S) per
round, and that study's memory estimate (:func:`maskedntk.studies.masked.jobs.train_memory_mb`).
Claims and figure jobs read the run tables: START_S, their own work, and a per-row term.

Calibration (:data:`CALIBRATION`): measured on the 2-core development machine: the job times of
a default run (``snakemake local_convergence_all``, whole jobs as Snakemake logged them: 3 s for
claim2, whose work is 0.1 s, i.e. the start; 5-6 s for the local jobs' 4000 steps) and the
ratios of a step benchmark at larger widths (``python benchmarks/bench_local_convergence.py``).  A cluster
node may be slower: the declared runtime multiplies the estimate by
:data:`maskedntk.core.resources.RUNTIME_SAFETY`.
"""

from __future__ import annotations

from collections.abc import Mapping

#: the constants of the model (module docstring), with where each was measured.  Unloaded: the
#: job times of a default run (20:55 UTC, a 2-core machine running 2 jobs at a time).  The
#: benchmark ran under load (load average 12 on 2 cores; its small GD step took 4.6 times the
#: unloaded STEP_S), so only its ratios are used: the S M^2 term is 8.1e-5 STEP_S per S M^2
#: (S = 6, M = 9 vs 203: 2.56e-3 vs 5.36e-2 s per step; M = 403 predicted within 5%), an SGD
#: step with N = 4096 fresh samples costs 0.83 STEP_S more per 1e5 S N M d, a float64
#: multiply-add 1.24e-9 s loaded.
CALIBRATION = {
    "START_S": 3.0,  # a job's process start and imports: claim2's whole job (3 s) less its work (0.1 s)
    "BASE_MB": 400,  # bench: 323 MB resident after the imports; the .test run's jobs peaked at 442 MB
    "STEP_S": 5.6e-4,  # one GD step at small M: local r2 (S = 6, M = 9) 4000 steps in 2.3 s
    "PAIR_S": 4.5e-8,  # per S M^2 of a step: 8.1e-5 STEP_S (bench ratio, above)
    "SAMPLE_S": 4.6e-9,  # per S N M d of an SGD step: (2.13e-2 - 2.56e-3) / (6 * 4096 * 9 * 4) / 4.6 (bench)
    "FLOP_S": 2.7e-10,  # one float64 multiply-add: 1.24e-9 s (bench, 400 x 400 product) / 4.6
    "ROW_S": 2.0e-6,  # building or reading one table row: figure1 (13k trajectory rows) 4.2 s for 6000 steps
    "ROUND_S": 8.0e-4,  # one round of the masked engine at small sizes: masked_link 3600 rounds in 2.9 s
    "FIGURE_S": 3.0,  # drawing and saving one figure (PDF + PNG): figure jobs 4-7 s less START_S
    "CLAIMS_S": 1.0,  # the claims table's tests and bootstraps (claims job: 4 s less START_S)
}
START_S, BASE_MB = CALIBRATION["START_S"], CALIBRATION["BASE_MB"]
STEP_S, PAIR_S, SAMPLE_S = CALIBRATION["STEP_S"], CALIBRATION["PAIR_S"], CALIBRATION["SAMPLE_S"]
FLOP_S, ROW_S, ROUND_S = CALIBRATION["FLOP_S"], CALIBRATION["ROW_S"], CALIBRATION["ROUND_S"]
#: (S, M, M) float64 arrays alive at once in one loss-and-gradient evaluation (angles, their
#: sine and cosine, the kernel and its factors, the gradient's lateral terms), rounded up
PAIR_ARRAYS = 16
#: bytes of one table row while a job builds it (a Python dict of numbers) or reads it
ROW_BYTES = 1000
#: Monte Carlo samples of claim1's check of the ReLU loss (:func:`.runs.run_claim1`)
CLAIM1_SAMPLES = 20000
#: checkpoints of the experiments that do not set them (:mod:`.runs`)
CHECKPOINTS = {"figure1": 40, "relu_variant": 40}
MB = 2**20


def _S(share: Mapping) -> int:
    return len(share["seeds"])


def _ckpts(n: int) -> int:
    """An upper bound on the checkpoints of :func:`.engine.log_checkpoints` (n log-spaced, 0, last)."""
    return n + 2


def table_rows(experiment: str, share: Mapping) -> dict[str, int]:
    """The rows of each table the training job of ``experiment`` writes (an upper bound where
    the checkpoints are log-spaced)."""
    S, t = _S(share), share.get("teacher", {})
    if experiment == "local":
        lo, m = share["local"], share["ratio"] * t["r"]
        return {"runs": S, "traj": S * _ckpts(lo["checkpoints"]), "neurons": S * m}
    if experiment == "gradient_bound":
        return {"runs": S * len(share["gradient_bound"]["r"]) * len(share["gradient_bound"]["w_scale"])}
    if experiment == "claim2":
        return {"runs": S * share["claim2"]["points"]}
    if experiment == "initialisation":
        return {"runs": S * len(share["initialisation"]["ratios"])}
    if experiment == "samples":
        return {"runs": S * (len(share["samples"]["batch"]) + 1)}
    if experiment == "figure1":
        f1 = share["figure1"]
        return {"runs": 3 * S, "traj": S * (3 * _ckpts(CHECKPOINTS["figure1"]) * f1["m"] + f1["r"])}
    if experiment == "claim1":
        return {"runs": S}
    if experiment == "relu_variant":
        return {"runs": 2 * S, "traj": 2 * S * _ckpts(CHECKPOINTS["relu_variant"])}
    if experiment == "masked_link":
        return {"runs": S * len(share["masked_link"]["widths"])}
    raise ValueError(f"experiment = {experiment!r}: no table rows known")


def _gd_runs(experiment: str, share: Mapping) -> list[tuple[int, int, int, int]]:
    """Each :func:`.engine.train` call of the job: (steps, M, N fresh samples or 0, d)."""
    t = share.get("teacher", {})
    if experiment == "local":
        lo = share["local"]
        return [(lo["steps"], (share["ratio"] + 1) * t["r"], 0, t["d"])]
    if experiment == "gradient_bound":
        gb = share["gradient_bound"]
        return [(gb["steps"], (gb["ratio"] + 1) * r, 0, t["d"]) for r in gb["r"] for _ in gb["w_scale"]]
    if experiment == "initialisation":
        ini = share["initialisation"]
        return [(ini["steps"], (q + 1) * t["r"], 0, ini["d"]) for q in ini["ratios"]]
    if experiment == "samples":
        sa, M = share["samples"], (share["samples"]["ratio"] + 1) * t["r"]
        return [(sa["steps"], M, N, t["d"]) for N in sa["batch"]] + [(sa["steps"], M, 0, t["d"])]
    if experiment == "figure1":
        f1 = share["figure1"]
        return [(f1["steps"], f1["m"] + f1["r"], 0, 2)] * 3
    if experiment == "relu_variant":
        rv = share["relu_variant"]
        return [(rv["steps"], (rv["ratio"] + 1) * t["r"], 0, t["d"])] * 2
    if experiment == "claim2":  # one loss evaluation per point and student, 2 + 2 neurons in R^3
        return [(1, 4, 0, 3)] * (2 * share["claim2"]["points"])
    return []


def _masked_cells(share: Mapping) -> list[dict]:
    ml = share["masked_link"]
    return [{"m": m, "p": ml["p"], "mask": "bernoulli", "dtype": "float64"} for m in ml["widths"]]


def train_memory_mb(experiment: str, share: Mapping) -> int:
    """Memory (MB) of the training job of ``experiment`` run with ``share`` (and ``ratio``)."""
    S = _S(share)
    rows = sum(table_rows(experiment, share).values())
    gd = [8 * S * (PAIR_ARRAYS * M * M + 8 * M * d + 4 * N * (M + d)) for _, M, N, d in _gd_runs(experiment, share)]
    work, base = max(gd, default=0), BASE_MB
    if experiment == "figure1":  # the parameters at every checkpoint
        work += 8 * S * _ckpts(CHECKPOINTS["figure1"]) * share["figure1"]["m"] * 2
    if experiment == "claim1":
        work += 8 * 4 * CLAIM1_SAMPLES * share["teacher"]["d"]
    if experiment == "masked_link":
        from maskedntk.studies.masked.resources import train_memory_mb as masked_mb

        ml = share["masked_link"]
        d = share["teacher"]["d"]
        # the masked study's estimate of its engine includes a process base of its own
        base = max(BASE_MB, *(masked_mb({"train": c}, {"n": ml["n"], "d": d}) for c in _masked_cells(share)))
        work += 8 * (ml["n"] ** 2 + (ml["n"] + ml["n_test"]) * (d + max(ml["widths"])))
    return int(base + (work + ROW_BYTES * rows) / MB) + 1


def train_seconds(experiment: str, share: Mapping) -> float:
    """Time (s) of the training job of ``experiment`` run with ``share`` (and ``ratio``)."""
    S = _S(share)
    steps = sum(
        k * (STEP_S + PAIR_S * S * M * M + SAMPLE_S * S * N * M * d) for k, M, N, d in _gd_runs(experiment, share)
    )
    rows = sum(table_rows(experiment, share).values())
    extra = 0.0
    if experiment == "claim1":
        extra = 4 * FLOP_S * S * CLAIM1_SAMPLES * share["teacher"]["d"]
    if experiment == "masked_link":
        ml = share["masked_link"]
        # a round: forward and backward passes of p subnetworks (about 4 n m d multiply-adds
        # each, tau times); the step size: the eigenvalues of an n x n Gram matrix per width
        n, d = ml["n"], share["teacher"]["d"]
        rounds = S * ml["rounds"] * ml["p"] * ml["tau"]
        extra = sum(rounds * (ROUND_S + 4 * FLOP_S * n * m * d) + 10 * FLOP_S * S * n**3 for m in ml["widths"])
    return START_S + steps + extra + ROW_S * rows


def reader_memory_mb(rows: int) -> int:
    """Memory (MB) of a claims or figure job that reads ``rows`` table rows."""
    return int(BASE_MB + ROW_BYTES * rows / MB) + 1


def reader_seconds(rows: int, *, claims: bool) -> float:
    """Time (s) of the claims job (``claims``) or a figure job that reads ``rows`` table rows."""
    return START_S + CALIBRATION["CLAIMS_S" if claims else "FIGURE_S"] + ROW_S * rows
