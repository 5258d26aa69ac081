# Measurement: plateau, contraction factor and theory columns for every run of an
# experiment, then the joined tables.  Cheap; changing metrics or delta reruns only this.


rule aggregate_experiment:
    input:
        records=lambda wildcards: cell_files(wildcards.experiment, "record.json"),
        trajectories=lambda wildcards: cell_files(
            wildcards.experiment, "trajectories.parquet"
        ),
        traces=lambda wildcards: cell_files(wildcards.experiment, "trace.parquet"),
    output:
        runs="results/tables/{experiment}/runs.csv",
        trajectories="results/tables/{experiment}/trajectories.parquet",
        trace="results/tables/{experiment}/trace.parquet",
    log:
        "logs/aggregate_experiment/{experiment}.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cells=lambda wildcards: list(CELLS[wildcards.experiment].values()),
    script:
        "../scripts/aggregate_experiment.py"


rule aggregate_all:
    input:
        runs=expand("results/tables/{experiment}/runs.csv", experiment=CELLS),
        trajectories=expand(
            "results/tables/{experiment}/trajectories.parquet", experiment=CELLS
        ),
    output:
        runs="results/tables/runs.csv",
        trajectories="results/tables/trajectories.parquet",
    log:
        "logs/aggregate_all.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/aggregate_all.py"


rule config_used:
    output:
        report(
            "results/config_used.yaml",
            caption="../report/config.rst",
            category="Configuration",
        ),
    log:
        "logs/config_used.log",
    conda:
        "../../environment.yml"
    params:
        config=config,
    script:
        "../scripts/config_used.py"
