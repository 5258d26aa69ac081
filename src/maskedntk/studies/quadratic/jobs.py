"""The simulation jobs the Snakemake rules call (``python -m maskedntk.studies.quadratic JOB
--config SETTINGS --out table=PATH meta=PATH --log FILE``, :mod:`maskedntk.core.jobcli`).

Each job takes a :class:`~maskedntk.core.jobcli.JobArgs` whose settings are the part of
``config['quadratic']`` it reads (:data:`.experiments.READS`, checked by
:func:`.experiments.prepare`), writes one long-format table (parquet, output ``table``)
atomically, logs its progress through the ``maskedntk`` logger and returns its row count, which
goes into the metadata beside the table (``core.jobcli``: job, seconds, provenance, rows).
Table columns of trajectory jobs: setup, regime, d, m, m_star, alpha, alpha_star, eta, seed,
step, t (= eta k), gamma (= eta k / d), loss, trA, phi, overlap (+ job-specific columns).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pandas as pd
import torch

from ...core.atomic import write_frame
from ...core.jobcli import JobArgs
from . import experiments as ex
from .empirical import draw_samples, run_empirical_gd
from .engine import record_steps, run_population_gd
from .masked import run_masked
from .problems import Problem, make_problem

log = logging.getLogger("maskedntk")


def _finish(df: pd.DataFrame, args: JobArgs, t0: float) -> dict:
    """Write the table ``df`` to the output ``table``; its row count for the metadata."""
    out = args.output("table")
    write_frame(out, df)
    log.info("wrote %s (%d rows) in %.1f s", out, len(df), time.perf_counter() - t0)
    return {"rows": len(df)}


def _traj_frame(traj, prob, eta: float, **cols) -> pd.DataFrame:
    S, T = traj.loss.shape
    steps = np.tile(traj.steps, S)
    df = pd.DataFrame(
        {
            "setup": prob.setup,
            "d": prob.d,
            "m": prob.m,
            "m_star": prob.m_star,
            "alpha": prob.m / prob.d,
            "alpha_star": prob.m_star / prob.d,
            "eta": eta,
            "seed": np.repeat(np.asarray(prob.seeds), T),
            "step": steps,
            "t": eta * steps,
            "gamma": eta * steps / prob.d,
            "loss": traj.loss.ravel(),
            "trA": traj.trA.ravel(),
            "phi": traj.phi.ravel(),
            "overlap": traj.overlap.ravel(),
        }
    )
    for k, v in cols.items():
        df[k] = v
    return df


def _masked_frame(prob, eta: float, tau: int, p: int, xi: float, rounds, loss, overlap) -> pd.DataFrame:
    """The rows of one scheme of the masked job (tau = 0: full GD, one step a round): loss and
    overlap (S, T) at ``rounds`` (T,), gamma = eta (local steps) / d."""
    S, T = len(prob.seeds), len(rounds)
    return pd.DataFrame(
        {
            "tau": tau,
            "p": p,
            "xi": xi,
            "seed": np.repeat(prob.seeds, T),
            "round": np.tile(rounds, S),
            "gamma": np.tile(rounds, S) * eta * max(tau, 1) / prob.d,
            "loss": loss.ravel(),
            "overlap": overlap.ravel(),
        }
    )


def _setup(args: JobArgs) -> dict:
    """The job's settings (checked at the command line), torch's threads set from them."""
    torch.set_num_threads(args.settings["threads"])
    return args.settings


def _one_cell(args: JobArgs, section: str) -> tuple[dict, dict, Problem, int]:
    """The settings, their ``section`` (keys d, alpha, alpha_star, eta, gamma_max), the
    orthonormal problem of that cell (all seeds) and the number of steps up to gamma_max."""
    cfg = _setup(args)
    c = cfg[section]
    m, ms = ex.widths(c["d"], c["alpha"], c["alpha_star"])
    prob = make_problem("orthonormal", c["d"], m, ms, ex.seeds(cfg), base_seed=cfg["base_seed"])
    return cfg, c, prob, ex.n_steps_gamma(c["gamma_max"], c["d"], c["eta"])


# ---------------------------------------------------------------------------------------


def spectrum(args: JobArgs) -> dict:
    """Fig. 1: eigenvalues of Y = U^T U* U*^T U at d = spectrum.d."""
    from . import theory  # scipy.integrate: imported only by the jobs that need it

    t0 = time.perf_counter()
    cfg = _setup(args)
    s = cfg["spectrum"]
    rng = np.random.default_rng([cfg["base_seed"], s["d"], 5])
    ev = theory.sample_spectrum(rng, s["d"], s["alpha"], s["alpha_star"])
    df = pd.DataFrame({"eigenvalue": ev, "d": s["d"], "alpha": s["alpha"], "alpha_star": s["alpha_star"]})
    return _finish(df, args, t0)


def limit(args: JobArgs) -> dict:
    """d = infinity curves of every regime: on the flow grid (kind 'flow', log-spaced up to
    flow.gamma_max) and on the gap grid (kind 'gap', linear up to gap.gamma_max), orthonormal
    setup (Prop. 5.1); and phi of the Gaussian setup on the flow grid (kind 'flow_gaussian', with
    log(1 + delta) and, for alpha < alpha*, the late slope of the Marchenko-Pastur formula)."""
    from . import gaussian_limit, theory  # scipy: imported only by the jobs that need it

    t0 = time.perf_counter()
    cfg = _setup(args)
    lim, gap = cfg["limit"], cfg["gap"]
    grids = {
        "flow": np.concatenate([[0.0], np.geomspace(lim["gamma_min"], cfg["flow"]["gamma_max"], lim["n_gamma"])]),
        "gap": np.linspace(0.0, gap["gamma_max"], gap["n_gamma"] + 1),
    }
    frames = []
    for regime in ex.REGIMES:
        a, s = cfg["regimes"][regime]
        G = gaussian_limit.solve_gaussian_limit(a, s, grids["flow"], n_nodes=lim["gaussian_nodes"])
        gauss = {"regime": regime, "kind": "flow_gaussian", "alpha": a, "alpha_star": s, "gamma": G.gamma}
        late = gaussian_limit.late_slope(a, s) if a < s else np.nan
        frames.append(pd.DataFrame({**gauss, "phi": G.phi, "log_u": G.log_u, "late_slope": late}))
        for kind, g in grids.items():
            L = theory.solve_limit(a, s, g)
            frames.append(
                pd.DataFrame(
                    {
                        "regime": regime,
                        "kind": kind,
                        "alpha": a,
                        "alpha_star": s,
                        "gamma": g,
                        "phi": L.phi,
                        "overlap": L.overlap,
                        "log_f": L.log_f,
                        "log_J": L.log_J,
                        "limit_overlap": theory.limiting_overlap(a, s),
                    }
                )
            )
    return _finish(pd.concat(frames, ignore_index=True), args, t0)


def _spectral_slopes(prob: Problem) -> np.ndarray:
    """Per seed, -2 d Sigma_rest / (m + 2) (gaussian_limit.late_slope_finite) when m < m*."""
    if prob.m >= prob.m_star:
        return np.full(len(prob.seeds), np.nan)
    from .gaussian_limit import late_slope_finite

    ev = torch.linalg.eigvalsh(prob.V.transpose(-1, -2) @ prob.V).numpy()  # non-zero eigenvalues of M*
    return np.array([late_slope_finite(e, prob.m, prob.d) for e in ev])


def flow(args: JobArgs) -> dict:
    """Figs. 2-4: population GD in one (setup, regime) at every d of flow.dims, all seeds batched."""
    t0 = time.perf_counter()
    cfg = _setup(args)
    f, setup, regime = cfg["flow"], cfg["setup"], cfg["regime"]
    a, s = cfg["regimes"][regime]
    frames = []
    for d in f["dims"]:
        m, ms = ex.widths(d, a, s)
        prob = make_problem(setup, d, m, ms, ex.seeds(cfg), base_seed=cfg["base_seed"], normalize=True)
        n = ex.n_steps_gamma(f["gamma_max"], d, f["eta"])
        traj = run_population_gd(prob.W0, prob.V, f["eta"], n, record_steps(n, 250, 100))
        df = _traj_frame(traj, prob, f["eta"], regime=regime)
        # late slope of phi set by this seed's teacher spectrum (alpha < alpha*; NaN otherwise)
        df["spectral_slope"] = np.repeat(_spectral_slopes(prob), len(traj.steps))
        frames.append(df)
        log.info("d = %d: %d steps, %.1f s", d, n, time.perf_counter() - t0)
    return _finish(pd.concat(frames, ignore_index=True), args, t0)


def rates(args: JobArgs) -> dict:
    """Fig. 5: Gaussian setup without 1/sqrt(d), t up to rates.t_max; for 'equal' one teacher
    per d shared by the seeds (the paper's choice).  Adds mu, the smallest non-zero eigenvalue
    of M*, per seed.  The loss is computed from the d x d matrix A (no cancellation)."""
    t0 = time.perf_counter()
    cfg = _setup(args)
    r, regime = cfg["rates"], cfg["regime"]
    a, s = r[regime]
    frames = []
    for d in r["dims"]:
        m, ms = ex.widths(d, a, s)
        prob = make_problem(
            "gaussian",
            d,
            m,
            ms,
            ex.seeds(cfg),
            base_seed=cfg["base_seed"],
            normalize=False,
            shared_teacher=(regime == "equal"),
        )
        n = int(math.ceil(r["t_max"] / r["eta"] - 1e-9))
        rec = record_steps(n, 200, 400)
        traj = run_population_gd(prob.W0, prob.V, r["eta"], n, rec, dense_loss=True)
        mu = torch.linalg.eigvalsh(prob.V.transpose(-1, -2) @ prob.V)[:, 0].numpy()
        df = _traj_frame(traj, prob, r["eta"], regime=regime)
        df["mu"] = np.repeat(mu, len(traj.steps))
        frames.append(df)
        log.info("d = %d: %d steps, %.1f s", d, n, time.perf_counter() - t0)
    return _finish(pd.concat(frames, ignore_index=True), args, t0)


def phase(args: JobArgs) -> dict:
    """Recovery sweep: orthonormal setup, alpha over phase.alphas at fixed alpha*, final state."""
    from . import theory  # scipy.integrate: imported only by the jobs that need it

    t0 = time.perf_counter()
    cfg = _setup(args)
    ph = cfg["phase"]
    d = ph["d"]
    frames = []
    for a in ph["alphas"]:
        m, ms = ex.widths(d, a, ph["alpha_star"])
        prob = make_problem("orthonormal", d, m, ms, ex.seeds(cfg), base_seed=cfg["base_seed"])
        n = ex.n_steps_gamma(ph["gamma_max"], d, ph["eta"])
        traj = run_population_gd(prob.W0, prob.V, ph["eta"], n, record_steps(n, 60, 20))
        df = _traj_frame(traj, prob, ph["eta"], regime=f"alpha={m / d:g}")
        df["limit_overlap"] = theory.limiting_overlap(m / d, ms / d)
        frames.append(df)
    return _finish(pd.concat(frames, ignore_index=True), args, t0)


def empirical(args: JobArgs) -> dict:
    """Beyond the paper: GD on the empirical risk with n = ratio d^2 samples, beside the
    population flow from the same teachers and initialisations (n = 0 rows: population)."""
    t0 = time.perf_counter()
    cfg, e, prob, n_steps = _one_cell(args, "empirical")
    d, m, ms = prob.d, prob.m, prob.m_star
    rec = record_steps(n_steps, 120, 60)
    pop = run_population_gd(prob.W0, prob.V, e["eta"], n_steps, rec)
    df = _traj_frame(pop, prob, e["eta"], n=0, n_over_d2=np.inf, train=np.nan)
    frames = [df]
    for ratio in e["n_over_d2"]:
        n = max(1, int(round(ratio * d * d)))
        X = draw_samples(cfg["base_seed"], prob.seeds, d, m, ms, n)
        traj, train = run_empirical_gd(prob.W0, prob.V, X, e["eta"], n_steps, rec)
        frames.append(_traj_frame(traj, prob, e["eta"], n=n, n_over_d2=n / d**2, train=train.ravel()))
        log.info("n = %d: %.1f s", n, time.perf_counter() - t0)
    return _finish(pd.concat(frames, ignore_index=True), args, t0)


def masked(args: JobArgs) -> dict:
    """Beyond the paper: masked training for every tau in masked.taus at xi = masked.xi, and for
    every xi in masked.xis at tau = masked.xi_sweep_tau, beside full GD (tau = 0 rows);
    gamma = eta tau k / d counts local steps."""
    t0 = time.perf_counter()
    cfg, c, prob, n_steps = _one_cell(args, "masked")
    d, m, ms = prob.d, prob.m, prob.m_star
    full = run_population_gd(prob.W0, prob.V, c["eta"], n_steps, record_steps(n_steps, 100, 100))
    rows = [_masked_frame(prob, c["eta"], 0, 1, 1.0, full.steps, full.loss, full.overlap)]
    runs = [(tau, c["xi"]) for tau in c["taus"]]
    runs += [(c["xi_sweep_tau"], xi) for xi in c["xis"] if (c["xi_sweep_tau"], xi) not in runs]
    for tau, xi in runs:
        rounds = max(1, int(math.ceil(n_steps / tau)))
        res = run_masked(
            prob.W0,
            prob.V,
            eta=c["eta"],
            rounds=rounds,
            p=c["p"],
            tau=tau,
            xi=xi,
            seeds=prob.seeds,
            base_seed=cfg["base_seed"],
            record_every=max(1, rounds // 200),
        )
        rows.append(_masked_frame(prob, c["eta"], tau, c["p"], xi, res["round"], res["loss"], res["overlap"]))
        log.info("tau = %d, xi = %g: %d rounds, %.1f s", tau, xi, rounds, time.perf_counter() - t0)
    df = pd.concat(rows, ignore_index=True)
    df["d"], df["m"], df["m_star"], df["eta"] = d, m, ms, c["eta"]
    return _finish(df, args, t0)
