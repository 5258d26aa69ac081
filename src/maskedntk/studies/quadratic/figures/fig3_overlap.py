"""Fig. 3: the overlap chi_d(gamma) = |tr(M M*)| / (||M||_F ||M*||_F) against the d = infinity
overlap (Prop. 5.1 and its corollary), orthonormal setup, three regimes."""

from __future__ import annotations

from ._flowpanels import flow_figure

render = flow_figure(__name__, "orthonormal", "overlap", r"overlap $\chi_d(\gamma)$", "Orthonormal setup, overlap")
