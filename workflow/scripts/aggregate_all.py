"""Rule aggregate_all: join the per-experiment tables (see maskedntk.jobs.concat_job)."""

from maskedntk.jobs import concat_job, setup_logging

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
concat_job(sm.input.runs, sm.input.trajectories, sm.output.runs, sm.output.trajectories)
