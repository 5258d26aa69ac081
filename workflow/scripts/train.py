"""Rule train: train every seed of one grid cell (see maskedntk.jobs.train_job)."""

from maskedntk.jobs import setup_logging, train_job

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
train_job(
    sm.params.cell,
    sm.wildcards.cell,
    sm.input.data,
    sm.output.trajectories,
    sm.output.trace,
    sm.output.record,
    threads=sm.threads,
)
