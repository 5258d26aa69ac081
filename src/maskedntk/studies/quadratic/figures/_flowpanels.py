"""The three-panel layout shared by Figs. 2-4: one quantity of the flow against gamma for each
regime, every d of flow.dims (mean over seeds, min-max band) and the d = infinity curve."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import matplotlib.pyplot as plt

from maskedntk.core import figures as style

from ..experiments import REGIMES
from ..gaussian_limit import late_slope_orthonormal
from .common import d_colours, limit_line, load, plot_seeds, regime_title


def render_panels(
    inputs: Mapping[str, str],
    pdf: str,
    png: str,
    settings: Mapping,
    *,
    setup: str,
    quantity: str,
    ylabel: str,
    suptitle: str,
    name: str,
    limit_label: str = r"$d=\infty$ (Prop. 5.1)",
    own_limit_label: str | None = None,
) -> None:
    """``own_limit_label``: also draw the Gaussian setup's own d = infinity curve (limit kind
    'flow_gaussian', solid) beside the orthonormal one (dashed)."""
    style.apply_style()
    table = load(inputs["limit"])
    lim = table[table["kind"] == "flow"]
    own = table[table["kind"] == "flow_gaussian"]
    dims = settings["flow"]["dims"]
    cols = d_colours(dims)
    fig, axes = plt.subplots(1, 3, figsize=(style.TWO_COLUMNS, 2.55), layout="constrained")
    for ax, letter, regime in zip(axes, "abc", REGIMES, strict=True):
        df = load(inputs[f"{setup}_{regime}"])
        df = df[df["gamma"] > 0]
        a, astar = settings["regimes"][regime]
        for d in dims:
            sub = df[df["d"] == d]
            plot_seeds(ax, sub, "gamma", quantity, cols[d], f"d = {d}")
        L = lim[(lim["regime"] == regime) & (lim["gamma"] > 0)]
        limit_line(ax, L["gamma"], L[quantity], limit_label, colour="0.45" if own_limit_label else "black")
        if own_limit_label:
            G = own[(own["regime"] == regime) & (own["gamma"] > 0)]
            limit_line(ax, G["gamma"], G[quantity], own_limit_label, ls="-")
            if a < astar:
                ax.text(
                    0.04,
                    0.04,
                    "late slope of $\\phi_\\infty$:\n"
                    f"{float(G['late_slope'].iloc[0]):.3f} (Gaussian, Marchenko-Pastur)\n"
                    f"{late_slope_orthonormal(a, astar):.3g} (orthonormal)",
                    transform=ax.transAxes,
                    fontsize=6.5,
                    va="bottom",
                )
        if regime != "under" or quantity == "overlap":
            ax.set_xscale("log")
            ax.set_xlim(settings["limit"]["gamma_min"], settings["flow"]["gamma_max"])
        else:
            ax.set_xlim(0, settings["flow"]["gamma_max"])
        ax.set_xlabel(r"$\gamma = \eta k / d$")
        ax.set_title(regime_title(letter, regime, a, astar), fontsize=7.5)
        if letter == "a":
            ax.set_ylabel(ylabel)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=6.5)
    fig.suptitle(
        f"{suptitle}: m = $\\alpha$d, m* = $\\alpha^*$d; mean over {settings['seeds']} seeds "
        f"(band: min-max), $\\eta$ = {settings['flow']['eta']:g}",
        fontsize=8,
    )
    style.save(fig, pdf, png, name=name)


def flow_figure(name: str, setup: str, quantity: str, ylabel: str, suptitle: str, **kw):
    """The ``render(inputs, pdf, png, settings)`` of a figure module drawing ``quantity`` of the
    ``setup`` flow with :func:`render_panels`."""
    return partial(render_panels, setup=setup, quantity=quantity, ylabel=ylabel, suptitle=suptitle, name=name, **kw)
