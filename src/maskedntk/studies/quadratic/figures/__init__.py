"""The study's figures: one module per figure, each with
``render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None``
(``settings`` is the part of ``config['quadratic']`` the figure reads, ``experiments.READS``;
``inputs`` maps an input name to a file).  :func:`job` is the figure job of the command line
(settings: the figure's part and its ``name``; outputs ``pdf`` and ``png``)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

#: the figures, each drawn by the module of the same name in this package (the rules file lists
#: the inputs of each)
NAMES = (
    "fig1_spectrum",
    "fig2_phi",
    "fig3_overlap",
    "fig4_gaussian",
    "fig5_rates",
    "fig6_gap",
    "fig7_empirical",
    "fig8_masked",
)


def render_figure(name: str, inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    """Draw figure ``name`` from ``inputs`` (input name -> file) to ``pdf`` and ``png``."""
    if name not in NAMES:
        raise ValueError(f"figure = {name!r}: must be one of {', '.join(NAMES)}")
    importlib.import_module(f".{name}", __name__).render(inputs, pdf, png, settings)


def job(args) -> None:
    """The figure job (``core.jobcli``): figure ``settings["name"]``, every input by its key."""
    inputs = {k: args.input(k) for k in args.inputs}
    render_figure(args.settings["name"], inputs, args.output("pdf"), args.output("png"), args.settings)
