"""Predict a cell's error neighbourhood from the data and the initialisation alone.

This is the project's own derivation, not the paper's (docs/masked/prediction.md).  Nothing
here runs Algorithm 1 and no constant is fitted to training runs: the prediction uses X, y,
the initialisation (W_0, a) of the seed (:func:`engine.init_params`) and the cell's settings
(mask kind, p, xi, tau, eta, m, kappa, K).

Model (lazy regime).  With the activation patterns frozen at their initial values,
D_r = diag(1{X w_r(0) >= 0}), neuron r contributes c_r = (a_r / sqrt(m)) D_r X w_r to
f = sum_r c_r, and a local GD step of subnetwork l moves a held neuron's contribution by
(eta / m) K_r (y - f_l), K_r = D_r X X^T D_r.  One round of Algorithm 1 is then exactly

    c_r <- c_r + (eta / m) K_r sum_l (M_lr / X_r) S_l (e - nu_l),
    S_l = sum_{t < tau} (I - eta H_l)^t,  H_l = (1/m) sum_r M_lr K_r,
    e = y - xi f (tracked residual),  nu_l = f_l - xi f = sum_r (M_lr - xi) c_r.

The predictor is a moment closure of this recursion (docs/masked/prediction.md has every
step and every approximation):

* mean: every neuron's contribution follows its expected update, with S_l replaced by
  S = sum_t (I - eta xi H)^t, H = (1/m) sum_r K_r the empirical kernel at initialisation:
  c_r <- c_r + (eta / m) theta K_r S (e_bar - (1 - xi) c_r).  The term -(1 - xi) c_r is each
  neuron's own share of nu_l (its "self-noise"): averaged over masks it is the dropout
  penalty xi (1 - xi) sum_r ||c_r||^2, which shrinks the contributions during training;
* neuron fluctuations: the rest of nu_l, averaged over the subnetworks that hold r, has
  covariance xi (1 - xi) alpha_d C per neuron (C = sum_r c_r c_r^T, alpha_d = E[1{X>=1}/X]),
  of which xi (1 - xi) alpha_o C is shared by all neurons (it is the residual's fluctuation,
  which the residual feedback removes again); the neuron-specific part
  xi (1 - xi) (alpha_d - alpha_o) C is injected into a sample of neurons (Gaussian, seeded)
  that decay like the mean;
* residual fluctuations: Sigma <- A Sigma A^T + Q_k with A = I - theta P,
  P = I - (I - eta xi H)^tau, and Q_k = xi (1 - xi) alpha_o P C_k P (Bernoulli masks,
  alpha_o = theta^2 / p), or, for categorical masks (sum_l nu_l = 0: no first-order noise),
  Q_k = xi^3 (1 - xi) (1/m^2) sum_r dP[K_r] C_k dP[K_r]^T with dP the derivative of
  P_l = I - (I - eta H_l)^tau (the correlation of each subnetwork's kernel with its own noise);
* prediction: L_k = ||e_bar_k||^2 + tr Sigma_k, averaged over the window of
  :func:`stationarity.stationarity_test` (the last half of K rounds), the window in which
  the measured plateau is taken.

Also here, for the validation ladder (tests/test_prediction.py):
:func:`simulate_linear_recursion` (Monte Carlo of the linear recursion with the contributions
fixed at initialisation, exact masks) with its moments :func:`linear_recursion_moments`, and
:func:`train_frozen_patterns` (the network with frozen activation patterns, trained exactly by
Algorithm 1 with the engine's masks).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .engine import init_params
from .masks import sample_masks
from .rng import generator
from .spec import TrainSpec
from .stationarity import stationarity_window

#: stream id of the predictor's own Gaussian draws (distinct from data/init/mask streams 0..2)
STREAM_PREDICTION = 7
#: default number of neurons whose fluctuations are tracked (the rest are represented by them)
NEURON_SAMPLE = 256
#: default number of neurons that estimate the kernel-fluctuation term D(C) each round
KERNEL_SAMPLE = 64
#: rounds per update of the neurons' expected contributions (the residual recursion runs every round)
BLOCK = 4

METHODS = ("moment_closure", "first_order_initial")


@dataclass(frozen=True)
class Prediction:
    """The predicted error neighbourhood of one cell and seed.

    plateau_predicted : mean of the predicted L_k over the stationarity window (last half).
    rate_predicted : predicted per-round contraction factor of L_k - plateau: the slowest
        mode of the mean recursion, rho(A)^2 = (1 - theta (1 - (1 - eta xi lambda_min(H))^tau))^2.
    noise_first_order : window mean of tr Sigma from the first-order mask noise alpha_o P C P.
    noise_kernel : window mean of tr Sigma from the kernel-fluctuation term (alpha_d - alpha_o) D(C).
    mean_term : window mean of ||e_bar_k||^2 (the bias the dropout penalty leaves).
    trace_C0, trace_C_window : tr C at initialisation and its window mean.
    trajectory : predicted L_0..L_K.
    method : 'moment_closure' (default) or 'first_order_initial' (the issue's sketch:
        stationary Lyapunov solution with the initial contributions, no evolution).
    window : (first, last) rounds averaged.
    seconds : wall time of the prediction.
    """

    plateau_predicted: float
    rate_predicted: float
    noise_first_order: float
    noise_kernel: float
    mean_term: float
    trace_C0: float
    trace_C_window: float
    method: str
    window: tuple[int, int]
    seconds: float
    trajectory: np.ndarray = field(repr=False, compare=False)

    def as_row(self) -> dict:
        """The scalar fields, for a table row."""
        return {
            "plateau_predicted": self.plateau_predicted,
            "rate_predicted": self.rate_predicted,
            "noise_first_order": self.noise_first_order,
            "noise_kernel": self.noise_kernel,
            "mean_term": self.mean_term,
            "trace_C0": self.trace_C0,
            "trace_C_window": self.trace_C_window,
            "prediction_method": self.method,
            "prediction_seconds": self.seconds,
        }


# ----------------------------------------------------------------------------------------
# settings and the quantities at initialisation
# ----------------------------------------------------------------------------------------


def resolve_settings(X, y, settings, eta: float | None = None) -> TrainSpec:
    """A TrainSpec with the cell's eta.

    ``settings``: a TrainSpec (its eta is used unless ``eta`` is given), a cell dict as in the
    workflow (``parse_cell``), or a CellConfig; for a cell, eta comes from its step rule on
    (X, y) unless ``eta`` is given."""
    if isinstance(settings, TrainSpec):
        return settings if eta is None else settings.replace(eta=float(eta))
    from .cellconfig import CellConfig, parse_cell

    cell = parse_cell(settings) if isinstance(settings, dict) else settings
    if not isinstance(cell, CellConfig):
        raise ValueError(f"settings = {settings!r}: give a TrainSpec, a cell dict or a CellConfig")
    spec = cell.spec
    if eta is not None:
        return spec.replace(eta=float(eta))
    from . import theory
    from .stepsize import resolve_eta

    Xn = np.asarray(X, dtype=np.float64)
    Yn = np.asarray(y, dtype=np.float64).reshape(Xn.shape[0], -1)
    lam0, lmax = theory.ntk_spectrum(Xn, spec.xi_eff)
    return spec.replace(
        eta=resolve_eta(cell.eta, spec, n=Xn.shape[0], d_out=Yn.shape[1], lambda0=lam0, lambda_max=lmax)
    )


def _check_supported(spec: TrainSpec, y: np.ndarray) -> None:
    if y.shape[1] != 1:
        raise ValueError(f"y has {y.shape[1]} columns: the predictor is for scalar labels (d_out = 1)")
    bad = {
        k: getattr(spec, k)
        for k, v in (("surrogate", "paper"), ("aggregation", "paper"), ("loss", "sum"), ("output_scale", "sqrt_m"))
        if getattr(spec, k) != v
    }
    if bad:
        raise ValueError(f"the predictor covers the paper's conventions only; this cell sets {bad}")


def initial_contributions(X, spec: TrainSpec, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(P0, c0): P0 (n, m) the initial activation patterns 1{<w_r, x_i> >= 0} (sigma'(0) = 1
    convention; relu_grad_at_zero only matters on a null set), c0 (n, m) with column r the
    contribution c_r = (a_r / sqrt(m)) relu(X w_r(0)) of neuron r to f(W_0, X)."""
    X = np.asarray(X, dtype=np.float64)
    W0, a = init_params(spec, seed, X.shape[1], 1)
    Z = X @ W0.T
    P0 = (Z >= 0).astype(np.float64)
    c0 = P0 * Z * (a[:, 0] / math.sqrt(spec.m))[None, :]
    return P0, c0


def weighted_kernel(G: np.ndarray, P0: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_r w_r K_r = (X X^T) * (P0 diag(w) P0^T) (elementwise), K_r = D_r X X^T D_r.

    w may be (m,) or (B, m) (then the result is (B, n, n))."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 1:
        return G * ((P0 * w[None, :]) @ P0.T)
    return G[None] * np.matmul(P0[None] * w[:, None, :], P0.T[None])


def mask_moments(mask: str, p: int, xi: float) -> tuple[float, float, float]:
    """(theta, alpha_d, alpha_o), exact:

    theta = P(X_r >= 1) = E[sum_l M_lr / X_r];  alpha_d = E[1{X_r >= 1} / X_r] = E[sum_l (M_lr/X_r)^2];
    alpha_o = E[sum_l (M_lr / X_r)(M_ls / X_s)] for r != s (theta^2 / p for Bernoulli masks).
    Categorical masks: (1, 1, 1/p) with the first-order noise cancelling exactly (sum_l nu_l = 0),
    which the caller handles by alpha_o -> 0 (see the docs)."""
    if mask == "categorical":
        return 1.0, 1.0, 1.0 / p
    from scipy.stats import binom

    x = np.arange(1, p + 1)
    theta = 1.0 - (1.0 - xi) ** p
    alpha_d = float(np.sum(binom.pmf(x, p, xi) / x))
    return theta, alpha_d, theta * theta / p


@dataclass
class _Init:
    G: np.ndarray  # X X^T
    P0: np.ndarray
    c0: np.ndarray
    H: np.ndarray  # (1/m) sum_r K_r
    S: np.ndarray  # sum_t (I - eta xi H)^t
    P: np.ndarray  # I - (I - eta xi H)^tau = eta xi H S
    A: np.ndarray  # I - theta P
    theta: float
    alpha_d: float
    alpha_o: float  # the effective first-order coefficient (0 for categorical masks)
    xi: float


def _init_quantities(X, y, spec: TrainSpec, seed: int) -> _Init:
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    G = X @ X.T
    P0, c0 = initial_contributions(X, spec, seed)
    H = weighted_kernel(G, P0, np.full(spec.m, 1.0 / spec.m))
    xi = spec.xi_eff
    A1 = np.eye(n) - spec.eta * xi * H
    S = np.zeros((n, n))
    T = np.eye(n)
    for _ in range(spec.tau):
        S += T
        T = T @ A1
    P = np.eye(n) - T
    theta, alpha_d, alpha_o = mask_moments(spec.mask, spec.p, xi)
    if spec.mask == "categorical":
        alpha_o = 0.0  # sum_l nu_l = 0 exactly: no first-order noise
    return _Init(G, P0, c0, H, S, P, np.eye(n) - theta * P, theta, alpha_d, alpha_o, xi)


def _chol(C: np.ndarray) -> np.ndarray:
    n = C.shape[0]
    jitter = 1e-12 * max(float(np.trace(C)) / n, 1e-300)
    return np.linalg.cholesky(C + jitter * np.eye(n))


def _rho_rate(q: _Init, spec: TrainSpec) -> float:
    lam_min = float(np.linalg.eigvalsh(q.H)[0])
    r = 1.0 - q.theta * (1.0 - (1.0 - spec.eta * q.xi * lam_min) ** spec.tau)
    return r * r


# ----------------------------------------------------------------------------------------
# the predictor
# ----------------------------------------------------------------------------------------


def predict_plateau(
    X,
    y,
    settings,
    seed: int = 0,
    eta: float | None = None,
    *,
    rounds: int | None = None,
    method: str = "moment_closure",
    evolve: bool = True,
    kernel_term: bool = True,
    neuron_sample: int = NEURON_SAMPLE,
    kernel_sample: int = KERNEL_SAMPLE,
    block: int = BLOCK,
    shared_cancels: bool = True,
    window_fraction: float = 0.5,
    min_window: int = 20,
    noise_seed: int = 0,
) -> Prediction:
    """Predicted plateau and contraction factor of a cell (module docstring; docs/masked/prediction.md).

    X (n, d) unit rows, y (n,) or (n, 1); ``settings`` a TrainSpec, a cell dict or a CellConfig
    (:func:`resolve_settings`); ``seed`` the run whose initialisation is used; ``eta``
    overrides the cell's step; ``rounds`` overrides K (the plateau is the mean of the
    predicted L_k over the stationarity window of K rounds, as measured).

    ``evolve=False`` keeps the contributions at their initial values (the linear recursion of
    :func:`simulate_linear_recursion`); ``kernel_term=False`` drops D(C);
    ``shared_cancels=False`` injects the whole per-neuron noise (alpha_d instead of
    alpha_d - alpha_o) into the neurons' fluctuations (docs sec. 3, step 2); ``block`` is the
    number of rounds per update of the neurons' expected contributions.  ``neuron_sample``
    neurons (drawn once from the generator of (seed, STREAM_PREDICTION, noise_seed)) carry the
    neuron fluctuations; all m neurons carry the mean.
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"method = {method!r}: choose one of {METHODS}")
    spec = resolve_settings(X, y, settings, eta)
    X = np.asarray(X, dtype=np.float64)
    y2 = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
    _check_supported(spec, y2)
    y1 = y2[:, 0]
    K = spec.rounds if rounds is None else int(rounds)
    first, last = stationarity_window(K, window_fraction, min_window)
    q = _init_quantities(X, y1, spec, seed)
    n, m = q.c0.shape
    xi, theta = q.xi, q.theta
    C0 = q.c0 @ q.c0.T

    if method == "first_order_initial":
        from scipy.linalg import solve_discrete_lyapunov

        Q = xi * (1 - xi) * q.alpha_o * (q.P @ C0 @ q.P)
        Sig = solve_discrete_lyapunov(q.A, Q)
        L = np.full(K + 1, float(np.trace(Sig)))
        e0 = y1 - xi * q.c0.sum(axis=1)
        L[0] = float(e0 @ e0)
        plateau = float(np.trace(Sig))
        return Prediction(
            plateau_predicted=plateau,
            rate_predicted=_rho_rate(q, spec),
            noise_first_order=plateau,
            noise_kernel=0.0,
            mean_term=0.0,
            trace_C0=float(np.trace(C0)),
            trace_C_window=float(np.trace(C0)),
            method=method,
            window=(first, last),
            seconds=time.perf_counter() - t0,
            trajectory=L,
        )

    beta = spec.eta / m
    rng = generator(seed, STREAM_PREDICTION, noise_seed)
    s = min(int(neuron_sample), m)
    idx = np.sort(rng.choice(m, size=s, replace=False))
    Ps = q.P0[:, idx]
    scale_s = m / s
    inj = math.sqrt(xi * (1 - xi) * (q.alpha_d - (q.alpha_o if shared_cancels else 0.0)))
    # kernel-fluctuation term: categorical masks only (for Bernoulli masks it is O(p / (theta^2 m))
    # of the first-order noise and its parts cancel; docs/masked/prediction.md, approximation A4)
    kcoef = xi**3 * (1 - xi) if (kernel_term and spec.mask == "categorical") else 0.0
    sD = min(int(kernel_sample), m)
    PD = q.P0[:, np.sort(rng.choice(m, size=sD, replace=False))]
    A1 = np.eye(n) - spec.eta * xi * q.H
    j = max(int(block), 1)

    def kernel_D(Lc):
        """(1/m^2) sum_r dP[K_r] C dP[K_r]^T from sD sampled neurons and v ~ N(0, C), with
        dP[K] v = eta sum_t A1^t K A1^(tau-1-t) v (the derivative of P_l = I - (I - eta H_l)^tau)."""
        ws = [Lc @ rng.standard_normal((n, sD))]
        for _ in range(spec.tau - 1):
            ws.append(A1 @ ws[-1])
        Pt = np.tile(PD, (1, spec.tau))
        Kw = Pt * (q.G @ (Pt * np.concatenate(ws, axis=1)))
        acc = Kw[:, :sD]
        for i in range(1, spec.tau):
            acc = A1 @ acc + Kw[:, i * sD : (i + 1) * sD]
        acc = spec.eta * acc
        return (acc @ acc.T) / (m * sD)

    cbar = q.c0.copy()
    dc = np.zeros((n, s))
    e_bar = y1 - xi * cbar.sum(axis=1)
    # the self-noise bias of the mean residual, xi beta theta (1 - xi) sum_r K_r S c_r
    b_self = xi * beta * theta * (1 - xi) * (q.P0 * (q.G @ (q.P0 * (q.S @ q.c0)))).sum(axis=1)
    Sig1 = np.zeros((n, n))
    Sig2 = np.zeros((n, n))
    L = np.empty(K + 1)
    mean_t = np.empty(K + 1)
    n1 = np.empty(K + 1)
    n2 = np.empty(K + 1)
    trC = np.empty(K + 1)
    C = C0
    Lc = _chol(C)
    Q1 = xi * (1 - xi) * q.alpha_o * (q.P @ C @ q.P)
    Q2 = kcoef * kernel_D(Lc) if kcoef else None
    E_sum = np.zeros(n)
    for k in range(K + 1):
        if evolve and k > 0 and k % j == 0:
            # end of a block of j rounds: every neuron's expected update over the block (the
            # residual part exactly, summed over the block; the self-noise decay and the
            # injected neuron noise by one step of length j), then the block's C, Q
            U = np.concatenate(
                [
                    theta * (E_sum[:, None] - j * (1 - xi) * cbar),
                    -j * theta * (1 - xi) * dc,
                    math.sqrt(j) * inj * (Lc @ rng.standard_normal((n, s))),
                ],
                axis=1,
            )
            Pw = np.concatenate([q.P0, Ps, Ps], axis=1)
            V = Pw * (q.G @ (Pw * (q.S @ U)))
            if xi < 1.0:
                decay = theta * (m * (q.H @ (q.S @ E_sum))) - V[:, :m].sum(axis=1)  # = j theta (1-xi) sum_r K_r S c_r
                b_self = xi * beta * decay / j
            cbar += beta * V[:, :m]
            dc += beta * (V[:, m : m + s] + V[:, m + s :])
            e_bar = y1 - xi * cbar.sum(axis=1)
            C = cbar @ cbar.T + scale_s * (dc @ dc.T)
            Lc = _chol(C)
            Q1 = xi * (1 - xi) * q.alpha_o * (q.P @ C @ q.P)
            if kcoef:
                Q2 = kcoef * kernel_D(Lc)
            E_sum = np.zeros(n)
        mean_t[k] = float(e_bar @ e_bar)
        n1[k] = float(np.trace(Sig1))
        n2[k] = float(np.trace(Sig2))
        trC[k] = float(np.trace(C))
        L[k] = mean_t[k] + n1[k] + n2[k]
        if k == K:
            break
        E_sum += e_bar
        e_bar = q.A @ e_bar + b_self
        Sig1 = q.A @ Sig1 @ q.A.T + Q1
        if kcoef:
            if not evolve:
                Q2 = kcoef * kernel_D(Lc)  # a fresh estimate every round (C fixed)
            Sig2 = q.A @ Sig2 @ q.A.T + Q2
    w = slice(first, last + 1)
    plateau = float(L[w].mean())
    return Prediction(
        plateau_predicted=plateau,
        rate_predicted=_rho_rate(q, spec),
        noise_first_order=float(n1[w].mean()),
        noise_kernel=float(n2[w].mean()),
        mean_term=float(mean_t[w].mean()),
        trace_C0=float(trC[0]),
        trace_C_window=float(trC[w].mean()),
        method=method,
        window=(first, last),
        seconds=time.perf_counter() - t0,
        trajectory=L,
    )


# ----------------------------------------------------------------------------------------
# rung (1): the linear recursion with the contributions fixed at initialisation
# ----------------------------------------------------------------------------------------


def _round_operators(q: _Init, spec: TrainSpec, masks: np.ndarray):
    """For one mask set: (A_k, b_k) of the exact linear recursion e' = A_k e + b_k with the
    contributions fixed at c0 (per-subnetwork kernels H_l, weights M_lr / X_r, S_l)."""
    n = q.G.shape[0]
    m = spec.m
    M = masks.astype(np.float64)
    cnt = M.sum(axis=0)
    wts = M * np.where(cnt > 0, 1.0 / np.maximum(cnt, 1.0), 0.0)[None, :]
    Hl = weighted_kernel(q.G, q.P0, M / m)
    Gl = weighted_kernel(q.G, q.P0, wts / m)
    nu = (q.c0 @ (M - q.xi).T).T  # (p, n)
    A = np.eye(n)
    b = np.zeros(n)
    for sub in range(M.shape[0]):
        A1 = np.eye(n) - spec.eta * Hl[sub]
        S = np.zeros((n, n))
        T = np.eye(n)
        for _ in range(spec.tau):
            S += T
            T = T @ A1
        GS = q.xi * spec.eta * Gl[sub] @ S
        A -= GS
        b += GS @ nu[sub]
    return A, b


def simulate_linear_recursion(
    X,
    y,
    settings,
    seed: int = 0,
    eta: float | None = None,
    *,
    rounds: int | None = None,
    replicas: int = 4,
    mask_seed: int = 1000,
) -> np.ndarray:
    """Monte Carlo of the linear stochastic recursion the moments describe (contributions fixed
    at initialisation, exact per-subnetwork kernels, weights and S_l):

        e_{k+1} = e_k - xi eta sum_l G_l S_l (e_k - nu_l),  G_l = (1/m) sum_r (M_lr / X_r) K_r,

    e_0 = y - xi f(W_0).  Replica j uses the masks sample_masks(kind, mask_seed + j, k, ...).
    Returns ||e_k||^2 as a (replicas, K+1) array."""
    spec = resolve_settings(X, y, settings, eta)
    X = np.asarray(X, dtype=np.float64)
    y1 = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)[:, 0]
    K = spec.rounds if rounds is None else int(rounds)
    q = _init_quantities(X, y1, spec, seed)
    out = np.empty((replicas, K + 1))
    for j in range(replicas):
        e = y1 - q.xi * q.c0.sum(axis=1)
        out[j, 0] = e @ e
        for k in range(K):
            A, b = _round_operators(q, spec, sample_masks(spec.mask, mask_seed + j, k, spec.p, spec.m, spec.xi))
            e = A @ e + b
            out[j, k + 1] = e @ e
    return out


def linear_recursion_moments(
    X, y, settings, seed: int = 0, eta: float | None = None, *, rounds: int | None = None, **kw
) -> Prediction:
    """The moment closure for the recursion of :func:`simulate_linear_recursion` (no evolution
    of the contributions): ``predict_plateau(..., evolve=False)``."""
    return predict_plateau(X, y, settings, seed, eta, rounds=rounds, evolve=False, **kw)


# ----------------------------------------------------------------------------------------
# rung (2): the network with frozen activation patterns, trained exactly
# ----------------------------------------------------------------------------------------


def train_frozen_patterns(
    X,
    y,
    settings,
    seed: int = 0,
    eta: float | None = None,
    *,
    rounds: int | None = None,
    return_contributions: bool = False,
):
    """Algorithm 1 on the linearised network f(W, x_i) = (1/sqrt m) sum_r a_r 1{<w_r(0), x_i> >= 0} <w_r, x_i>
    with the engine's masks (sample_masks(kind, seed, k, ...)), exactly (in contribution space).

    Returns L_0..L_K (tracked L_k = ||y - xi f||^2), and the final contributions (n, m) when
    ``return_contributions``."""
    spec = resolve_settings(X, y, settings, eta)
    X = np.asarray(X, dtype=np.float64)
    y1 = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)[:, 0]
    K = spec.rounds if rounds is None else int(rounds)
    n = X.shape[0]
    m, p, tau, eta_ = spec.m, spec.p, spec.tau, spec.eta
    xi = spec.xi_eff
    G = X @ X.T
    P0, c = initial_contributions(X, spec, seed)
    L = np.empty(K + 1)
    for k in range(K + 1):
        e = y1 - xi * c.sum(axis=1)
        L[k] = e @ e
        if k == K:
            break
        M = sample_masks(spec.mask, seed, k, p, m, spec.xi).astype(np.float64)
        cnt = M.sum(axis=0)
        Hl = weighted_kernel(G, P0, M / m)
        r = y1[None, :] - (c @ M.T).T  # (p, n): y - f_l
        acc = np.zeros((p, n))
        for _ in range(tau):
            acc += r
            r = r - eta_ * np.einsum("lij,lj->li", Hl, r)
        wts = M * np.where(cnt > 0, 1.0 / np.maximum(cnt, 1.0), 0.0)[None, :]
        Vn = acc.T @ wts  # (n, m): sum_l (M_lr / X_r) sum_t r_l^t
        c = c + (eta_ / m) * P0 * (G @ (P0 * Vn))
    return (L, c) if return_contributions else L
