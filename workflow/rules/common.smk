# The core of the workflow, shared by every study: the global keys of config/config.yaml
# (checked by workflow/schemas/global.schema.yaml), where outputs and logs go, and the registry
# of each study's targets (filled by the study's rules file, read by reproduce_all).

from pathlib import Path

from snakemake.exceptions import WorkflowError

from maskedntk.core.resources import job_memory_limit_mb
from maskedntk.core.schema import ConfigError, check_schema
from maskedntk.studies import STUDIES

# every top-level key that is not a study's name is a global key, checked here (a misspelt
# key is refused, naming it); each study's rules file checks its own key
try:
    check_schema(
        {k: v for k, v in config.items() if k not in STUDIES},
        Path(workflow.basedir) / "workflow" / "schemas" / "global.schema.yaml",
    )
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}")

#: where outputs and logs go (config keys results_dir, logs_dir); study <s> uses <RESULTS>/<s>/
RESULTS = str(config["results_dir"]).rstrip("/")
LOGS = str(config["logs_dir"]).rstrip("/")
#: the package's source folder (figure and claim rules depend on their code)
PACKAGE = Path(workflow.basedir) / "src" / "maskedntk"
#: the memory one job may use (config key max_job_mem_mb; default: this machine's memory)
JOB_MEM_LIMIT_MB = job_memory_limit_mb(config)
#: study name -> the outputs of its target (every figure and table it renders)
STUDY_TARGETS = {}
