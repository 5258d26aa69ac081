"""The study's configuration: validation against the JSON schema
(workflow/schemas/local_convergence.schema.yaml; errors name the key and what is allowed),
the few checks a schema cannot express, and the share of the settings each job reads.

No default lives here: config/local_convergence.yaml is the only place of a default, and the
schema requires every key.  Experiments (docs/studies/local_convergence.md):

  * local          -- GD from near the teachers for m = ratio * r (Theorem 5, Theorem 3 at the
                      end, Section 4's rates); one job per ratio;
  * gradient_bound -- min ||grad L||_F / L along GD for several r and teacher scales (Theorem 4);
  * claim2         -- the losses of Claim 2's two-student and one-student configurations;
  * initialisation -- Algorithm 1 then GD, for several widths (Theorem 6);
  * samples        -- fresh-sample SGD for several batch sizes N (Theorem 7);
  * figure1        -- d = 2, three initial regimes (Figure 1);
  * claim1         -- the ReLU counterexample of Claim 1 / Appendix A.2;
  * relu_variant   -- GD on the ReLU variant (Appendix A.1, not the paper's model) beside the
                      |.| model, from the same start near the teachers.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path

from maskedntk.core.schema import ConfigError, check_schema, load_schema

#: the study's JSON schema (in the repository's workflow/schemas)
SCHEMA = Path(__file__).resolve().parents[4] / "workflow" / "schemas" / "local_convergence.schema.yaml"
KEY = "local_convergence"


def _where(path) -> str:
    out = KEY
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _fail(path, value, allowed: str) -> ConfigError:
    shown = "" if isinstance(value, (dict, list)) else f" = {value!r}"
    return ConfigError(f"config key {_where(path)}{shown}: {allowed}")


def validate(cfg) -> dict:
    """Check ``cfg`` (the mapping under the top-level key ``local_convergence``) against the
    schema and the cross-key rules; return a deep copy.  Raises ValueError naming the key."""
    if cfg is None:
        raise ConfigError(f"config key {KEY}: missing; the configuration needs a top-level key '{KEY}'")
    check_schema({KEY: cfg}, SCHEMA)
    c = copy.deepcopy(dict(cfg))
    t = c["teacher"]
    if t["w_min"] > t["w_max"]:
        raise _fail(["teacher", "w_min"], t["w_min"], f"must be <= teacher.w_max = {t['w_max']}")
    if 1 not in c["local"]["ratios"]:
        raise _fail(["local", "ratios"], c["local"]["ratios"], "must include 1 (the exact case m = r, Section 4)")
    if sum(q > 1 for q in c["local"]["ratios"]) < 2:
        raise _fail(["local", "ratios"], c["local"]["ratios"], "must include at least two ratios > 1")
    c2 = c["claim2"]
    if c2["delta_min"] >= c2["delta_max"]:
        raise _fail(["claim2", "delta_min"], c2["delta_min"], f"must be < claim2.delta_max = {c2['delta_max']}")
    if c["figure1"]["m"] < c["figure1"]["r"]:
        raise _fail(["figure1", "m"], c["figure1"]["m"], f"must be >= figure1.r = {c['figure1']['r']}")
    if c["figure1"]["Delta"] > math.pi / (2 * c["figure1"]["r"]):
        raise _fail(["figure1", "Delta"], c["figure1"]["Delta"], "must be <= pi / (2 r): d = 2 has room for no more")
    if c["teacher"]["r"] > c["teacher"]["d"]:
        raise _fail(
            ["teacher", "r"],
            c["teacher"]["r"],
            f"must be <= teacher.d = {c['teacher']['d']} (linearly independent teachers: the ReLU variant's claim)",
        )
    return c


#: job -> the settings it reads: top-level key -> None (all of it) or the sub-keys it reads.
#: The workflow hands each job only these (:func:`job_settings`), so that a change elsewhere in
#: the config reruns only the jobs that read it.  The claims job's ``claims`` also holds the
#: global claims settings (:data:`CLAIM_STATS`, :func:`with_claim_stats`).
JOB_SETTINGS: dict[str, dict] = {
    "local": {"seeds": None, "teacher": None, "local": None},
    "gradient_bound": {"seeds": None, "teacher": None, "gradient_bound": None},
    "claim2": {"seeds": None, "claim2": None},
    "initialisation": {"seeds": None, "teacher": ("r", "Delta", "w_min", "w_max"), "initialisation": None},
    "samples": {"seeds": None, "teacher": None, "samples": None},
    "figure1": {"seeds": None, "teacher": ("w_min", "w_max"), "figure1": None},
    "claim1": {"seeds": None, "teacher": ("d",)},
    "relu_variant": {"seeds": None, "teacher": None, "relu_variant": None},
    "masked_link": {"seeds": None, "teacher": None, "masked_link": None},
    "claims": {"teacher": ("r", "w_max"), "local": ("eta",), "figure1": ("tol",), "claims": None},
    "figure-local_rate": {"teacher": ("r", "w_max"), "local": ("eta",)},
    "figure-gradient_bound": {},
    "figure-alignment": {},
    "figure-claim2": {},
    "figure-rates": {},
    "figure-initialisation": {"teacher": ("r",), "initialisation": ("d", "gamma", "tol")},
    "figure-samples": {},
    "figure-figure1": {},
    "figure-relu_variant": {"claims": ("relu_sign_angle",)},
    "figure-masked_link": {},
}
#: the jobs that train (one run table each; ``local`` has one per ratio)
RUN_JOBS = (
    "local",
    "gradient_bound",
    "claim2",
    "initialisation",
    "samples",
    "figure1",
    "claim1",
    "relu_variant",
    "masked_link",
)
#: the study's figures (each drawn by the module of that name under .figures)
FIGURES = tuple(job.removeprefix("figure-") for job in JOB_SETTINGS if job.startswith("figure-"))
#: the global claims settings (config/config.yaml, key ``claims``) every study's claims job reads
CLAIM_STATS = ("alpha", "bootstrap_resamples", "seed")


def job_settings(cfg: Mapping, job: str) -> dict:
    """The part of the (validated) study config that job ``job`` reads, same structure."""
    if job not in JOB_SETTINGS:
        raise ValueError(f"job = {job!r}: must be one of {sorted(JOB_SETTINGS)}")
    return {k: cfg[k] if keys is None else {s: cfg[k][s] for s in keys} for k, keys in JOB_SETTINGS[job].items()}


def with_claim_stats(share: Mapping, stats: Mapping | None) -> dict:
    """The claims job's settings: its share with the global claims settings ``stats`` (the
    top-level key ``claims``: alpha, bootstrap_resamples, seed) added to its ``claims``."""
    if not isinstance(stats, Mapping):
        raise ConfigError(f"config key claims: missing; the claims job needs the global keys {list(CLAIM_STATS)}")
    missing = [k for k in CLAIM_STATS if k not in stats]
    if missing:
        raise ConfigError(f"config key claims.{missing[0]}: missing key; required keys are {list(CLAIM_STATS)}")
    share = copy.deepcopy(dict(share))
    share["claims"] = {**share["claims"], **{k: stats[k] for k in CLAIM_STATS}}
    return share


#: the settings that select one job of several: job -> keys (the workflow adds them to the share)
SELECTORS = {"train": ("experiment", "ratio"), "claims": (), "figure": ("figure",)}


def _reads(name: str) -> list[str]:
    """The keys job ``name`` reads (:data:`JOB_SETTINGS`), dotted."""
    return [k if sub is None else f"{k}.{{{', '.join(sub)}}}" for k, sub in JOB_SETTINGS[name].items()]


def _selected(value, key: str, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"config key {key} = {value!r}: must be one of {list(allowed)}")


def job_share(settings: Mapping, job: str) -> dict:
    """What job ``job`` (train, claims, figure) of the command line works with: ``settings`` is
    either its share as the workflow passes it (used as given: validated where the workflow read
    the configuration) or a whole study configuration (validated here, then reduced to the
    share), with the selecting keys (:data:`SELECTORS`: ``experiment`` and, for ``local``,
    ``ratio``; ``figure``) beside it.  Errors name the key and what is allowed."""
    if job not in SELECTORS:
        raise ValueError(f"job = {job!r}: must be one of {sorted(SELECTORS)}")
    select = {k: settings[k] for k in SELECTORS[job] if k in settings}
    share = {k: v for k, v in settings.items() if k not in select}
    whole = load_schema(str(SCHEMA))["properties"][KEY]["required"]
    if job == "train":
        _selected(select.get("experiment"), "experiment", RUN_JOBS)
        name = select["experiment"]
        if name != "local" and "ratio" in select:
            raise ConfigError(f"config key ratio = {select['ratio']!r}: only the experiment local takes a ratio")
        ratio = select.get("ratio")
        if name == "local" and (isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 1):
            raise ConfigError(
                f"config key ratio = {ratio!r}: the experiment local needs a positive integer (m = ratio * r)"
            )
    elif job == "figure":
        _selected(select.get("figure"), "figure", FIGURES)
        name = f"figure-{select['figure']}"
    else:
        name = "claims"
    if all(k in share for k in whole):
        share = job_settings(validate(share), name)
        if name == "local" and select["ratio"] not in settings["local"]["ratios"]:
            raise ConfigError(f"config key ratio = {select['ratio']!r}: must be one of local.ratios")
    for key, sub in JOB_SETTINGS[name].items():
        missing = [key] if key not in share else [f"{key}.{k}" for k in sub or () if k not in share[key]]
        if missing:
            what = job if name == job else f"{job} {name.removeprefix('figure-')}"
            raise ConfigError(f"config key {missing[0]}: missing; job {what} reads {_reads(name)}")
    if name == "claims":
        missing = [k for k in CLAIM_STATS if k not in share.get("claims", {})]
        if missing:
            raise ConfigError(
                f"config key claims.{missing[0]}: missing; the claims job needs the global claims settings "
                f"{list(CLAIM_STATS)} in its claims (the workflow adds them from config/config.yaml)"
            )
    return {**share, **select}
