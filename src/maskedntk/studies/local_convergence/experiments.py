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
#: the config reruns only the jobs that read it.
_CLAIM_STATS = ("alpha", "bootstrap_resamples", "bootstrap_seed")
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


def job_settings(cfg: Mapping, job: str) -> dict:
    """The part of the (validated) study config that job ``job`` reads, same structure."""
    if job not in JOB_SETTINGS:
        raise ValueError(f"job = {job!r}: must be one of {sorted(JOB_SETTINGS)}")
    return {k: cfg[k] if keys is None else {s: cfg[k][s] for s in keys} for k, keys in JOB_SETTINGS[job].items()}


def settings(cfg: Mapping) -> dict:
    """What a job works with: a whole study config is validated; one job's share (as the
    workflow passes it, already validated) is used as given."""
    whole = load_schema(str(SCHEMA))["properties"][KEY]["required"]
    return validate(cfg) if all(k in cfg for k in whole) else dict(cfg)
