"""Each job's memory (MB) and time (seconds of one core), estimated from the settings it runs.

The workflow declares them to Snakemake (``mem_mb``, ``runtime``) and refuses a configuration
whose job cannot fit before any job starts (:mod:`maskedntk.core.resources`).

Time.  One gradient-descent step on the population risk of S seeds at width m, teacher width
m*, dimension d costs the products W^T W, W (W^T W), V^T W and V (V^T W):

    t_step = STEP_SECONDS + UNIT_SECONDS * S d m (m + m*),

calibrated on the default run (config/quadratic.yaml, measured 2026-12-02 on the 2-core
development machine with two jobs at a time; the cumulative times per d in
logs/quadratic/flow_*.log and rates_*.log): 4000 steps at d = 20 take 0.5 s (the fixed
cost, 125 us a step) and 16000 steps at d = 80, m = m* = 40 take 6.5 s (2.2e-10 s per unit).
The same constants give the rates jobs (predicted 4.2 and 3.3 s at d = 100, measured 4.4
and 3.3 s).  A step on the empirical risk with n samples adds the products X W, X V and
X^T (r X W), 2.5e-4 s + 5e-10 s per unit S n d (2 m + m*) (logs/quadratic/empirical.log:
1.9 s for 3200 steps at n = 512, 3.4 s at n = 1024, d = 16); a masked round adds the masks'
generators, 7e-5 s per seed (logs/quadratic/masked.log: 0.5 ms a round at tau = 1, 0.9 ms
at tau = 4, 2.8 ms at tau = 16, p = 4, S = 5); the spectrum costs 2e-10 s per unit
d m^2 + m^3 (0.2 s at d = 2000, m = 600); the d = infinity curves 1.25e-6 s per
quadrature node and grid point of each regime (3.4 s at 1500 nodes, 300 + 300 points).

Memory.  A job holds its arrays (float64; three times their size for the temporaries of
the products) on top of the process (python, torch, pandas: 330 MB resident, measured with
``/usr/bin/time -f %M python -c "import torch, pandas, scipy.integrate, pyarrow"``), counted
as BASE_MB = 600.  Only the spectrum (d x m Gaussian, m x m pencil), the rates' d x d
matrices and the empirical samples X (S x n x d) grow beyond a few MB at the shipped scales.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ...core.runs import Estimate
from .experiments import REGIMES, n_steps_gamma, widths

#: the resident memory of a job's process before its arrays (MB)
BASE_MB = 600
#: temporaries per array element held (the products' intermediate results)
TEMPORARIES = 3
#: fixed cost of one GD step (s): python and the dozen torch calls
STEP_SECONDS = 1.25e-4
#: cost of one unit S d m (m + m*) of a population GD step (s)
UNIT_SECONDS = 2.2e-10
#: fixed cost and cost per unit S n d (2 m + m*) of an empirical-risk GD step (s)
EMPIRICAL_STEP_SECONDS, EMPIRICAL_UNIT_SECONDS = 2.5e-4, 5e-10
#: cost of a masked round's mask generators, per seed (s)
ROUND_SECONDS_PER_SEED = 7e-5
#: cost per unit d m^2 + m^3 of the spectrum (s)
SPECTRUM_UNIT_SECONDS = 2e-10
#: cost per quadrature node and grid point of one regime's d = infinity curves (s)
LIMIT_UNIT_SECONDS = 1.25e-6
#: claims and figures: read a few tables, draw or test (s)
LIGHT_SECONDS = 30


def gd_seconds(steps: int, seeds: int, d: int, m: int, m_star: int) -> float:
    """Time of ``steps`` population GD steps of ``seeds`` problems (the module's t_step)."""
    return steps * (STEP_SECONDS + UNIT_SECONDS * seeds * d * m * (m + m_star))


def _mb(elements: float) -> int:
    """BASE_MB plus ``elements`` float64 values and their temporaries, in MB."""
    return BASE_MB + math.ceil(8 * TEMPORARIES * elements / 2**20)


def _flow(s: Mapping) -> Estimate:
    f, S = s["flow"], s["seeds"]
    a, a_star = s["regimes"][s["regime"]]
    sec, peak = 0.0, 0
    for d in f["dims"]:
        m, ms = widths(d, a, a_star)
        sec += gd_seconds(n_steps_gamma(f["gamma_max"], d, f["eta"]), S, d, m, ms)
        peak = max(peak, S * d * (m + ms))
    return Estimate(_mb(peak), sec)


def _rates(s: Mapping) -> Estimate:
    r, S = s["rates"], s["seeds"]
    a, a_star = r[s["regime"]]
    steps = math.ceil(r["t_max"] / r["eta"] - 1e-9)
    sec = sum(gd_seconds(steps, S, d, *widths(d, a, a_star)) for d in r["dims"])
    return Estimate(_mb(2 * S * max(r["dims"]) ** 2), sec)  # the d x d matrices of the dense loss


def _phase(s: Mapping) -> Estimate:
    ph, S, d = s["phase"], s["seeds"], s["phase"]["d"]
    cells = [widths(d, a, ph["alpha_star"]) for a in ph["alphas"]]
    steps = n_steps_gamma(ph["gamma_max"], d, ph["eta"])
    return Estimate(
        _mb(max(S * d * (m + ms) for m, ms in cells)), sum(gd_seconds(steps, S, d, m, ms) for m, ms in cells)
    )


def _empirical(s: Mapping) -> Estimate:
    e, S, d = s["empirical"], s["seeds"], s["empirical"]["d"]
    m, ms = widths(d, e["alpha"], e["alpha_star"])
    steps = n_steps_gamma(e["gamma_max"], d, e["eta"])
    ns = [max(1, round(r * d * d)) for r in e["n_over_d2"]]
    per_n = [steps * (EMPIRICAL_STEP_SECONDS + EMPIRICAL_UNIT_SECONDS * S * n * d * (2 * m + ms)) for n in ns]
    return Estimate(_mb(S * max(ns) * (d + 2 * m + ms)), gd_seconds(steps, S, d, m, ms) + sum(per_n))


def _masked(s: Mapping) -> Estimate:
    c, S, d = s["masked"], s["seeds"], s["masked"]["d"]
    m, ms = widths(d, c["alpha"], c["alpha_star"])
    steps = n_steps_gamma(c["gamma_max"], d, c["eta"])
    runs = {(tau, c["xi"]) for tau in c["taus"]} | {(c["xi_sweep_tau"], xi) for xi in c["xis"]}
    sec = gd_seconds(steps, S, d, m, ms)
    for tau, _ in runs:
        rounds = max(1, math.ceil(steps / tau))
        local = gd_seconds(tau, S * c["p"], d, m, ms)
        sec += rounds * (ROUND_SECONDS_PER_SEED * S + local)
    return Estimate(_mb(S * c["p"] * d * (m + ms)), sec)


def _spectrum(s: Mapping) -> Estimate:
    sp = s["spectrum"]
    m, ms = widths(sp["d"], sp["alpha"], sp["alpha_star"])
    return Estimate(_mb(sp["d"] * m + 3 * m * m), SPECTRUM_UNIT_SECONDS * (sp["d"] * m * m + m**3))


def _limit(s: Mapping) -> Estimate:
    lim, gap = s["limit"], s["gap"]
    points = lim["n_gamma"] + gap["n_gamma"] + 2
    nodes = lim["gaussian_nodes"]
    # the Gaussian solver's states: one value per node at every grid point (and DOP853's 12 stages)
    return Estimate(_mb(nodes * (points + 12)), LIMIT_UNIT_SECONDS * nodes * points * len(REGIMES))


ESTIMATORS = {
    "spectrum": _spectrum,
    "limit": _limit,
    "flow": _flow,
    "rates": _rates,
    "phase": _phase,
    "empirical": _empirical,
    "masked": _masked,
}


def estimate(job: str, settings: Mapping) -> Estimate:
    """The memory and time of ``job`` (a job of ``__main__.JOBS``) run with ``settings`` (its
    part of the configuration, :func:`.experiments.job_settings`)."""
    if job in ESTIMATORS:
        return ESTIMATORS[job](settings)
    return Estimate(BASE_MB, LIGHT_SECONDS)
