"""Rule fig_dynamics: L_k per round with Theorem 3, and the loss through local steps
(see maskedntk.plotting.dynamics)."""

import pandas as pd

from maskedntk.jobs import setup_logging
from maskedntk.plotting import dynamics

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
dynamics.render(
    pd.read_csv(sm.input.runs),
    pd.read_parquet(sm.input.trajectories),
    pd.read_parquet(sm.input.trace),
    sm.output.pdf,
    sm.output.png,
)
