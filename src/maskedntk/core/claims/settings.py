"""The one statistical setting of every claims table: the global key ``claims`` of
config/config.yaml, ``{alpha, bootstrap_resamples, seed}`` (the significance level of every
one-sided test, the resamples of every bootstrap interval and the bootstrap seed), read by every
study.  A study's claims job receives it in its settings (``settings["claims"]``) beside the
study's own claim thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..schema import ConfigError

#: the global configuration key of the claims' statistics
KEY = "claims"
#: its fields
FIELDS = ("alpha", "bootstrap_resamples", "seed")


def claim_statistics(config: Mapping) -> dict:
    """``{alpha, bootstrap_resamples, seed}`` of ``config[claims]``; a :class:`ConfigError`
    names the missing key.  ``config``: the whole workflow configuration, or a claims job's
    settings (whose ``claims`` holds these beside the study's thresholds)."""
    section = config.get(KEY)
    if not isinstance(section, Mapping):
        raise ConfigError(f"config key {KEY}: missing; it must hold {list(FIELDS)} (config/config.yaml)")
    missing = [f for f in FIELDS if f not in section]
    if missing:
        raise ConfigError(f"config key {KEY}.{missing[0]}: missing key; required keys are {list(FIELDS)}")
    return {f: section[f] for f in FIELDS}


def evaluate_kwargs(config: Mapping) -> dict:
    """The keyword arguments of :func:`maskedntk.core.claims.declare.evaluate` (alpha, n_boot,
    seed) from :func:`claim_statistics`."""
    s = claim_statistics(config)
    return {"alpha": float(s["alpha"]), "n_boot": int(s["bootstrap_resamples"]), "seed": int(s["seed"])}


def with_statistics(settings: Mapping, statistics: Mapping) -> dict:
    """A claims job's settings: ``settings`` (the study's part) with ``statistics`` (from
    :func:`claim_statistics`) added to its ``claims``."""
    clash = set(FIELDS) & set(settings.get(KEY, {}))
    if clash:
        raise ConfigError(f"config key {KEY}.{sorted(clash)[0]}: a global setting (config/config.yaml), not a study's")
    return {**settings, KEY: {**settings.get(KEY, {}), **claim_statistics({KEY: statistics})}}


def split_statistics(settings: Mapping) -> tuple[dict, dict]:
    """The inverse of :func:`with_statistics`: (the global statistics, the study's part)."""
    statistics = claim_statistics(settings)
    rest = {k: v for k, v in settings[KEY].items() if k not in FIELDS}
    return statistics, {**settings, KEY: rest}
