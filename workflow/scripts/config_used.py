"""Rule config_used: the configuration of this run, for the report."""

from maskedntk.jobs import setup_logging, write_config_job

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
write_config_job(dict(sm.params.config), sm.output[0])
