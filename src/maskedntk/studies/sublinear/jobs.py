"""The study's experiments, and the jobs the Snakemake rules call (``python -m
maskedntk.studies.sublinear JOB --config SETTINGS --out table=PATH meta=PATH --log FILE``,
:mod:`maskedntk.core.jobcli`).

Each experiment is a function of its settings (the part of the config it reads,
:func:`.experiments.job_settings`) that returns its table; its job writes the table (output
``table``, parquet) and returns the extra fields of the metadata beside it.  Experiments:

* ``activity``: the active count |S_fire(x)| at initialisation for every m in activity.ms,
  every seed and activity.n_inputs unit inputs (dense count; exact).
* ``train`` (one job per target norm M): online SGD with the dense identifier, at the width
  m = constant M^2 / eps^2 of :func:`.theory.width` (``meets_width`` False where it is capped
  at training.width.m_max); at log-spaced
  checkpoints the test loss and the mean active count on the test inputs, plus the mean active
  count of the training samples over windows between checkpoints.
* ``cost`` (one job per d): for every m (with its number of steps), seed and mini-batch size
  B, every identifier runs the same SGD steps from the same initialisation on the same stream;
  the table holds each identifier's inner products and times per step (query, update,
  rebuilds: the recurring cost), its one-time initial build, and whether its final weights are
  bit-identical to the dense identifier's at the same B.  Its metadata adds ``compile_seconds``
  (the compiled kernels' compilation, apart from every timing) and ``all_identical``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from maskedntk.core.atomic import write_frame, write_text
from maskedntk.core.jobcli import JobArgs

from . import engine, theory
from .identifiers import make_identifier

log = logging.getLogger("maskedntk")


def test_inputs(n: int, d: int) -> np.ndarray:
    """The fixed unit test inputs of dimension d: default_rng([0, 5, d])."""
    return engine.sphere(np.random.default_rng([0, 5, d]), n, d)


def activity_table(cfg: Mapping) -> pd.DataFrame:
    """The active count of every test input, m of activity.ms and seed."""
    act = cfg["activity"]
    d, n = int(act["d"]), int(act["n_inputs"])
    c = float(cfg["c_threshold"])
    X = test_inputs(n, d)
    rows = []
    for m in act["ms"]:
        b = theory.threshold(m, c)
        for seed in cfg["seeds"]:
            net = engine.init_network(m, d, b, seed)
            counts = net.active_counts(X)
            for i, k in enumerate(counts):
                rows.append((seed, m, d, b, i, int(k)))
        log.info("activity m=%d done", m)
    return pd.DataFrame(rows, columns=["seed", "m", "d", "b", "input", "active"])


def activity(args: JobArgs) -> None:
    """The activity job."""
    write_frame(args.output("table"), activity_table(args.settings))


def checkpoints(steps: int, n: int) -> list[int]:
    """0 plus about n log-spaced steps in [1, steps], always including steps."""
    cps = np.unique(np.round(np.geomspace(1, steps, n)).astype(int))
    return [0, *[int(c) for c in cps]]


def train_table(cfg: Mapping, M: float) -> pd.DataFrame:
    """Online SGD on the target of norm ``M`` for every seed: the test loss and active counts at
    the checkpoints."""
    tr = cfg["training"]
    d, steps = int(tr["d"]), int(tr["steps"])
    wd = tr["width"]
    m, meets = theory.width(M, float(tr["eps"]), float(wd["constant"]), int(wd["m_min"]), int(wd["m_max"]))
    c = float(cfg["c_threshold"])
    b = theory.threshold(m, c)
    p = theory.fire_probability(b)
    eta = float(cfg["eta0"]) / p
    X = test_inputs(int(tr["n_test"]), d)
    cps = checkpoints(steps, int(tr["n_checkpoints"]))
    rows = []
    for seed in cfg["seeds"]:
        target = engine.make_target(d, M, degrees=tr["degrees"], seed=seed)
        y = target(X)
        net = engine.init_network(m, d, b, seed)
        snaps = {}

        def snap(t, net, snaps=snaps, X=X, y=y):
            f = net.forward(X)
            snaps[t] = (0.5 * float(np.mean((f - y) ** 2)), float(net.active_counts(X).mean()))

        ident = make_identifier("dense", b)
        steplog = engine.sgd(net, ident, target, steps=steps, eta=eta, seed=seed, checkpoints=cps, on_checkpoint=snap)
        act = np.asarray(steplog.active, dtype=np.float64)
        prev = 0
        for t in cps:
            loss, test_active = snaps[t]
            train_active = float(act[prev:t].mean()) if t > prev else math.nan
            rows.append((seed, float(M), m, meets, d, b, p, eta, t, loss, test_active, train_active))
            prev = t
        log.info("train M=%g seed=%d final loss %.3g", M, seed, snaps[cps[-1]][0])
    return pd.DataFrame(
        rows,
        columns=[
            *("seed", "M", "m", "meets_width", "d", "b", "p", "eta"),
            *("step", "test_loss", "test_active", "train_active"),
        ],
    )


def train(args: JobArgs) -> None:
    """The training job of the target norm ``settings["M"]``."""
    write_frame(args.output("table"), train_table(args.settings, float(args.settings["M"])))


#: cost-table column -> (the identifier's counter, whether it is divided by the steps)
COUNTERS = {
    "ip_query": ("ip_query", True),
    "ip_update": ("ip_update", True),
    "ip_rebuild": ("ip_rebuild", True),
    "ip_init": ("ip_init", False),
    "t_query": ("t_query_median", False),
    "t_update": ("t_update_median", False),
    "t_query_mean": ("t_query", True),
    "t_update_mean": ("t_update", True),
    "t_rebuild": ("t_rebuild", True),
    "t_init": ("t_init", False),
}


def _hash(W: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(W).tobytes()).hexdigest()[:16]


def _cost_run(cfg: Mapping, name: str, m: int, d: int, B: int, steps: int, seed: int) -> tuple[dict, str, np.ndarray]:
    """One identifier's SGD run in the cost experiment: (table row, hash of the final W, the
    active counts per step)."""
    co = cfg["cost"]
    b = theory.threshold(m, float(cfg["c_threshold"]))
    eta = float(cfg["eta0"]) / theory.fire_probability(b)
    target = engine.make_target(d, 1.0, degrees=cfg["training"]["degrees"], seed=seed)
    net = engine.init_network(m, d, b, seed)
    ident = make_identifier(
        name,
        b,
        leaf_size=int(co["leaf_size"]),
        rebuild_fraction=float(co["rebuild_fraction"]),
        n_shells=int(co["n_shells"]),
        seed=seed,
    )
    t1 = time.perf_counter()
    steplog = engine.sgd(net, ident, target, steps=steps, eta=eta, seed=seed, stream=1, batch=B)
    total = time.perf_counter() - t1
    active = np.asarray(steplog.active, dtype=np.float64)
    cnt = ident.counters()
    row = {"seed": seed, "m": m, "d": d, "b": b, "B": B, "identifier": name, "steps": steps}
    row["mean_active"] = float(active.mean())
    row.update({col: cnt[k] / steps if per_step else cnt[k] for col, (k, per_step) in COUNTERS.items()})
    row["t_step"] = (total - cnt["t_init"]) / steps
    row["n_rebuilds"] = cnt["n_rebuilds"]
    return row, _hash(net.W), active


def cost_runs(cfg: Mapping, d: int) -> pd.DataFrame:
    """Every identifier of every mini-batch size (``cost.batches``) on the same SGD steps,
    for every m of ``cost.ms`` (with its number of steps) and the first ``cost.n_seeds`` seeds,
    at input dimension ``d``.  Call :func:`.kernels.warm_up` first: a compilation inside a run
    would count in its time."""
    co = cfg["cost"]
    seeds = list(cfg["seeds"])[: int(co["n_seeds"])]
    rows = []
    for m, steps in zip(co["ms"], co["steps"], strict=True):
        for seed in seeds:
            for batch in co["batches"]:
                B = int(batch["B"])
                names = ["dense", *[i for i in batch["identifiers"] if i != "dense"]]
                ref = None
                for name in names:
                    row, h, active = _cost_run(cfg, name, int(m), d, B, int(steps), seed)
                    ref = ref or (h, active)
                    row["identical"] = bool(h == ref[0] and np.array_equal(active, ref[1]))
                    rows.append(row)
        log.info("cost d=%d m=%d done", d, m)
    df = pd.DataFrame(rows)
    # recurring cost per step: query + update + rebuilds (the initial build is reported apart);
    # query and update times are medians over the steps (robust to preemption on a shared
    # machine), rebuilds their mean over the steps (they happen on a few steps only)
    df["ip_total"] = df["ip_query"] + df["ip_update"] + df["ip_rebuild"]
    df["t_ident"] = df["t_query"] + df["t_update"] + df["t_rebuild"]
    return df


def cost(args: JobArgs) -> dict:
    """The cost job of the input dimension ``settings["d"]``.  The compiled kernels are compiled
    (or loaded from numba's cache) before any run; that time goes into the metadata as
    ``compile_seconds``, apart from every timing."""
    from .kernels import warm_up

    compile_seconds = warm_up()
    df = cost_runs(args.settings, int(args.settings["d"]))
    write_frame(args.output("table"), df)
    return {"all_identical": bool(df["identical"].all()), "compile_seconds": compile_seconds}


def cost_table(args: JobArgs) -> None:
    """The cost-table job: median over seeds of each identifier's per-step cost and its ratio to
    dense (output ``csv``); then the crossover table (:func:`.metrics.crossover`; output ``md``)."""
    from .metrics import cost_summary, crossover

    df = pd.concat([pd.read_parquet(p) for p in args.inputs["cost"]], ignore_index=True)
    summ = cost_summary(df)
    write_frame(args.output("csv"), summ)
    lines = [
        "| d | B | m | identifier | inner products / step | ratio to dense | identification time / step (us) "
        "| ratio to dense | initial build (ms) | identical to dense |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summ.itertuples():
        lines.append(
            f"| {r.d} | {r.B} | {r.m} | {r.identifier} | {r.ip_total:.0f} | {r.ip_ratio:.3f} | {1e6 * r.t_ident:.0f} "
            f"| {r.t_ratio:.2f} | {1e3 * r.t_init:.1f} | {'yes' if r.identical else 'NO'} |"
        )
    lines += [
        "",
        "Crossover: the smallest measured m from which on the identifier's median time per step stays below "
        "dense's up to the largest m; otherwise the ratio at the largest m and its trend (log-log slope of the "
        "ratio over the three largest m).",
        "",
        "| d | B | identifier | m where it first beats dense | time ratio at the largest m | trend |",
        "|---|---|---|---|---|---|",
    ]
    for r in crossover(summ).itertuples():
        cross = "none up to " + f"{r.m_max}" if math.isnan(r.m_cross) else f"{int(r.m_cross)}"
        lines.append(f"| {r.d} | {r.B} | {r.identifier} | {cross} | {r.ratio_max_m:.2f} | {r.trend:+.2f} |")
    write_text(args.output("md"), "\n".join(lines) + "\n")
