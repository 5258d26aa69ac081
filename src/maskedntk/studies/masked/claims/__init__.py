"""The masked-neuron study's claims: declared in :mod:`.declared`, tested by the functions of
:mod:`.trend`, :mod:`.levels` and :mod:`.rates` with the shared statistics of :mod:`maskedntk.core.claims`.

:func:`evaluate_claims` takes {experiment: {"runs": df, "trajectories": df, "trace": df}} and
returns one row per claim (columns :data:`maskedntk.core.claims.render.COLUMNS`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from maskedntk.core.atomic import write_frame, write_text
from maskedntk.core.claims.declare import evaluate
from maskedntk.core.claims.render import effect_text, render_robustness, write_claims
from maskedntk.core.claims.stats import fmt_p

from ..protocols import compared, description, headline, tables_under
from .declared import CLAIMS
from .rates import rate_sanity

TITLE = "The paper's claims, tested"
FOOTER = (
    "Seeds are the replicates (runs of one seed share their initialisation and mask draws across cells); "
    "confidence intervals are percentile bootstraps over seeds (over cells for the rate claim). "
    "Source: Liao & Kyrillidis, arXiv 2112.02668v1."
)
TABLES = ("runs", "trajectories", "trace")


def evaluate_claims(
    tables: Mapping[str, Mapping[str, pd.DataFrame]], alpha: float = 0.05, n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Test every claim of :data:`CLAIMS` on the experiments present in ``tables``."""
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha = {alpha!r}: must lie in (0, 1)")
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot = {n_boot!r}: must be a positive integer")
    return evaluate(CLAIMS, tables, alpha=float(alpha), n_boot=int(n_boot), seed=int(seed))


def load_tables(paths: Mapping[str, Mapping[str, str | Path]]) -> dict[str, dict[str, pd.DataFrame]]:
    """Read {experiment: {"runs": csv, "trajectories": parquet, "trace": parquet}} paths."""
    readers = {"runs": pd.read_csv, "trajectories": pd.read_parquet, "trace": pd.read_parquet}
    return {e: {t: readers[t](p[t]) for t in TABLES} for e, p in paths.items()}


def tables_in(root, experiments=None) -> dict[str, dict[str, Path]]:
    """The table paths of every experiment folder under ``root`` (results/masked/tables) that has all three."""
    root = Path(root)
    names = experiments if experiments is not None else sorted(d.name for d in root.iterdir() if d.is_dir())
    out = {}
    for e in names:
        p = {t: root / e / f"{t}.{'csv' if t == 'runs' else 'parquet'}" for t in TABLES}
        if all(v.exists() for v in p.values()):
            out[e] = p
    return out


def claims_job(paths, settings: Mapping, out_csv, out_md, out_html) -> pd.DataFrame:
    """Rule claims: read the tables, test the claims, write the CSV, Markdown and HTML atomically."""
    log = logging.getLogger("maskedntk")
    alpha = float(settings.get("alpha", 0.05))
    tables = load_tables(paths)
    df = evaluate_claims(
        tables,
        alpha=alpha,
        n_boot=int(settings.get("bootstrap_resamples", 2000)),
        seed=int(settings.get("seed", 0)),
    )
    sanity = rate_sanity({e: t["runs"] for e, t in tables.items() if e != "dynamics"})
    write_claims(df, out_csv, out_md, out_html, title=TITLE, alpha=alpha, footer=f"{FOOTER} {sanity}".strip())
    for r in df.to_dict("records"):
        log.info("%-30s %-15s effect %s  p %s", r["claim"], r["verdict"], effect_text(r), fmt_p(r["p_value"]))
    return df


def robustness_job(paths, settings: Mapping, config: Mapping, out_csv, out_md) -> pd.DataFrame:
    """Rule claims_robustness: every claim under the headline protocol and under each compared
    protocol (:mod:`maskedntk.studies.masked.protocols`): one row per (claim, protocol)."""
    log = logging.getLogger("maskedntk")
    alpha = float(settings.get("alpha", 0.05))
    tables = load_tables(paths)
    names = {None: headline(config), **{p: p for p in compared(config)}}
    frames = []
    for prot, name in names.items():
        df = evaluate_claims(
            tables_under(tables, prot, config),
            alpha=alpha,
            n_boot=int(settings.get("bootstrap_resamples", 2000)),
            seed=int(settings.get("seed", 0)),
        )
        frames.append(df.assign(protocol=name))
        log.info("protocol %s: %s", name, dict(df["verdict"].value_counts()))
    out = pd.concat(frames, ignore_index=True)
    cols = ["claim", "protocol", "verdict", "effect", "ci_low", "ci_high", "p_value", "min_p", "n_units", "note"]
    out = out[cols]
    write_frame(out_csv, out)
    descriptions = {name: description(config, prot) for prot, name in names.items()}
    write_text(
        out_md, render_robustness(out, title="The claims under each protocol", protocols=descriptions, alpha=alpha)
    )
    return out
