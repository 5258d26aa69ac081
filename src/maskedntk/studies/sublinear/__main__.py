"""``python -m maskedntk.studies.sublinear JOB --config SETTINGS --inputs KEY=PATH ... --out
KEY=PATH ... --log FILE``: the study's jobs on the one job command line of
:mod:`maskedntk.core.jobcli`.

``--config`` holds the settings the job reads (:data:`.experiments.JOB_SETTINGS`) and the
choice of its run (a training job's ``M``, a cost job's ``d``, a figure's ``name``), as the
workflow's rules pass them; a whole ``config['sublinear']`` is also accepted (validated, then
reduced to the job's part).  Outputs: ``table`` and ``meta`` of an experiment; ``csv``, ``md``
and ``meta`` of the cost table; ``csv``, ``md``, ``html`` and ``meta`` of the claims; ``pdf``
and ``png`` of a figure."""

from __future__ import annotations

import sys

from ...core.jobcli import Job, main
from .experiments import prepare

#: the study's jobs: name -> the function that runs it (imported only when it runs)
JOBS = {
    "activity": Job("jobs:activity", "active count at initialisation against m"),
    "train": Job("jobs:train", "online SGD for one target norm M"),
    "cost": Job("jobs:cost", "per-step cost of every identifier for one d"),
    "cost-table": Job("jobs:cost_table", "summary table of the cost runs"),
    "claims": Job("claims:job", "the claims table"),
    "figure": Job("figures:job", "one figure"),
}

if __name__ == "__main__":
    sys.exit(main("sublinear", __package__, JOBS, prepare=prepare, description=__doc__.split("\n\n")[0]))
