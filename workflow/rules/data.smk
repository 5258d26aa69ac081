# Data sets: one .npz per distinct data block, shared by every cell and seed that uses it.


rule make_data:
    output:
        f"{RESULTS}/data/{{dataset}}.npz",
    log:
        f"{LOGS}/make_data/{{dataset}}.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        data=lambda wildcards: DATASETS[wildcards.dataset],
    script:
        "../scripts/make_data.py"
