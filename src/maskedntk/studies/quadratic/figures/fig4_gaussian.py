"""Fig. 4: phi_d(gamma) in the Gaussian setup (N(0, 1/(m d)) and N(0, 1/(m* d)) entries) against
the d = infinity curve of the orthonormal setup (Prop. 5.1), three regimes."""

from __future__ import annotations

from ._flowpanels import flow_figure

render = flow_figure(
    __name__,
    "gaussian",
    "phi",
    r"$\phi_d(\gamma)$",
    "Gaussian setup, $\\phi_d$",
    limit_label=r"$d=\infty$, orthonormal (Prop. 5.1)",
)
