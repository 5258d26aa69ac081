"""``python -m maskedntk.studies.quadratic JOB --config SETTINGS --inputs KEY=PATH ... --out
KEY=PATH ... --log FILE``: the study's jobs on the one job command line of
:mod:`maskedntk.core.jobcli`.

``--config`` holds the settings the job reads (:data:`.experiments.READS`) and the choice of
its run (a flow's ``setup`` and ``regime``, a rates ``regime``, a figure ``name``), as the
workflow's rules pass them; a whole ``config['quadratic']`` is also accepted and reduced to the
job's part.  Outputs: ``table`` and ``meta`` (its metadata) of a simulation job; ``csv``, ``md``,
``html`` and ``meta`` of the claims; ``pdf`` and ``png`` of a figure."""

from __future__ import annotations

import sys

from ...core.jobcli import Job, main
from .experiments import prepare

#: the study's jobs: name -> the function that runs it (imported only when it runs: the claims
#: and figure jobs never import torch)
JOBS = {
    "spectrum": Job("jobs:spectrum", "Fig. 1: eigenvalues of U^T U* U*^T U"),
    "limit": Job("jobs:limit", "d = infinity curves of every regime (Prop. 5.1)"),
    "flow": Job("jobs:flow", "Figs. 2-4: population GD for one (setup, regime)"),
    "rates": Job("jobs:rates", "Fig. 5: loss rates for one regime"),
    "phase": Job("jobs:phase", "recovery sweep over alpha"),
    "empirical": Job("jobs:empirical", "beyond the paper: GD on the empirical risk"),
    "masked": Job("jobs:masked", "beyond the paper: masked training"),
    "claims": Job("claims:job", "the claims table"),
    "figure": Job("figures:job", "one figure"),
}

if __name__ == "__main__":
    sys.exit(main("quadratic", __package__, JOBS, prepare=prepare, description=__doc__.split("\n\n")[0]))
