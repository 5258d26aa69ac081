"""The predicted convergence forms overlaid on the figures (numpy only, no torch import).

* m = m*: L_T <= L_0 rho^T (linear / exponential convergence, locally strongly convex up to
  symmetries; the m = m* case of the local theory);
* m > m*: sub-linear; for a single teacher neuron (m* = 1) Xu & Du (COLT 2023) prove
  L_T = Theta(T^-3) for gradient descent/flow, the form overlaid here (Zhou, Ge & Jin's own
  rate statement could not be verified, see docs/studies/local_convergence.md).
"""

from __future__ import annotations

import numpy as np


def linear_rate_curve(T: np.ndarray, L0: float, rho: float) -> np.ndarray:
    """L_T = L_0 rho^T (m = m*: linear convergence with contraction factor rho < 1)."""
    return L0 * np.power(rho, np.asarray(T, dtype=np.float64))


def power_rate_curve(T: np.ndarray, C: float, beta: float = 3.0) -> np.ndarray:
    """L_T = C T^-beta (m > m*: sub-linear; beta = 3 is Xu & Du's rate for m* = 1)."""
    T = np.asarray(T, dtype=np.float64)
    return C * np.power(np.maximum(T, 1.0), -beta)


#: the predicted exponent of the sub-linear phase (Xu & Du 2023, m* = 1); see the docs page
PREDICTED_BETA = 3.0
