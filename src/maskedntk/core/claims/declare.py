"""A claim declared by data, and the loop that tests a list of them.

A :class:`Claim` names its id, its statement, its source in the paper, the experiments it
needs and the function that tests it.  :func:`evaluate` runs every claim on the tables of the
experiments present and returns one row per claim with the columns of
:data:`maskedntk.core.claims.render.COLUMNS`.  A claim's bootstrap generator is derived from
its id (:func:`~maskedntk.core.claims.stats.claim_rng`), never from its position, so the
order of the list changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .render import COLUMNS
from .stats import claim_rng


@dataclass(frozen=True)
class Claim:
    """One falsifiable claim.

    ``test(tables, *, alpha, n_boot, rng, **kwargs)`` receives ``{experiment: tables}`` for
    the experiments in ``experiments`` and returns a dict with some of :data:`COLUMNS`
    (test, n_units, effect, effect_label, ci_low, ci_high, p_value, min_p, verdict, note);
    the declaration supplies claim, statement, source and experiment."""

    id: str
    statement: str
    source: str
    experiments: tuple[str, ...]
    test: Callable[..., dict]
    kwargs: Mapping = field(default_factory=dict)
    #: "all": every experiment must be present; "any": the claim runs on those present
    needs: str = "all"

    def blank_row(self) -> dict:
        row = dict.fromkeys(COLUMNS, math.nan)
        if self.needs not in ("all", "any"):
            raise ValueError(f"claim {self.id}: needs = {self.needs!r}; allowed: 'all', 'any'")
        row.update(
            claim=self.id,
            statement=self.statement,
            source=self.source,
            experiment=", ".join(self.experiments),
            test="",
            effect_label="",
            note="",
            verdict="inconclusive",
            n_units=0,
        )
        return row


def evaluate(
    claims: Sequence[Claim], tables: Mapping[str, object], *, alpha: float, n_boot: int, seed: int
) -> pd.DataFrame:
    """Test every claim; a claim whose experiments are not all in ``tables`` is "not run"."""
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids must be unique, got {ids}")
    rows = []
    for c in claims:
        row = c.blank_row()
        present = [e for e in c.experiments if e in tables]
        missing = [e for e in c.experiments if e not in tables]
        if (missing and c.needs == "all") or not present:
            row.update(verdict="not run", note=f"experiment {' / '.join(missing)} is not in this configuration")
        else:
            got = c.test(
                {e: tables[e] for e in present},
                alpha=alpha,
                n_boot=n_boot,
                rng=claim_rng(c.id, seed),
                **c.kwargs,
            )
            unknown = set(got) - set(COLUMNS)
            if unknown:
                raise ValueError(f"claim {c.id}: test returned unknown columns {sorted(unknown)}")
            row.update(got)
        rows.append(row)
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df["n_units"] = df["n_units"].astype(int)
    return df
