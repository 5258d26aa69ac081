"""Rule fig_width: the plateau against the width m beside the m-terms of the bounds
(see maskedntk.plotting.width)."""

import logging

import pandas as pd

from maskedntk.jobs import setup_logging
from maskedntk.plotting import width

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
cells = width.render(pd.read_csv(sm.input.runs), sm.output.pdf, sm.output.png)
log = logging.getLogger("maskedntk.fig_width")
for _, g in cells.groupby("series", sort=False):
    r = g.iloc[0]
    log.info(
        "%s masks, xi = %.4g, p = %d, tau = %d: fitted log-log slope of the plateau over m %.3f (s.e. %.3f)",
        r["mask"],
        r["xi"],
        r["p"],
        r["tau"],
        r["slope"],
        r["slope_se"],
    )
