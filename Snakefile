# The reference pipeline for shallow-network training theory: one study per paper, each with
# its figures (theory beside measurement) and a claims table.  The studies are registered in
# src/maskedntk/studies/__init__.py (STUDIES); each brings workflow/rules/<study>.smk, which
# loads config/<study>.yaml; config/config.yaml holds the global keys only.
#
#   snakemake --cores all                     # = reproduce_all: every study
#   snakemake --cores all <study>_all         # one study (each figure has a target too)
#   snakemake --cores all <study>_all --configfile config/<study>_paper.yaml
#   snakemake --report results/report.html    # the HTML report, after a run
#   snakemake --profile profiles/slurm        # on a SLURM cluster
#
# See README.md and docs/architecture.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


for _study in STUDIES:

    include: f"workflow/rules/{_study}.smk"


localrules:
    reproduce_all,


rule reproduce_all:
    default_target: True
    input:
        [target for targets in STUDY_TARGETS.values() for target in targets],
