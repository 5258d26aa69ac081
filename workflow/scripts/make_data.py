"""Rule make_data: build one data set (see maskedntk.jobs.make_data_job)."""

from maskedntk.jobs import make_data_job, setup_logging

setup_logging(snakemake.log[0])  # noqa: F821
make_data_job(snakemake.params.data, snakemake.output[0])  # noqa: F821
