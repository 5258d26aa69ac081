"""The runs of each experiment (see :mod:`.experiments`): build the batch, train, tabulate.

Every function takes the settings its job reads (:func:`.experiments.job_settings`) and
returns ``{table name: DataFrame}``; seeds are batched, every run's randomness comes from
its own seed (:mod:`.problem`), so a table row does not depend on the other rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from . import engine, problem
from .theory import angle_up_to_sign, angles, network, population_loss_and_grad, teacher


def level_col(level: float) -> str:
    """The run-table column with the first step at which L <= level."""
    return f"T_{level:.0e}"


def nearest_angle(W: np.ndarray, W_star: np.ndarray) -> np.ndarray:
    """theta_i = min_k angle(w_i, w*_k) up to sign, (..., m, d) x (..., r, d) -> (..., m)."""
    t = angle_up_to_sign(angles(torch.as_tensor(W), torch.as_tensor(W_star)))
    return t.min(-1).values.numpy()


def weighted_angle(W: np.ndarray, W_star: np.ndarray) -> np.ndarray:
    """sum_i |w_i|^2 theta_i / sum_i |w_i|^2: the mass-weighted distance to the teachers (..., )."""
    mass = (W * W).sum(-1)
    return (mass * nearest_angle(W, W_star)).sum(-1) / mass.sum(-1)


def pop_loss(W: np.ndarray, W_star: np.ndarray, activation: str = "abs") -> np.ndarray:
    L, _ = population_loss_and_grad(torch.as_tensor(W), torch.as_tensor(W_star), activation, need_grad=False)
    return L.numpy()


def _teachers(cfg, seeds, r=None):
    t = cfg["teacher"]
    return {s: problem.make_teacher(s, r or t["r"], t["d"], t["Delta"], t["w_min"], t["w_max"]) for s in seeds}


def run_local(cfg, ratio: int) -> dict[str, pd.DataFrame]:
    """Experiments 1, 3, 5: GD from near the teachers (problem.split_init) with m = ratio * r."""
    lo, seeds, r = cfg["local"], cfg["seeds"], cfg["teacher"]["r"]
    m = ratio * r
    teach = _teachers(cfg, seeds)
    Ws = np.stack([teach[s] for s in seeds])
    W0 = np.stack([problem.split_init(s, teach[s], m, lo["rho"]) for s in seeds])
    res = engine.train(W0, Ws, eta=lo["eta"], steps=lo["steps"], levels=lo["levels"], n_checkpoints=lo["checkpoints"])
    ang0, ang1 = nearest_angle(W0, Ws), nearest_angle(res.W, Ws)
    runs, traj, neurons = [], [], []
    for i, s in enumerate(seeds):
        row = {"seed": s, "m": m, "ratio": ratio, "steps": lo["steps"], "L0": res.loss[i, 0]}
        row.update(L_final=res.loss[i, -1], diverged=bool(res.diverged[i]), min_ratio=res.min_ratio[i])
        row.update(angle0=weighted_angle(W0[i], Ws[i]), angle_final=weighted_angle(res.W[i], Ws[i]))
        row.update({level_col(lv): int(res.hit[i, j]) for j, lv in enumerate(res.levels)})
        runs.append(row)
        traj += [
            {"seed": s, "m": m, "step": int(k), "loss": res.loss[i, c], "grad": res.grad[i, c]}
            for c, k in enumerate(res.steps)
        ]
        mass0, mass1 = (W0[i] ** 2).sum(-1), (res.W[i] ** 2).sum(-1)
        neurons += [
            {
                "seed": s,
                "m": m,
                "neuron": j,
                "mass0": mass0[j],
                "mass": mass1[j],
                "angle0": ang0[i, j],
                "angle": ang1[i, j],
            }
            for j in range(m)
        ]
    return {"runs": pd.DataFrame(runs), "traj": pd.DataFrame(traj), "neurons": pd.DataFrame(neurons)}


def run_gradient_bound(cfg) -> dict[str, pd.DataFrame]:
    """Experiment 2: min over the GD steps of ||grad L||_F / L for r in ``r`` and teacher norms
    scaled by ``w_scale`` (eta = eta_r_wmax / (r w_max), Theorem 5's eta0 = O(1/(r w_max)))."""
    gb, t, seeds = cfg["gradient_bound"], cfg["teacher"], cfg["seeds"]
    rows = []
    for r in gb["r"]:
        base = _teachers(cfg, seeds, r)
        for sc in gb["w_scale"]:
            w_max = sc * t["w_max"]
            Ws = np.stack([sc * base[s] for s in seeds])
            W0 = np.stack([problem.split_init(s, sc * base[s], gb["ratio"] * r, gb["rho"]) for s in seeds])
            eta = gb["eta_r_wmax"] / (r * w_max)
            res = engine.train(W0, Ws, eta=eta, steps=gb["steps"], n_checkpoints=10)
            for i, s in enumerate(seeds):
                rows.append(
                    {"seed": s, "r": r, "w_scale": sc, "w_max": w_max, "m": gb["ratio"] * r, "eta": eta}
                    | {"L0": res.loss[i, 0], "L_final": res.loss[i, -1], "min_ratio": res.min_ratio[i]}
                    | {"diverged": bool(res.diverged[i])}
                )
    return {"runs": pd.DataFrame(rows)}


def run_claim2(cfg) -> dict[str, pd.DataFrame]:
    """Experiment 4: L of Claim 2's two students and of one student at angle delta, on a
    log grid of delta jittered per seed (a random point in each cell) and embedded in a random
    plane of R^3 (the loss is rotation invariant: the embedding checks that)."""
    c2, rows = cfg["claim2"], []
    edges = np.geomspace(c2["delta_min"], c2["delta_max"], c2["points"] + 1)
    for s in cfg["seeds"]:
        rng = np.random.default_rng([int(s), 5])
        Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            delta = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            W_star, W_two, W_one = (A @ Q.T for A in problem.claim2_pair(delta, 3))
            rows.append(
                {
                    "seed": s,
                    "delta": delta,
                    "L_two": float(pop_loss(W_two[None], W_star[None])[0]),
                    "L_one": float(pop_loss(W_one[None], W_star[None])[0]),
                }
            )
    return {"runs": pd.DataFrame(rows)}


def run_initialisation(cfg) -> dict[str, pd.DataFrame]:
    """Experiment 6: Algorithm 1 (random directions, norms by non-negative least squares),
    then GD; converged: final L <= tol.  ``cover`` is max_k min_i angle(w_i, w*_k)."""
    ini, t, seeds = cfg["initialisation"], cfg["teacher"], cfg["seeds"]
    teach = {s: problem.make_teacher(s, t["r"], ini["d"], t["Delta"], t["w_min"], t["w_max"]) for s in seeds}
    Ws = np.stack([teach[s] for s in seeds])
    rows = []
    for q in ini["ratios"]:
        m = q * t["r"]
        W0 = np.stack([problem.algorithm1(s, teach[s], m) for s in seeds])
        dirs = np.stack([problem.algorithm1_directions(s, m, ini["d"]) for s in seeds])
        cover = nearest_angle(Ws, dirs).max(-1)
        res = engine.train(W0, Ws, eta=ini["eta"], steps=ini["steps"], n_checkpoints=10)
        for i, s in enumerate(seeds):
            rows.append(
                {"seed": s, "ratio": q, "m": m, "L_init": res.loss[i, 0], "L_final": res.loss[i, -1]}
                | {"cover": cover[i], "diverged": bool(res.diverged[i])}
                | {"converged": bool(res.loss[i, -1] <= ini["tol"]) and not bool(res.diverged[i])}
            )
    return {"runs": pd.DataFrame(rows)}


def run_samples(cfg) -> dict[str, pd.DataFrame]:
    """Experiment 7: SGD with N fresh samples per step (Theorem 7) from near the teachers,
    and population GD (N = inf) from the same start; the final population loss."""
    sa, seeds, r = cfg["samples"], cfg["seeds"], cfg["teacher"]["r"]
    teach = _teachers(cfg, seeds)
    Ws = np.stack([teach[s] for s in seeds])
    W0 = np.stack([problem.split_init(s, teach[s], sa["ratio"] * r, sa["rho"]) for s in seeds])
    rows = []
    for N in [*sorted(sa["batch"]), None]:
        sample_seeds = None if N is None else [hash_seed(s, N) for s in seeds]
        res = engine.train(
            W0, Ws, eta=sa["eta"], steps=sa["steps"], batch=N, sample_seeds=sample_seeds, n_checkpoints=10
        )
        for i, s in enumerate(seeds):
            rows.append(
                {"seed": s, "N": math.inf if N is None else N, "L0": res.loss[i, 0], "L_final": res.loss[i, -1]}
                | {"diverged": bool(res.diverged[i])}
            )
    return {"runs": pd.DataFrame(rows)}


def hash_seed(seed: int, n: int) -> int:
    """The torch sample seed of run ``seed`` at batch size ``n`` (distinct per pair)."""
    return int(np.random.default_rng([int(seed), 6, int(n)]).integers(2**62))


REGIMES = ("large_scale", "small_scale", "local")


def run_figure1(cfg) -> dict[str, pd.DataFrame]:
    """Experiment 8 (Figure 1): d = 2, m students, r teachers; three starts: Gaussian with a
    large scale (step eta / large_scale^4), Gaussian with a small scale, and near the teachers
    (split_init with rho)."""
    f1, t, seeds = cfg["figure1"], cfg["teacher"], cfg["seeds"]
    teach = {s: problem.make_teacher(s, f1["r"], 2, f1["Delta"], t["w_min"], t["w_max"]) for s in seeds}
    Ws = np.stack([teach[s] for s in seeds])
    runs, traj = [], []
    for regime in REGIMES:
        if regime == "local":
            W0 = np.stack([problem.split_init(s, teach[s], f1["m"], f1["rho"]) for s in seeds])
        else:
            W0 = np.stack([problem.gaussian_init(s, f1["m"], 2, f1[regime]) for s in seeds])
        # the large start's gradient is ~ large_scale^4 times larger (f is 2-homogeneous and the
        # residual grows with f): its step is eta / large_scale^4, so no neuron overshoots through 0
        eta = f1["eta"] / (f1["large_scale"] ** 4 if regime == "large_scale" else 1.0)
        res = engine.train(W0, Ws, eta=eta, steps=f1["steps"], n_checkpoints=40, keep_traj=True)
        for i, s in enumerate(seeds):
            runs.append(
                {"seed": s, "regime": regime, "L0": res.loss[i, 0], "L_final": res.loss[i, -1]}
                | {"angle_final": weighted_angle(res.W[i], Ws[i]), "diverged": bool(res.diverged[i])}
            )
            for c, k in enumerate(res.steps):
                traj += [
                    {
                        "seed": s,
                        "regime": regime,
                        "step": int(k),
                        "neuron": j,
                        "x": res.traj[i, c, j, 0],
                        "y": res.traj[i, c, j, 1],
                    }
                    for j in range(f1["m"])
                ]
        for s in seeds:
            traj += [
                {"seed": s, "regime": "teacher", "step": -1, "neuron": k, "x": teach[s][k, 0], "y": teach[s][k, 1]}
                for k in range(f1["r"])
            ]
    return {
        "runs": pd.DataFrame(runs),
        "traj": pd.DataFrame(traj).drop_duplicates(["seed", "regime", "step", "neuron"]),
    }


def run_claim1(cfg) -> dict[str, pd.DataFrame]:
    """Claim 1 / Appendix A.2: the ReLU counterexample per seed: closed-form ReLU and |.| losses,
    a Monte Carlo check of the ReLU loss, and each student's angle (not up to sign) to the
    nearest teacher."""
    d, rows = cfg["teacher"]["d"], []
    for s in cfg["seeds"]:
        W_star, W = problem.claim1_counterexample(s, d)
        X = torch.as_tensor(np.random.default_rng([int(s), 7]).standard_normal((20000, d)))
        Wt, Wst = torch.as_tensor(W), torch.as_tensor(W_star)
        mc = 0.5 * float(((network(Wt, X, "relu") - teacher(Wst, X, "relu")) ** 2).mean())
        signed = angles(Wt, Wst).min(-1).values.numpy()
        rows.append(
            {"seed": s, "L_relu": float(pop_loss(W[None], W_star[None], "relu")[0]), "L_relu_mc": mc}
            | {"L_abs": float(pop_loss(W[None], W_star[None])[0]), "min_angle_relu": float(signed.min())}
            | {"teacher_scale": float(pop_loss(np.zeros_like(W)[None], W_star[None], "relu")[0])}
        )
    return {"runs": pd.DataFrame(rows)}


def signed_angle(W: np.ndarray, W_star: np.ndarray) -> np.ndarray:
    """The mass-weighted angle to the nearest teacher *with* sign (t in [0, pi], w and -w
    differ): what a ReLU network can tell apart, (..., m, d) x (..., r, d) -> (...)."""
    mass = (W * W).sum(-1)
    t = angles(torch.as_tensor(W), torch.as_tensor(W_star)).min(-1).values.numpy()
    return (mass * t).sum(-1) / mass.sum(-1)


#: model label -> activation of the relu_variant experiment (the ReLU model is a variant, not
#: the paper's model)
MODELS = {"abs (paper)": "abs", "ReLU variant": "relu"}


def run_relu_variant(cfg) -> dict[str, pd.DataFrame]:
    """The ReLU variant (Appendix A.1) beside the paper's |.| model: GD on the population loss of
    each from the same split start (m = ratio * r, random signs) against the same teachers.
    By Appendix A.1 the ReLU loss is L_abs / 4 + |sum_i |w_i| w_i - sum_k w*_k|^2 / 8, so the
    ReLU variant's step is 4 eta (the same step on its |.| part)."""
    rv, seeds, r = cfg["relu_variant"], cfg["seeds"], cfg["teacher"]["r"]
    m = rv["ratio"] * r
    teach = _teachers(cfg, seeds)
    Ws = np.stack([teach[s] for s in seeds])
    W0 = np.stack([problem.split_init(s, teach[s], m, rv["rho"]) for s in seeds])
    runs, traj = [], []
    for model, act in MODELS.items():
        eta = rv["eta"] * (4.0 if act == "relu" else 1.0)
        res = engine.train(W0, Ws, eta=eta, steps=rv["steps"], n_checkpoints=40, activation=act)
        U = (np.linalg.norm(res.W, axis=-1, keepdims=True) * res.W).sum(-2)
        for i, s in enumerate(seeds):
            runs.append(
                {"seed": s, "model": model, "activation": act, "m": m, "eta": eta, "L0": res.loss[i, 0]}
                | {"L_final": res.loss[i, -1], "diverged": bool(res.diverged[i])}
                | {"angle0": weighted_angle(W0[i], Ws[i]), "signed_angle0": signed_angle(W0[i], Ws[i])}
                | {"angle_final": weighted_angle(res.W[i], Ws[i]), "signed_angle_final": signed_angle(res.W[i], Ws[i])}
                | {"linear_residual": float(np.linalg.norm(U[i] - Ws[i].sum(0)))}
            )
            traj += [
                {"seed": s, "model": model, "activation": act, "step": int(k), "loss": res.loss[i, c]}
                for c, k in enumerate(res.steps)
            ]
    return {"runs": pd.DataFrame(runs), "traj": pd.DataFrame(traj)}


def masked_ntk_gram(X: np.ndarray, xi: float) -> np.ndarray:
    """H_inf(xi) of the masked study for rows of any norm: xi <x_i, x_j> (pi - arccos c_ij) / (2 pi),
    c_ij the cosine (maskedntk.studies.masked.theory.ntk_gram is the unit-row case)."""
    n = np.linalg.norm(X, axis=1)
    G = X @ X.T
    c = np.clip(G / np.outer(n, n), -1.0, 1.0)
    np.fill_diagonal(c, 1.0)
    return xi * G * (math.pi - np.arccos(c)) / (2.0 * math.pi)


def run_masked_link(cfg) -> dict[str, pd.DataFrame]:
    """The masked-neuron algorithm (maskedntk.studies.masked.engine.train: Bernoulli(xi) masks,
    p subnetworks, tau local steps, ReLU student with fixed +-1 output weights) on data labelled
    by this study's teacher: x ~ N(0, I_d) (n training and n_test test samples, run ``seed``'s
    own draws), y = f*(x) = sum_k |w*_k . x|.  One run per (seed, width m); the step is
    eta_scale / (c lambda_max(H_inf(xi))) (the masked study's 'lambda_max' rule, H_inf for
    Gaussian rows).  Errors are relative: ||y - xi f(W_K, X)||^2 / ||y||^2."""
    from maskedntk.studies.masked import engine as masked_engine
    from maskedntk.studies.masked.spec import TrainSpec
    from maskedntk.studies.masked.stepsize import surrogate_ntk_factor

    ml, seeds = cfg["masked_link"], cfg["seeds"]
    teach = _teachers(cfg, seeds)
    d = cfg["teacher"]["d"]
    rows = []
    for s in seeds:
        rng = np.random.default_rng([int(s), 8, int(d)])
        X, Xt = rng.standard_normal((ml["n"], d)), rng.standard_normal((ml["n_test"], d))
        y, yt = np.abs(X @ teach[s].T).sum(1), np.abs(Xt @ teach[s].T).sum(1)
        for m in ml["widths"]:
            spec = TrainSpec(m=m, mask="bernoulli", xi=ml["xi"], p=ml["p"], tau=ml["tau"], rounds=ml["rounds"])
            lam_max = float(np.linalg.eigvalsh(masked_ntk_gram(X, spec.xi_eff))[-1])
            spec = spec.replace(eta=ml["eta_scale"] / (surrogate_ntk_factor(spec, ml["n"], 1) * lam_max))
            res = masked_engine.train(X, y, spec, [s], return_weights=True)
            W, a = res.weights[0], res.second_layer[0]
            ft = spec.xi_eff * (np.maximum(Xt @ W.T, 0.0) @ a)[:, 0] / math.sqrt(m)
            rows.append(
                {"seed": s, "m": m, "n": ml["n"], "eta": spec.eta, "rounds": int(res.rounds_run[0])}
                | {"train_error0": res.losses[0, 0] / float(y @ y), "train_error": res.losses[0, -1] / float(y @ y)}
                | {"test_error": float(((yt - ft) ** 2).sum() / (yt @ yt)), "diverged": bool(res.diverged[0])}
            )
    return {"runs": pd.DataFrame(rows)}
