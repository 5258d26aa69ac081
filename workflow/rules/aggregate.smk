# Measurement: plateau, contraction factor and theory columns for every run of an
# experiment, then the joined tables.  Cheap; changing metrics or delta reruns only this.


rule aggregate_experiment:
    input:
        records=lambda wildcards: cell_files(wildcards.experiment, "record.json"),
        trajectories=lambda wildcards: cell_files(wildcards.experiment, "trajectories.parquet"),
        traces=lambda wildcards: cell_files(wildcards.experiment, "trace.parquet"),
    output:
        runs="results/tables/{experiment}/runs.csv",
        trajectories="results/tables/{experiment}/trajectories.parquet",
        trace="results/tables/{experiment}/trace.parquet",
    params:
        cells=lambda wildcards: list(CELLS[wildcards.experiment].values()),
    log:
        "logs/aggregate_experiment/{experiment}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/aggregate_experiment.py"


rule aggregate_all:
    input:
        runs=expand("results/tables/{experiment}/runs.csv", experiment=CELLS),
        trajectories=expand("results/tables/{experiment}/trajectories.parquet", experiment=CELLS),
    output:
        runs="results/tables/runs.csv",
        trajectories="results/tables/trajectories.parquet",
    log:
        "logs/aggregate_all.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/aggregate_all.py"


rule config_used:
    output:
        "results/config_used.yaml",
    params:
        config=config,
    log:
        "logs/config_used.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/config_used.py"
