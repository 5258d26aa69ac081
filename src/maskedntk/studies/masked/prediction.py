"""Predict a cell's error neighbourhood from the data and the initialisation alone.

This is the project's own derivation, not the paper's (docs/masked/prediction.md).  Nothing
here runs Algorithm 1 and no constant is fitted to training runs: the prediction uses X, Y,
the initialisation (W_0, a) of the seed (:func:`engine.init_params`) and the cell's settings
(mask kind, p, xi, tau, eta, m, kappa, K).

Model (lazy regime).  With the activation patterns frozen at their initial values,
D_r = diag(1{X w_r(0) >= 0}), neuron r carries h_r = D_r X w_r / sqrt(m) and contributes
a_ro h_r to output o (a_ro = +-1), f = sum_r h_r a_r^T (n x d_out).  A local GD step of
subnetwork l moves a held neuron by (eta / m) K_r (y - f_l) a_r, K_r = D_r X X^T D_r, and
one round of Algorithm 1 is exactly

    h_r <- h_r + (eta / m) K_r sum_l (M_lr / X_r) S_l (e - nu_l) a_r,
    S_l = sum_{t < tau} (I - eta H_l)^t,  H_l = (1/m) sum_r M_lr K_r,
    e = y - xi f (tracked residual),  nu_l = f_l - xi f = sum_r (M_lr - xi) h_r a_r^T.

The predictor is a moment closure of this recursion (docs/masked/prediction.md, sec. 3):

* mean: every neuron follows its expected update with S_l -> S = sum_t (I - eta xi H)^t,
  H = (1/m) sum_r K_r: h_r <- h_r + (eta / m) theta K_r S (e_bar a_r - (1 - xi) d_out h_r),
  where -(1 - xi) d_out h_r is the neuron's own share of nu_l (the dropout penalty);
* neuron fluctuations: the neuron-specific rest of nu_l, covariance xi (1 - xi) (alpha_d -
  alpha_o) d_out C_h per neuron (C_h = sum_r h_r h_r^T), injected into a seeded sample of
  neurons that decay like the mean;
* residual fluctuations: Sigma <- A Sigma A^T + Q_k, A = I - theta P, P = I - (I - eta xi H)^tau,
  Q_k = xi (1 - xi) alpha_o P C P (Bernoulli), or the kernel-fluctuation term
  xi^3 (1 - xi) (1/m^2) sum_r dP[K_r] C dP[K_r]^T (categorical), C = d_out C_h;
* prediction: L_k = ||e_bar_k||_F^2 + tr Sigma_k, averaged over the window of
  :func:`stationarity.stationarity_test` (the last half of K rounds).

A, P and S are functions of H, so in the eigenbasis H = V diag(lambda) V^T the residual
recursions are diagonal: the rounds of a block (constant neuron state) run as one compiled loop
(:func:`_block`), and the neurons are updated once per block, in float32 (the contributions
c_r = a_r h_r with one output; f = sum_r h_r a_r^T in float64).  The cost is O((K / block)
n^2 m) instead of O(K n^3 + (K / 4) n^2 m).  What the cells of a seed share is computed once
(:meth:`Initialisation.shared`): C_h(0) and its factor, sum_r K_r S h_r(0) a_r^T for each S,
and, for Bernoulli masks, the first neuron update theta F, F = L(e_bar(0) a^T - (1 - xi) d_out
z0) (L(U)_r = K_r S U_r), which depends on (eta, xi, tau) but not on p.

The references the tests compare with (Monte Carlo of the linear recursion, the frozen-pattern
network) are in :mod:`.prediction_reference`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .prediction_init import (
    Initialisation,
    check_supported,
    init_key,
    initialise,
    mask_moments,
    resolve_settings,
)
from .rng import generator
from .spec import TrainSpec
from .stationarity import stationarity_window

#: stream id of the predictor's own Gaussian draws (distinct from data/init/mask streams 0..2)
STREAM_PREDICTION = 7
#: default number of neurons whose fluctuations are tracked (the rest are represented by them)
NEURON_SAMPLE = 256
#: default number of neurons that estimate the kernel-fluctuation term D(C) each block
KERNEL_SAMPLE = 64
#: the kernel term's Gamma (sum_t g_i^t g_j^(tau-1-t)) keeps its singular values above this
#: fraction of the largest: below float32 precision, the precision of the products
KERNEL_RANK_TOL = 1e-8
#: the neurons are updated once per block of rounds (after blocks of 1, 4, 16, ... at the start):
#: BLOCK rounds, or more where the bound on one block's self-noise decay,
#: eta theta (1 - xi) d_out lambda_max(G) max|S| j / m, stays below BLOCK_DECAY (docs sec. 3)
BLOCK = 20
BLOCK_GROWTH = 4
BLOCK_DECAY = 0.1
#: ... but never so long that one block's decay bound exceeds this (narrow networks: short blocks)
BLOCK_STABLE = 0.5

METHODS = ("moment_closure", "first_order_initial")


@dataclass(frozen=True)
class Prediction:
    """The predicted error neighbourhood of one cell and seed.

    plateau_predicted : mean of the predicted L_k over the stationarity window (last half).
    rate_predicted : predicted per-round contraction factor of L_k - plateau: the slowest
        mode of the mean recursion, rho(A)^2 = (1 - theta (1 - (1 - eta xi lambda_min(H))^tau))^2.
    noise_first_order : window mean of tr Sigma from the first-order mask noise alpha_o P C P.
    noise_kernel : window mean of tr Sigma from the kernel-fluctuation term D(C).
    mean_term : window mean of ||e_bar_k||^2 (the bias the dropout penalty leaves).
    trace_C0, trace_C_window : tr C at initialisation and its window mean.
    trajectory : predicted L_0..L_K.
    method : 'moment_closure' (default) or 'first_order_initial' (stationary Lyapunov
        solution with the initial contributions, no evolution).
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


@dataclass(frozen=True)
class _Cell:
    xi: float
    theta: float
    alpha_d: float
    alpha_o: float  # effective first-order coefficient (0 for categorical masks)
    g: np.ndarray  # eigenvalues of A1 = I - eta xi H
    pv: np.ndarray  # eigenvalues of P = I - A1^tau
    av: np.ndarray  # eigenvalues of A = I - theta P
    S: np.ndarray  # sum_t A1^t (n x n)


def _cell(q: Initialisation, spec: TrainSpec) -> _Cell:
    xi = spec.xi_eff
    g = 1.0 - spec.eta * xi * q.lam
    s = sum(g**t for t in range(spec.tau))
    pv = 1.0 - g**spec.tau
    theta, alpha_d, alpha_o = mask_moments(spec.mask, spec.p, xi)
    if spec.mask == "categorical":
        alpha_o = 0.0  # sum_l nu_l = 0 exactly: no first-order noise
    return _Cell(xi, theta, alpha_d, alpha_o, g, pv, 1.0 - theta * pv, (q.V * s) @ q.V.T)


def block_length(q: Initialisation, c: _Cell, spec: TrainSpec) -> int:
    """Rounds per neuron update: BLOCK, or the largest j with j gamma <= BLOCK_DECAY, gamma = eta theta
    (1 - xi) d_out lambda_max(G) max|s(lambda)| / m a bound on the per-round self-noise decay
    of a neuron (||K_r S|| <= ||G|| ||S||), if larger; at most BLOCK_STABLE / gamma (so that
    the Euler step of the decay stays stable in narrow networks), at least 1, at most K."""
    s_max = float(np.max(np.abs(sum(c.g**t for t in range(spec.tau)))))
    gamma = spec.eta * c.theta * (1 - c.xi) * q.a.shape[1] * q.g_max * s_max / spec.m
    if gamma <= 0:
        return spec.rounds
    return int(max(min(max(BLOCK_DECAY / gamma, BLOCK), BLOCK_STABLE / gamma, spec.rounds), 1))


def _chol(C: np.ndarray) -> np.ndarray:
    n = C.shape[0]
    jitter = 1e-12 * max(float(np.trace(C)) / n, 1e-300)
    return np.linalg.cholesky(C + jitter * np.eye(n))


@njit(cache=True)
def _block(et, sig, av, bt, qs, T, slope):
    """T rounds of the diagonal recursions e <- a e + (1 + t slope / 2) b, sigma_i <- a^2 sigma_i +
    (1 + t slope) q_i (eigen coordinates, et and bt (n, d_out), sig and qs (2, n); slope the
    relative drift of tr C per round), from (et, sig): the per-round mean term ||e||^2 (T,),
    the noise traces tr sigma_i (2, T), the sum of e over the T rounds, and sigma after them
    (updated in place)."""
    n, d = et.shape
    mt = np.empty(T)
    traces = np.empty((2, T))
    E = np.zeros((n, d))
    e = et.copy()
    for t in range(T):
        acc = 0.0
        for i in range(n):
            for o in range(d):
                acc += e[i, o] * e[i, o]
                E[i, o] += e[i, o]
        mt[t] = acc
        fs = 1.0 + t * slope
        fe = 1.0 + 0.5 * t * slope
        for k in range(2):
            acc = 0.0
            for i in range(n):
                acc += sig[k, i]
                sig[k, i] = av[i] * av[i] * sig[k, i] + fs * qs[k, i]
            traces[k, t] = acc
        for i in range(n):
            for o in range(d):
                e[i, o] = av[i] * e[i, o] + fe * bt[i, o]
    return mt, traces, E


def load_compiled() -> None:
    """Compile (or load from numba's cache) :func:`_block`: once, before forking worker processes,
    so that they inherit it."""
    _block(np.zeros((1, 1)), np.zeros((2, 1)), np.zeros(1), np.zeros((1, 1)), np.zeros((2, 1)), 1, 0.0)


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
    block: int | None = None,
    shared_cancels: bool = True,
    window_fraction: float = 0.5,
    min_window: int = 20,
    noise_seed: int = 0,
    init: Initialisation | None = None,
) -> Prediction:
    """Predicted plateau and contraction factor of a cell (module docstring; docs/masked/prediction.md).

    X (n, d) unit rows, y (n,) or (n, d_out); ``settings`` a TrainSpec, a cell dict or a
    CellConfig (:func:`resolve_settings`); ``seed`` the run whose initialisation is used;
    ``eta`` overrides the cell's step; ``rounds`` overrides K (the plateau is the mean of the
    predicted L_k over the stationarity window of K rounds, as measured).

    ``evolve=False`` keeps the neurons at their initial values (the linear recursion of
    :func:`.prediction_reference.simulate_linear_recursion`); ``kernel_term=False`` drops D(C);
    ``shared_cancels=False`` injects the whole per-neuron noise (alpha_d instead of
    alpha_d - alpha_o); ``block`` is the number of rounds per update of the neurons (None:
    :func:`block_length`).
    ``neuron_sample`` neurons (drawn once from the generator of (seed, STREAM_PREDICTION,
    noise_seed)) carry the neuron fluctuations; all m neurons carry the mean.  ``init``: the
    seed's :class:`Initialisation`, to share it between cells (it must match the cell).
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"method = {method!r}: choose one of {METHODS}")
    spec = resolve_settings(X, y, settings, eta)
    check_supported(spec)
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
    D = Y.shape[1]
    if init is None:
        init = initialise(X, spec, seed, D)
    elif init.key != init_key(spec, seed, X, D):
        raise ValueError(f"init was computed for {init.key}, this cell needs {init_key(spec, seed, X, D)}")
    q, c = init, _cell(init, spec)
    K = spec.rounds if rounds is None else int(rounds)
    first, last = stationarity_window(K, window_fraction, min_window)
    n, m = q.h0.shape
    xi, theta, V = c.xi, c.theta, q.V
    rate = float((1.0 - theta * (1.0 - (1.0 - spec.eta * xi * q.lam[0]) ** spec.tau)) ** 2)

    def diagC(Cm):  # diag(V^T C V) with C = d_out Cm
        return D * ((V.T @ Cm) * V.T).sum(axis=1)

    if method == "first_order_initial":
        q1 = xi * (1 - xi) * c.alpha_o * c.pv**2 * diagC(q.h0 @ q.h0.T)
        plateau = float(np.sum(q1 / (1.0 - c.av**2)))
        e0 = Y - xi * (q.h0 @ q.a)
        L = np.full(K + 1, plateau)
        L[0] = float((e0**2).sum())
        trC0 = D * float((q.h0**2).sum())
        return Prediction(
            plateau, rate, plateau, 0.0, 0.0, trC0, trC0, method, (first, last), time.perf_counter() - t0, L
        )

    beta = spec.eta / m
    rng = generator(seed, STREAM_PREDICTION, noise_seed)
    s = min(int(neuron_sample), m)
    idx = np.sort(rng.choice(m, size=s, replace=False))
    scale_s = m / s
    inj = math.sqrt(D * xi * (1 - xi) * (c.alpha_d - (c.alpha_o if shared_cancels else 0.0)))
    # kernel-fluctuation term: categorical masks only (for Bernoulli masks it is O(p / (theta^2 m))
    # of the first-order noise and its parts cancel; docs/masked/prediction.md, approximation A4)
    kcoef = xi**3 * (1 - xi) if (kernel_term and spec.mask == "categorical") else 0.0
    # blocks of 1, 4, 16, ... rounds (the fit at the start moves the neurons fast), then j_max
    # (xi = 1: no self-noise and no mask noise, the neurons only carry the fit that A describes)
    j_max = min(block_length(q, c, spec) if block is None else max(int(block), 1), K) if evolve and xi < 1 else K + 1
    # as many kernel samples per round as blocks of 4 with kernel_sample neurons each, up to 8 x kernel_sample
    sD = min(int(kernel_sample) * min(max(1, -(-min(j_max, K) // 4)), 8), m)
    PD = q.P0[:, np.sort(rng.choice(m, size=sD, replace=False))]
    if kcoef:
        # dP[K] = eta V (Gamma o V^T K V) V^T with Gamma_ij = sum_{t < tau} g_i^t g_j^(tau-1-t) (V^T A1^t V
        # = diag(g^t)); Gamma is numerically of low rank (g within (0, 1] and close together), so with
        # its SVD to float32 precision, Gamma = sum_k u_k w_k^T, dP[K] v takes k <= tau products with K
        Uk, sk, Wk = np.linalg.svd(sum(np.outer(c.g**t, c.g ** (spec.tau - 1 - t)) for t in range(spec.tau)))
        k = max(int(np.sum(sk > KERNEL_RANK_TOL * sk[0])), 1)
        gam_u, gam_w = Uk[:, :k] * sk[:k], Wk[:k].T
        Pk = np.tile(PD, (1, k)).astype(np.float32)
        V32 = q.shared("V32", lambda: V.astype(np.float32))
    cols = m + s + (m if D > 1 else 0)
    # what every cell of the seed shares (computed by the first cell that needs it): the float32
    # copies, the patterns of the update (all neurons, the sampled ones, all again for
    # d_out > 1), C_h(0) = sum_r h_r(0) h_r(0)^T with its Cholesky factor and diag(V^T C V)
    G32 = q.shared("G32", lambda: q.G.astype(np.float32))
    a32 = q.shared("a32", lambda: q.a.astype(np.float32))
    # the neurons' state in float32: the contributions c_r = a_r h_r with one output (then a
    # neuron's forcing theta K_r S E_sum is the same for every neuron, up to K_r), the h_r with
    # several; f = sum_r h_r a_r^T is kept in float64, so that e_bar = y - xi f stays accurate
    z0 = q.shared("z0_32", lambda: (q.c0 if D == 1 else q.h0).astype(np.float32))
    f0 = q.shared("f0", lambda: q.h0 @ q.a)
    Pw = q.shared(
        ("Pw", s, noise_seed),
        lambda: np.concatenate([q.P0, q.P0[:, idx]] + ([q.P0] if D > 1 else []), axis=1).astype(np.float32),
    )
    C0 = q.shared("C0", lambda: q.h0 @ q.h0.T)
    L0, dC0 = q.shared("C0_factor", lambda: (_chol(C0), diagC(C0)))
    S32 = c.S.astype(np.float32)
    # the neurons' update products in float32 (docs sec. 3, A5)
    U = np.empty((n, cols), dtype=np.float32)
    decay_coef = theta * (1 - xi) * D

    def neuron_sum(Wm):
        """sum_r of the (n, m) per-neuron quantities Wm, as (n, d_out) in float64: the row sums
        (contributions, one output) or sum_r w_r a_r^T (several)."""
        return Wm.sum(axis=1, dtype=np.float64)[:, None] if D == 1 else (Wm @ a32).astype(np.float64)

    def kernel_q(Lc):
        """diag V^T [(1/m^2) sum_r dP[K_r] C dP[K_r]^T] V from sD sampled neurons and v ~ N(0, C),
        dP[K] v = eta sum_t A1^t K A1^(tau-1-t) v (the derivative of P_l = I - (I - eta H_l)^tau),
        in eigen coordinates: V^T dP[K] v = eta sum_k u_k * (V^T K V (w_k * V^T v))."""
        vt = math.sqrt(D) * ((V.T @ Lc) @ rng.standard_normal((n, sD)))
        Kw = V32 @ np.concatenate([(gam_w[:, i : i + 1] * vt).astype(np.float32) for i in range(k)], axis=1)
        Kw = V32.T @ (Pk * (G32 @ (Pk * Kw)))
        acc = sum(gam_u[:, i : i + 1] * Kw[:, i * sD : (i + 1) * sD] for i in range(k))
        return kcoef * ((spec.eta * acc) ** 2).sum(axis=1) / (m * sD)

    def noise_q(Lc, dC):
        q1 = xi * (1 - xi) * c.alpha_o * c.pv**2 * dC
        return np.stack([q1, kernel_q(Lc) if kcoef else np.zeros(n)])

    def forcing(E):
        """E a_r^T for every neuron r (n, m) in float32 (with one output E, broadcast)."""
        E32 = E.astype(np.float32)
        return E32 if D == 1 else E32 @ a32.T

    def mean_product(Um):
        """L(Um): column r is K_r S Um_r (float32, the m neurons)."""
        return Pw[:, :m] * (G32 @ (Pw[:, :m] * (S32 @ Um)))

    def self_noise():
        """sum_r K_r S h_r(0) a_r^T (n, d_out): the same for every cell of the seed with this S."""
        return neuron_sum(mean_product(z0))

    def first_update(E_sum):
        """F = L(E_sum a^T - (1 - xi) d_out z0) (the mean part of the first update, over theta),
        sum_r F_r a_r^T, z0 F^T + F z0^T and F F^T."""
        F = mean_product(forcing(E_sum) - np.float32((1 - xi) * D) * z0)
        cross = (z0 @ F.T).astype(np.float64)
        return F, neuron_sum(F), cross + cross.T, (F @ F.T).astype(np.float64)

    z, f = z0, f0  # replaced, never modified in place: they are the seed's
    dh = np.zeros((n, s))
    C_h, Lc = C0, L0
    qs = noise_q(Lc, dC0)
    sig = np.zeros((2, n))
    e_bar = Y - xi * f
    # the self-noise bias of the mean residual, xi beta theta (1 - xi) d_out sum_r K_r S h_r a_r^T
    KSh0 = q.shared(("KSh0", spec.eta * xi, spec.tau), self_noise) if decay_coef else np.zeros_like(Y)
    b_self = xi * beta * decay_coef * KSh0
    L = np.empty(K + 1)
    mean_t = np.empty(K + 1)
    n1 = np.empty(K + 1)
    n2 = np.empty(K + 1)
    trC = np.empty(K + 1)
    start, length, prev, trC_prev = 0, (1 if j_max <= K else K + 1), 0, 1.0  # j_max > K: no neuron update
    E_t = np.zeros_like(Y)  # sum of the mean residual (eigen coordinates) over the last block
    while start <= K:
        if start > 0:
            j = prev
            # the neurons' expected update over the previous block (the residual forcing exactly,
            # summed over the block; the self-noise decay and the injected noise by one step of j)
            E_sum = V @ E_t
            noise = math.sqrt(j) * inj * (Lc @ rng.standard_normal((n, s)))
            if start == 1 and spec.mask == "bernoulli":
                # the first update (z = z0, dh = 0, j = 1) is theta F plus the sampled noise, F the same
                # for every Bernoulli cell of the seed with this (eta, xi, tau), whatever p
                F, F_sum, C_cross, C_FF = q.shared(("F1", spec.eta * xi, spec.tau, xi), lambda e=E_sum: first_update(e))
                W = Pw[:, m : m + s] * (G32 @ (Pw[:, m : m + s] * (S32 @ noise.astype(np.float32))))
                decay = decay_coef * KSh0
                z = z0 + (beta * theta) * F
                f = f0 + (beta * theta) * F_sum
                dh = beta * W
                C_h = C0 + (beta * theta) * C_cross + (beta * theta) ** 2 * C_FF + scale_s * (dh @ dh.T)
            else:
                np.multiply(z, -theta * j * (1 - xi) * D, out=U[:, :m])
                U[:, :m] += forcing(theta * E_sum)
                # the sampled fluctuations: their decay and the injected noise (one product, it is linear)
                U[:, m : m + s] = noise - j * decay_coef * dh
                if D > 1:
                    U[:, m + s :] = z
                W = S32 @ U
                W *= Pw
                W = G32 @ W
                W *= Pw
                df = neuron_sum(W[:, :m])
                if D == 1:  # sum_r K_r S U_r = theta m H S E - j theta (1 - xi) sum_r K_r S c_r
                    decay = theta * m * (q.H @ (c.S @ E_sum)) - df
                else:
                    decay = j * decay_coef * neuron_sum(W[:, m + s :])
                z = z + beta * W[:, :m]
                f = f + beta * df
                dh += beta * W[:, m : m + s]
                C_h = (z @ z.T).astype(np.float64) + scale_s * (dh @ dh.T)
            b_self = xi * beta * decay / j
            e_bar = Y - xi * f
            Lc = _chol(C_h)
            qs = noise_q(Lc, diagC(C_h))
        T = min(length, K + 1 - start)
        trC_now = float(np.trace(C_h))
        slope = (trC_now / trC_prev - 1.0) / prev if prev else 0.0
        mt, traces, E_t = _block(V.T @ e_bar, sig, c.av, V.T @ b_self, qs, T, slope)
        sl = slice(start, start + T)
        mean_t[sl], n1[sl], n2[sl] = mt, traces[0], traces[1]
        trC[sl] = D * trC_now
        L[sl] = mt + traces[0] + traces[1]
        start, prev, length, trC_prev = start + T, T, min(BLOCK_GROWTH * length, j_max), trC_now
    w = slice(first, last + 1)
    return Prediction(
        plateau_predicted=float(L[w].mean()),
        rate_predicted=rate,
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
