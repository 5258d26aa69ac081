# Data sets: one .npz per distinct data block, shared by every cell and seed that uses it.


rule make_data:
    output:
        "results/data/{dataset}.npz",
    params:
        data=lambda wildcards: DATASETS[wildcards.dataset],
    log:
        "logs/make_data/{dataset}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/make_data.py"
