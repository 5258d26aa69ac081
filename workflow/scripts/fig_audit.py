"""Rule fig_audit: render the figure from the experiment's aggregated tables
(see maskedntk.plotting.audit; rendering never retrains)."""

import logging

import pandas as pd

from maskedntk.jobs import setup_logging
from maskedntk.plotting.audit import render

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
runs = pd.read_csv(sm.input.runs)
trajectories = pd.read_parquet(sm.input.trajectories)
logging.getLogger("maskedntk").info("%s: %d runs, %d trajectory rows", sm.rule, len(runs), len(trajectories))
render(runs, trajectories, sm.output.pdf, sm.output.png)
logging.getLogger("maskedntk").info("wrote %s and %s", sm.output.pdf, sm.output.png)
