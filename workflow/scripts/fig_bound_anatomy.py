"""Rule fig_bound_anatomy: the six terms of B1 (Theorem 3) against the measured plateau
(see maskedntk.plotting.bound_anatomy)."""

import logging

import pandas as pd

from maskedntk.jobs import setup_logging
from maskedntk.plotting import bound_anatomy

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
table = bound_anatomy.render(pd.read_csv(sm.input.runs), sm.output.pdf, sm.output.png)
log = logging.getLogger("maskedntk.fig_bound_anatomy")
for _, r in table.iterrows():
    log.info(
        "p = %g, xi = %g: B1 = %.3g, plateau = %.3g, B1 / plateau = %.3g", r.p, r.xi, r.B1, r.plateau_mean, r.ratio
    )
