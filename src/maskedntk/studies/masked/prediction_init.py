"""The quantities at initialisation the plateau predictor starts from (:mod:`.prediction`).

A cell's settings resolved to a TrainSpec (:func:`resolve_settings`), the conventions the
predictor covers (:func:`check_supported`), the exact mask moments (theta, alpha_d, alpha_o)
of :func:`mask_moments`, and what a seed's initialisation fixes (:class:`Initialisation`:
G = X X^T, the frozen patterns D_r, the neurons h_r(0), the second layer a, the kernel
H = (1/m) sum_r K_r and its eigen-decomposition), shared by every cell with the same data,
seed, m, kappa and init (docs/masked/prediction.md, sec. 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .engine import init_params
from .spec import TrainSpec


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


def check_supported(spec: TrainSpec) -> None:
    """The predictor covers the paper's conventions (any number of outputs); ValueError otherwise."""
    bad = {
        k: getattr(spec, k)
        for k, v in (("surrogate", "paper"), ("aggregation", "paper"), ("loss", "sum"), ("output_scale", "sqrt_m"))
        if getattr(spec, k) != v
    }
    if bad:
        raise ValueError(f"the predictor covers the paper's conventions only; this cell sets {bad}")


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
    which the predictor handles by alpha_o -> 0 (see the docs)."""
    if mask == "categorical":
        return 1.0, 1.0, 1.0 / p
    from scipy.stats import binom

    x = np.arange(1, p + 1)
    theta = 1.0 - (1.0 - xi) ** p
    alpha_d = float(np.sum(binom.pmf(x, p, xi) / x))
    return theta, alpha_d, theta * theta / p


@dataclass(frozen=True)
class Initialisation:
    """What a seed's initialisation fixes, shared by every cell with the same data, seed, m,
    kappa and init (:func:`initialise`): G = X X^T, the patterns P0 (n, m), the neurons
    h0 (n, m) (column r: h_r = D_r X w_r(0) / sqrt(m)), the second layer a (m, d_out), the
    kernel H = (1/m) sum_r K_r and its eigen-decomposition H = V diag(lam) V^T."""

    G: np.ndarray
    P0: np.ndarray
    h0: np.ndarray
    a: np.ndarray
    H: np.ndarray
    lam: np.ndarray
    V: np.ndarray
    g_max: float  # lambda_max(G)
    key: tuple
    #: products every cell of this seed shares, computed on first use (:meth:`shared`)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def c0(self) -> np.ndarray:
        """(n, m) initial contributions to output 0, a_r0 h_r; they sum to f(W_0, X)[:, 0]."""
        return self.h0 * self.a[:, 0][None, :]

    def shared(self, key, make):
        """``make()``, computed once per seed for ``key`` and kept (the cells of a grid share
        it: the float32 copies, C_h(0) and its factor, a sample's patterns, sum_r K_r S h_r(0) a_r^T
        for each S, the first update's F of the Bernoulli cells with the same eta, xi and tau)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


def init_key(spec: TrainSpec, seed: int, X: np.ndarray, d_out: int) -> tuple:
    """What an :class:`Initialisation` depends on besides X."""
    return (int(seed), spec.m, spec.kappa, spec.init, X.shape, int(d_out))


def initialise(X, spec: TrainSpec, seed: int, d_out: int = 1) -> Initialisation:
    """The :class:`Initialisation` of run ``seed`` (the engine's W_0 and a, sigma'(0) = 1)."""
    X = np.asarray(X, dtype=np.float64)
    W0, a = init_params(spec, seed, X.shape[1], d_out)
    Z = X @ W0.T
    P0 = (Z >= 0).astype(np.float64)
    h0 = P0 * Z / math.sqrt(spec.m)
    G = X @ X.T
    H = weighted_kernel(G, P0, np.full(spec.m, 1.0 / spec.m))
    lam, V = np.linalg.eigh(H)
    g_max = float(np.linalg.eigvalsh(G)[-1])
    return Initialisation(G, P0, h0, a, H, lam, V, g_max, init_key(spec, seed, X, d_out))


def initial_contributions(X, spec: TrainSpec, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(P0, c0) of a scalar-output network: the initial patterns 1{<w_r, x_i> >= 0} and the
    contributions c_r = (a_r / sqrt(m)) relu(X w_r(0)), which sum to f(W_0, X)."""
    q = initialise(X, spec, seed, 1)
    return q.P0, q.c0
