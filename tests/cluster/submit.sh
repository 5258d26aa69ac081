#!/usr/bin/env bash
# A stand-in for sbatch/qsub, used by tests/test_workflow.py to drive the workflow through
# snakemake-executor-plugin-cluster-generic on one machine: run the job script (the last
# argument) in the background and print a job id.  Completion is signalled by the marker
# files the plugin's job script writes.
set -euo pipefail
jobscript="${@: -1}"
nohup bash "$jobscript" > "${jobscript}.out" 2>&1 < /dev/null &
echo "$!"
