# maskedntk: reproduce Liao & Kyrillidis (TMLR 2022), "On the Convergence of Shallow Neural
# Network Training with Randomly Masked Neurons", with the theory beside every measurement.
#
#   snakemake --cores all                     # = reproduce_all on config/config.yaml
#   snakemake --cores all fig_dynamics        # one figure (runs only the jobs it needs)
#   snakemake --cores all --configfile config/paper.yaml
#   snakemake --report results/report.html    # the HTML report, after a run
#   snakemake --profile profiles/slurm        # on a SLURM cluster
#
# See README.md and config/README.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"


localrules:
    reproduce_all,
    tables,
    config_used,


rule reproduce_all:
    default_target: True
    input:
        [figure_outputs(f) for f in ACTIVE_FIGURES],
        f"{RESULTS}/tables/runs.csv",
        f"{RESULTS}/tables/trajectories.parquet",
        f"{RESULTS}/tables/claims.csv",
        f"{RESULTS}/config_used.yaml",


rule tables:
    input:
        f"{RESULTS}/tables/runs.csv",
        f"{RESULTS}/tables/trajectories.parquet",
