"""Rule aggregate_experiment: measure every run of one experiment (see maskedntk.jobs.aggregate_job)."""

from maskedntk.jobs import aggregate_job, setup_logging

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
aggregate_job(
    sm.params.cells,
    sm.input.records,
    sm.input.trajectories,
    sm.input.traces,
    sm.output.runs,
    sm.output.trajectories,
    sm.output.trace,
)
