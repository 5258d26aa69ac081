"""The study's figures, one module each; every module exposes
``render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None``.

``inputs`` keys: ``activity`` (the activity table), ``train_<label>`` (one per target norm M),
``cost_<label>`` (one per d); ``settings`` is the study config, or the part of it the figure
reads (``experiments.JOB_SETTINGS["figure-<name>"]``).  :func:`job` is the figure job of the
command line (settings: the figure's part and its ``name``; outputs ``pdf`` and ``png``)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import pandas as pd

FIGURES = ("activity", "persistence", "loss", "cost")


def render(name: str, inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None:
    if name not in FIGURES:
        raise ValueError(f"figure must be one of {FIGURES}, got {name!r}")
    importlib.import_module(f"{__name__}.{name}").render(inputs, pdf, png, settings)


def job(args) -> None:
    """The figure job (``core.jobcli``): figure ``settings["name"]``, every input by its key."""
    inputs = {k: args.input(k) for k in args.inputs}
    render(args.settings["name"], inputs, args.output("pdf"), args.output("png"), args.settings)


def gather(inputs: Mapping[str, str], prefix: str) -> pd.DataFrame:
    """Concatenate the parquet tables whose input key starts with ``prefix``."""
    paths = [p for k, p in sorted(inputs.items()) if k.startswith(prefix)]
    if not paths:
        raise ValueError(f"no input starting with {prefix!r} among {sorted(inputs)}")
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
