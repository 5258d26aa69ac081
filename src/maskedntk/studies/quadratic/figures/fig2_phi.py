"""Fig. 2: phi_d(gamma) = int_0^{d gamma} tr(W W^T - M*) dt against the d = infinity solution of
Prop. 5.1, orthonormal setup, three regimes."""

from __future__ import annotations

from ._flowpanels import flow_figure

render = flow_figure(__name__, "orthonormal", "phi", r"$\phi_d(\gamma)$", "Orthonormal setup, $\\phi_d$")
