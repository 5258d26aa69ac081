"""The paper's convention and the authors' 1/xi convention, and the exact map between them.

Paper (arXiv 2112.02668v1, sec. 3.1): subnetwork l minimises 1/2 ||y - f_l||^2 with
f_l = (1/sqrt(m)) sum_r a_r m^l_r relu(<w_r, x>), and the tracked output is u = xi f(W, X).
Authors' code (docs/masked/mathematics.md sec. 6): the surrogate is f_l / xi, the tracked output is the
unscaled f(W, X).

With labels y' and step eta' in the authors' convention,
    1/2 ||y' - f_l/xi||^2 = (1/xi^2) * 1/2 ||xi y' - f_l||^2,
so a GD step eta' there is a GD step eta'/xi^2 on the paper's loss with labels xi y', the
weights follow the same path, and the tracked errors satisfy
    ||y' - f||^2 = ||xi y' - xi f||^2 / xi^2,   i.e.  L_authors = L_paper / xi^2.
(The authors' zeroing of unheld neurons is a separate convention, ``aggregation``; the map
holds for either aggregation as long as both sides use the same one.)
"""

from __future__ import annotations

import numpy as np

from maskedntk.core.validate import check_float

from .spec import TrainSpec


def authors_to_paper(y, eta: float, xi: float) -> tuple[np.ndarray, float]:
    """(labels, step) of the paper's convention that reproduce an authors'-convention run
    with labels ``y`` and step ``eta``: (xi * y, eta / xi^2)."""
    xi = check_float("xi", xi, 0.0, 1.0, lo_open=True)
    eta = check_float("eta", eta, 0.0, lo_open=True)
    return xi * np.asarray(y, dtype=np.float64), eta / xi**2


def paper_to_authors(y, eta: float, xi: float) -> tuple[np.ndarray, float]:
    """The inverse of :func:`authors_to_paper`: (y / xi, eta * xi^2)."""
    xi = check_float("xi", xi, 0.0, 1.0, lo_open=True)
    eta = check_float("eta", eta, 0.0, lo_open=True)
    return np.asarray(y, dtype=np.float64) / xi, eta * xi**2


def paper_error_to_authors(L, xi: float):
    """L_authors = L_paper / xi^2 (for trajectories, plateaus, traces)."""
    xi = check_float("xi", xi, 0.0, 1.0, lo_open=True)
    return np.asarray(L, dtype=np.float64) / xi**2


def authors_error_to_paper(L, xi: float):
    """L_paper = xi^2 L_authors."""
    xi = check_float("xi", xi, 0.0, 1.0, lo_open=True)
    return np.asarray(L, dtype=np.float64) * xi**2


def as_paper_spec(spec: TrainSpec) -> TrainSpec:
    """The paper-convention spec equivalent to an authors'-surrogate spec (surrogate
    'inverse_xi' -> 'paper', eta -> eta / xi^2); use with labels xi * y."""
    if spec.surrogate == "paper":
        return spec
    return spec.replace(surrogate="paper", eta=spec.eta / spec.xi_eff**2)
