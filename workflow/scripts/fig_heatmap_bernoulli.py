"""Rule fig_heatmap_bernoulli: render the figure from the experiment's aggregated tables
(see maskedntk.plotting.heatmap_bernoulli; rendering never retrains)."""

import logging

import pandas as pd

from maskedntk.jobs import setup_logging
from maskedntk.plotting.heatmap_bernoulli import render

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
runs = pd.read_csv(sm.input.runs)
logging.getLogger("maskedntk").info("%s: %d runs from %s", sm.rule, len(runs), sm.input.runs)
render(runs, sm.output.pdf, sm.output.png)
logging.getLogger("maskedntk").info("wrote %s and %s", sm.output.pdf, sm.output.png)
