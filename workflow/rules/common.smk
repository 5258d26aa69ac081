# The core of the workflow, shared by every study: where outputs and logs go, and the
# registry of each study's targets (filled by the study's rules file, read by reproduce_all).

from pathlib import Path

from maskedntk.core.resources import job_memory_limit_mb
from maskedntk.studies import STUDIES

#: where outputs and logs go (config keys results_dir, logs_dir)
RESULTS = str(config.get("results_dir", "results")).rstrip("/")
LOGS = str(config.get("logs_dir", "logs")).rstrip("/")
#: the package's source folder (figure and claim rules depend on their code)
PACKAGE = Path(workflow.basedir) / "src" / "maskedntk"
#: the memory one job may use (config key max_job_mem_mb; default: this machine's memory)
JOB_MEM_LIMIT_MB = job_memory_limit_mb(config)
#: study name -> the outputs of its target (every figure and table it renders)
STUDY_TARGETS = {}
