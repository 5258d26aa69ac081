"""Protocols: the same experiments under other conventions, step rules and estimators, so
that every verdict says whether it depends on how the paper is read.

The experiments of the configuration follow the *headline* protocol (``protocols.headline``
names it: the paper's v1 definitions with one constant step for the whole grid).  Each entry
of ``protocols.compare`` re-runs some of those experiments, possibly on a coarser grid, with
its own ``train`` overrides, ``eta`` rule and ``estimator``; its experiments are named
``<experiment>__<protocol>`` (see :func:`protocol_experiments`).  The claims are then tested
under every protocol (:func:`tables_under`), giving results/masked/tables/claims_robustness.csv.

Estimators (the number a claim about the error neighbourhood reads):

* ``plateau``: the mean of L_k over the stationary window; runs that never became
  stationary are left out (:mod:`maskedntk.studies.masked.metrics`);
* ``authors_early_stop``: the estimator of the authors' heatmap script: the 10-round running
  mean of the tracked loss, followed round by round until it first fails to improve; the
  best value reached (:func:`maskedntk.studies.masked.metrics.authors_early_stop`).  It has
  no notion of stationarity, so every non-diverged run enters.
"""

from __future__ import annotations

import copy

import pandas as pd

#: separates an experiment's name from its protocol's: ``heatmap_bernoulli__authors_code``
SEP = "__"
ESTIMATORS = ("plateau", "authors_early_stop")
PROTOCOL_KEYS = {"description", "train", "eta", "estimator", "experiments"}


class ProtocolError(ValueError):
    """A protocols block that cannot be used (the message names the key)."""


def headline(config: dict) -> str:
    return str((config.get("protocols") or {}).get("headline", "headline"))


def compared(config: dict) -> dict[str, dict]:
    """{protocol name: its block} of ``protocols.compare`` (validated)."""
    block = (config.get("protocols") or {}).get("compare") or {}
    for name, p in block.items():
        if SEP in name or not name.replace("_", "").isalnum():
            raise ProtocolError(f"config key protocols.compare.{name}: a name of letters, digits and single '_'")
        unknown = sorted(set(p) - PROTOCOL_KEYS)
        if unknown:
            raise ProtocolError(
                f"config key protocols.compare.{name}: unknown key(s) {unknown}; allowed {sorted(PROTOCOL_KEYS)}"
            )
        est = p.get("estimator", "plateau")
        if est not in ESTIMATORS:
            raise ProtocolError(f"config key protocols.compare.{name}.estimator = {est!r}: allowed {list(ESTIMATORS)}")
        if not p.get("experiments"):
            raise ProtocolError(f"config key protocols.compare.{name}.experiments: name at least one experiment")
    return dict(block)


def protocol_experiments(config: dict, active: list[str]) -> dict[str, dict]:
    """{``<experiment>__<protocol>``: experiment block} for every compared protocol and every
    experiment it names that is active (a protocol's grid, when given, replaces the
    experiment's; its train/eta blocks override the experiment's)."""
    out = {}
    for name, p in compared(config).items():
        for exp, grid in p["experiments"].items():
            if exp not in config["experiments"]:
                raise ProtocolError(
                    f"config key protocols.compare.{name}.experiments.{exp}: not an experiment; "
                    f"defined: {list(config['experiments'])}"
                )
            if exp not in active:
                continue
            block = copy.deepcopy(config["experiments"][exp])
            for key in ("train", "eta"):
                if p.get(key):
                    block[key] = {**(block.get(key) or {}), **copy.deepcopy(p[key])}
            if grid:
                block["grid"] = copy.deepcopy(grid)
            block["description"] = f"{block.get('description', exp)} -- protocol {name}"
            out[f"{exp}{SEP}{name}"] = block
    return out


def split(experiment: str) -> tuple[str, str | None]:
    """(experiment, protocol) of an experiment name; protocol None for the headline."""
    base, sep, protocol = experiment.partition(SEP)
    return base, (protocol if sep else None)


def apply_estimator(runs: pd.DataFrame, estimator: str) -> pd.DataFrame:
    """The runs with ``plateau`` read by ``estimator`` (see the module docstring)."""
    if estimator == "plateau":
        return runs
    if estimator == "authors_early_stop":
        return runs.assign(plateau=runs["authors_early_stop"], stationary=True)
    raise ProtocolError(f"estimator {estimator!r}: allowed {list(ESTIMATORS)}")


def tables_under(tables: dict, protocol: str | None, config: dict) -> dict:
    """The tables of one protocol, under their base experiment names, with the protocol's
    estimator applied (``protocol`` None: the headline's experiments)."""
    est = "plateau" if protocol is None else compared(config)[protocol].get("estimator", "plateau")
    out = {}
    for name, t in tables.items():
        base, prot = split(name)
        if prot == protocol:
            out[base] = {**t, "runs": apply_estimator(t["runs"], est)}
    return out


def description(config: dict, protocol: str | None) -> str:
    if protocol is None:
        return str((config.get("protocols") or {}).get("description", "the configuration's experiments"))
    return str(compared(config)[protocol].get("description", protocol))
