"""Fig. 4: phi_d(gamma) in the Gaussian setup (N(0, 1/(m d)) and N(0, 1/(m* d)) entries) with two
d = infinity curves, three regimes: the Gaussian setup's own limit (Marchenko-Pastur teacher,
``gaussian_limit.py``; solid) and the orthonormal limit of Prop. 5.1 that the paper's Fig. 4
overlays (dashed)."""

from __future__ import annotations

from ._flowpanels import flow_figure

render = flow_figure(
    __name__,
    "gaussian",
    "phi",
    r"$\phi_d(\gamma)$",
    "Gaussian setup, $\\phi_d$",
    limit_label=r"$d=\infty$, orthonormal setup (Prop. 5.1)",
    own_limit_label=r"$d=\infty$, Gaussian setup (Marchenko-Pastur teacher)",
)
