"""The workflow configuration: validation with clear errors, and expansion of grids into cells.

The study's settings (the key ``masked`` of config/masked.yaml, checked against
workflow/schemas/masked.schema.yaml by :class:`.workflow.MaskedWorkflow`) have ``defaults`` (a
cell: data, train, eta, seeds, metrics, delta) and named ``experiments``; each experiment
overrides any part of the defaults and gives a ``grid`` (a mapping of grid keys to value lists,
or a list of such mappings whose products are joined).  Every grid point is one cell, identified by a path such as
``mask~bernoulli/p~4/xi~0.5/tau~5/m~1000``.
"""

from __future__ import annotations

import copy
import itertools

from ...core.schema import ConfigError
from .cellconfig import parse_cell, parse_train
from .protocols import ProtocolError, protocol_experiments
from .stepsize import GRID_FIELDS

#: keys a grid may vary, in the order they appear in cell ids
GRID_KEYS = ("mask", "aggregation", "surrogate", "p", "xi", "tau", "m", "kappa")
#: experiments the figures of the workflow expect (others may be added freely)
KNOWN_EXPERIMENTS = ("dynamics", "heatmap_bernoulli", "heatmap_categorical", "local_steps", "width", "audit")


def merge_settings(base: dict, over: dict) -> dict:
    """A deep copy of ``base`` with ``over`` merged into it (nested mappings merged key by key,
    other values replaced), as Snakemake merges a ``--configfile`` over the default."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = merge_settings(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def cell_id(train: dict, varied) -> str:
    """Path-like id of a cell from the grid keys it varies (in GRID_KEYS order)."""
    return "/".join(f"{k}~{_fmt(train[k])}" for k in GRID_KEYS if k in varied)


def expand_experiment(name: str, config: dict) -> dict[str, dict]:
    """{cell id: cell dict} for experiment ``name`` of ``config``."""
    block = config["experiments"][name]
    own = {k: v for k, v in block.items() if k not in ("grid", "description")}
    base = merge_settings(config.get("defaults", {}), own)
    grids = block["grid"] if isinstance(block["grid"], list) else [block["grid"]]
    varied = sorted({k for g in grids for k in g}, key=GRID_KEYS.index)
    points = [
        (g, dict(zip(grid, values, strict=True)))
        for g, grid in enumerate(grids)
        for values in itertools.product(*(grid[k] for k in grid))
    ]
    if (base.get("eta") or {}).get("rule") == "grid_lambda_max":
        base["eta"]["grid"] = _step_grid(name, base, points, len(grids))
    cells: dict[str, dict] = {}
    for g, point in points:
        cell = copy.deepcopy(base)
        cell["experiment"] = name
        cell.setdefault("train", {})
        cell["train"].update(point)
        if cell["train"].get("mask") == "categorical":
            cell["train"].pop("xi", None)
        where = f"experiments.{name}.grid{f'[{g}]' if len(grids) > 1 else ''} at {point}"
        try:
            parsed = parse_cell(cell)
        except ValueError as err:
            raise ConfigError(f"config key {where}: {err}") from None
        cell["data"] = parsed.data  # only the keys of its source, defaults filled in
        train = dict(parsed.spec.to_dict(), xi=parsed.spec.xi)
        cid = cell_id(train, [k for k in varied if not (k == "xi" and train["mask"] == "categorical")])
        if cid in cells:
            raise ConfigError(f"config key experiments.{name}.grid: two grid points give the same cell {cid!r}")
        cells[cid] = cell
    return cells


def _step_grid(name: str, base: dict, points, n_grids: int) -> list[dict]:
    """The distinct (mask, p, xi, m, conventions) of an experiment's cells: what rule
    ``grid_lambda_max`` needs to choose one step for the whole grid."""
    out = []
    for g, point in points:
        train = dict(base.get("train", {}), **point)
        if train.get("mask") == "categorical":
            train.pop("xi", None)
        try:
            _, spec = parse_train(train)
        except ValueError as err:
            where = f"experiments.{name}.grid{f'[{g}]' if n_grids > 1 else ''} at {point}"
            raise ConfigError(f"config key {where}: {err}") from None
        entry = {k: getattr(spec, k) for k in GRID_FIELDS}
        if entry not in out:
            out.append(entry)
    return out


def active_experiments(config: dict) -> list[str]:
    """The experiments to run: ``active_experiments`` (a list of names), or all if it is null.

    (Snakemake merges ``--configfile`` into config/masked.yaml and cannot delete keys, so a
    config that wants fewer experiments names them here.)"""
    exps = config.get("experiments") or {}
    if not exps:
        raise ConfigError("config key experiments: must define at least one experiment")
    active = config.get("active_experiments")
    if active is None:
        return list(exps)
    unknown = [a for a in active if a not in exps]
    if unknown:
        raise ConfigError(f"config key active_experiments: {unknown} are not experiments; defined: {list(exps)}")
    return list(active)


def expand_config(config: dict) -> dict[str, dict[str, dict]]:
    """{experiment: {cell id: cell dict}} for every active experiment of the config, and for
    the experiments the compared protocols re-run (``<experiment>__<protocol>``, see
    :mod:`maskedntk.studies.masked.protocols`)."""
    active = active_experiments(config)
    try:
        extra = protocol_experiments(config, active)
    except ProtocolError as err:
        raise ConfigError(str(err)) from None
    full = dict(config, experiments={**config["experiments"], **extra})
    return {name: expand_experiment(name, full) for name in [*active, *extra]}
