# Training: one job per grid cell; its seeds run inside the job, one after another.
# (Measured: a job's start-up -- Python, torch, Snakemake's script wrapper -- costs about as
# much as training one seed of a small cell, and the cell's eigen-decomposition of H_inf is
# shared by its seeds, so batching seeds in a job is faster; see README "Run times".)


rule train:
    input:
        data=data_file,
    output:
        trajectories=f"{RESULTS}/train/{{experiment}}/{{cell}}/trajectories.parquet",
        trace=f"{RESULTS}/train/{{experiment}}/{{cell}}/trace.parquet",
        record=f"{RESULTS}/train/{{experiment}}/{{cell}}/record.json",
    log:
        f"{LOGS}/train/{{experiment}}/{{cell}}.log",
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=60,
    params:
        cell=training_params,
    script:
        "../scripts/train.py"
