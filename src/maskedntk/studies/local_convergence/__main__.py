"""The study's jobs on the one command line of every study (:mod:`maskedntk.core.jobcli`)::

    python -m maskedntk.studies.local_convergence JOB --config SETTINGS --inputs KEY=PATH ...
                                                  --out KEY=PATH ... meta=PATH --log FILE

* ``train``: one experiment; settings: its share of the configuration
  (:func:`.experiments.job_settings`) with ``experiment`` and, for ``local``, ``ratio``;
  ``--out`` its tables (``runs``, and ``traj``, ``neurons`` where it has them).
* ``claims``: the claims table; settings: its share, whose ``claims`` also holds the global
  claims settings (alpha, bootstrap_resamples, seed); ``--inputs EXPERIMENT=TABLE`` (a key
  repeats for the ``local`` ratios); ``--out csv= md= html=``.
* ``figure``: one figure; settings: its share with ``figure``; ``--inputs`` its tables;
  ``--out pdf= png=``.

``--config`` may also hold a whole study configuration with the selecting keys beside it
(:func:`.experiments.job_share`).  ``--out meta=PATH`` writes the job's metadata there.
"""

from __future__ import annotations

import sys

from maskedntk.core import jobcli

from .experiments import job_share

#: job -> the function that runs it (module:function in this package)
JOBS = {
    "train": jobcli.Job("jobs:train", "run one experiment (settings: experiment; ratio for local)"),
    "claims": jobcli.Job("jobs:claims", "the claims table"),
    "figure": jobcli.Job("jobs:figure", "render one figure (settings: figure)"),
}


def main(argv: list[str] | None = None) -> int:
    return jobcli.main("local_convergence", __package__, JOBS, argv, prepare=job_share, description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
