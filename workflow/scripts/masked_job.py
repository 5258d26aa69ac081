"""Every rule of the masked-neuron study runs this script: it calls the job of the rule's
name (maskedntk.studies.masked.jobs.rule_job), logging to the rule's log file, which ends
with the traceback when the job fails."""

from maskedntk.core.jobs import logged_job
from maskedntk.studies.masked.jobs import rule_job

sm = snakemake  # noqa: F821
with logged_job(sm.log[0], sm.rule):
    rule_job(sm)
