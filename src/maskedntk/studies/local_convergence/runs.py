"""Runs of the experiments: build the batch of one job, train it, tabulate the results.

Tables (pandas, one row per ...):
  * runs     -- run: experiment, ratio (m/m*), m, m_star, d, rho, seed, eta, steps, L0, L_final,
                diverged, hit_<k> (first step with L <= 1e-k, -1 = never), far0, farT, align0,
                alignT, beta_fit, rho_fit;
  * traj     -- (run, checkpoint): step, loss, far_mass, align;
  * neurons  -- (run, neuron): theta (angle to the nearest teacher), mu (|a_i||w_i|), nearest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import engine, metrics, problem
from .experiments import grid, hit_col, levels

RUN_KEYS = ["experiment", "ratio", "m", "d", "rho", "seed"]


def run_population(cfg: dict, experiment: str, ratio: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train every run of (experiment, ratio) on the population loss; (runs, traj, neurons)."""
    runs = grid(cfg, experiment, ratio)
    lv = np.array(levels(cfg))
    sub = cfg[experiment]
    eta = sub["eta"] if "eta" in sub else cfg["eta"]
    steps = sub["steps"]
    n_ck = sub.get("checkpoints", 40)
    rows, trajs, neurons = [], [], []
    # one batch per d (the runs of a batch share the shapes)
    for d in sorted({r["d"] for r in runs}):
        batch = [r for r in runs if r["d"] == d]
        A0, W0, As, Ws = [], [], [], []
        for r in batch:
            a_s, W_s = problem.make_teacher(r["seed"], cfg["m_star"], d, cfg["a_star_range"])
            a0, w0 = problem.init_student(r["seed"], a_s, W_s, r["m"], r["rho"])
            A0.append(a0), W0.append(w0), As.append(a_s), Ws.append(W_s)
        res = engine.train(
            np.stack(A0),
            np.stack(W0),
            np.stack(As),
            np.stack(Ws),
            eta=eta,
            steps=steps,
            levels=lv,
            n_checkpoints=n_ck,
            lam=cfg["balance_lambda"],
            delta=cfg["delta"],
        )
        cl = cfg["claims"]
        for i, r in enumerate(batch):
            row = {
                "experiment": experiment,
                "ratio": ratio,
                "m": r["m"],
                "m_star": cfg["m_star"],
                "d": d,
                "rho": r["rho"],
                "seed": r["seed"],
                "eta": eta,
                "steps": steps,
                "L0": res.loss[i, 0],
                "L_final": res.loss[i, -1],
                "diverged": bool(res.diverged[i]),
                "far0": res.far_mass[i, 0],
                "farT": res.far_mass[i, -1],
                "align0": res.align[i, 0],
                "alignT": res.align[i, -1],
                "beta_fit": metrics.fit_power_exponent(res.steps, res.loss[i], cl["fit_lo"], cl["fit_hi"]),
                "rho_fit": metrics.fit_linear_rate(res.steps, res.loss[i], cl["fit_lo"], cl["fit_hi"]),
                "batch_seconds": res.seconds,
            }
            for j, L in enumerate(lv):
                row[hit_col(L)] = int(res.hit[i, j])
            rows.append(row)
            key = {k: row[k] for k in RUN_KEYS}
            trajs.append(
                pd.DataFrame(
                    {**key, "step": res.steps, "loss": res.loss[i], "far_mass": res.far_mass[i], "align": res.align[i]}
                )
            )
            neurons.append(
                pd.DataFrame(
                    {
                        **key,
                        "neuron": np.arange(r["m"]),
                        "theta": res.theta[i],
                        "mu": res.mu[i],
                        "nearest": res.nearest[i],
                    }
                )
            )
    return pd.DataFrame(rows), pd.concat(trajs, ignore_index=True), pd.concat(neurons, ignore_index=True)


def _core():
    """The core study's masked-neuron engine (its module moved during the reorganisation)."""
    try:
        from maskedntk.studies.masked.engine import train
        from maskedntk.studies.masked.spec import TrainSpec
    except ImportError:  # the layout before the reorganisation
        from maskedntk.engine import train
        from maskedntk.spec import TrainSpec
    return train, TrainSpec


def run_link(cfg: dict) -> pd.DataFrame:
    """The same teacher data for both algorithms.  Rows: algorithm, seed, m, rel_loss
    (training loss / mean y^2 after the budget), pop_loss (this study's runs only), steps."""
    li = cfg["link"]
    train_core, TrainSpec = _core()
    d, n, ms = li["d"], li["n"], cfg["m_star"]
    rows = []
    data = {}
    for seed in li["seeds"]:
        a_s, W_s = problem.make_teacher(seed, ms, d, cfg["a_star_range"])
        X, y = problem.gaussian_data(seed, n, d, a_s, W_s)
        data[seed] = (a_s, W_s, X, y, float(np.mean(y * y)))
    # (i) this study: GD on both layers, empirical loss, from near the teacher; seeds batched
    for ratio in cfg["ratios"]:
        inits = [problem.init_student(s, data[s][0], data[s][1], ms * ratio, li["rho"]) for s in li["seeds"]]
        stack = lambda i: np.stack([data[s][i] for s in li["seeds"]])  # noqa: E731
        res = engine.train(
            np.stack([a for a, _ in inits]),
            np.stack([w for _, w in inits]),
            stack(0),
            stack(1),
            eta=cfg["eta"],
            steps=li["steps"],
            levels=levels(cfg),
            n_checkpoints=20,
            lam=cfg["balance_lambda"],
            delta=cfg["delta"],
            X=stack(2),
            y=stack(3),
        )
        for i, seed in enumerate(li["seeds"]):
            rows.append(
                {
                    "algorithm": "local GD (both layers, near teacher)",
                    "seed": seed,
                    "m": ms * ratio,
                    "rel_loss": 2.0 * res.loss[i, -1] / data[seed][4],
                    "pop_loss": res.loss_pop[i, -1],
                    "steps": li["steps"],
                }
            )
    # (ii) the core study: masked-neuron training (NTK parameterisation, a fixed, random init)
    for seed in li["seeds"]:
        _, _, X, y, ybar = data[seed]
        for label, xi, p, tau in (
            (
                f"masked (xi={li['core_xi']:g}, p={li['core_p']}, tau={li['core_tau']})",
                li["core_xi"],
                li["core_p"],
                li["core_tau"],
            ),
            ("full GD, core parameterisation (xi=1, p=1)", 1.0, 1, 1),
        ):
            for m in li["core_widths"]:
                spec = TrainSpec(
                    m=m,
                    kappa=li["core_kappa"],
                    mask="bernoulli",
                    xi=xi,
                    p=p,
                    tau=tau,
                    eta=li["core_eta"],
                    rounds=li["core_rounds"],
                    loss="mean",
                )
                r = train_core(X, y, spec, [seed])
                rows.append(
                    {
                        "algorithm": label,
                        "seed": seed,
                        "m": m,
                        "rel_loss": float(r.losses[0, -1]) / (n * ybar),
                        "pop_loss": np.nan,
                        "steps": li["core_rounds"] * tau,
                    }
                )
    return pd.DataFrame(rows)
