"""Figures of the local-convergence study.  Every module exposes
``render(inputs: Mapping[str, str], pdf: str, png: str, settings: Mapping) -> None``; ``inputs``
maps input keys (e.g. ``curves_r2_traj``) to files, ``settings`` is the validated study config
or the part of it the figure reads (``experiments.JOB_SETTINGS['figure-<name>']``)."""
