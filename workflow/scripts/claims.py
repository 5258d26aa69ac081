"""Rule claims: test the paper's claims on the aggregated tables (see maskedntk.claims)."""

from maskedntk.claims import claims_job
from maskedntk.jobs import setup_logging

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
claims_job(
    {e: {k: sm.input[f"{e}_{k}"] for k in ("runs", "trajectories", "trace")} for e in sm.params.experiments},
    sm.params.settings,
    sm.output.csv,
    sm.output.md,
    sm.output.html,
)
