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
        runs=f"{RESULTS}/tables/{{experiment}}/runs.csv",
        trajectories=f"{RESULTS}/tables/{{experiment}}/trajectories.parquet",
        trace=f"{RESULTS}/tables/{{experiment}}/trace.parquet",
    log:
        f"{LOGS}/aggregate_experiment/{{experiment}}.log",
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
        runs=expand(f"{RESULTS}/tables/{{experiment}}/runs.csv", experiment=CELLS),
        trajectories=expand(
            f"{RESULTS}/tables/{{experiment}}/trajectories.parquet", experiment=CELLS
        ),
    output:
        runs=f"{RESULTS}/tables/runs.csv",
        trajectories=f"{RESULTS}/tables/trajectories.parquet",
    log:
        f"{LOGS}/aggregate_all.log",
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
            f"{RESULTS}/config_used.yaml",
            caption="../report/config.rst",
            category="Configuration",
        ),
    log:
        f"{LOGS}/config_used.log",
    conda:
        "../../environment.yml"
    params:
        config=config,
    script:
        "../scripts/config_used.py"
