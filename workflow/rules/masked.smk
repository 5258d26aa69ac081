# The masked-neuron study (Liao & Kyrillidis, TMLR 2022): data, one training job per grid
# cell, measurement, figures and claims.  Its settings are config/config.yaml's keys
# (defaults, experiments, metrics, claims); docs/masked/ explains them.
# A bad configuration stops here, before any job, with an error naming the key.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.masked.figures import FIGURES
from maskedntk.studies.masked.workflow import ConfigError, MaskedWorkflow

try:
    MASKED = MaskedWorkflow(
        config,
        RESULTS,
        Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml",
        other_studies=STUDIES,
        mem_limit_mb=JOB_MEM_LIMIT_MB,
    )
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}")

CELLS = MASKED.cells
MASKED_JOB = "../scripts/masked_job.py"
#: the study's category in the HTML report (snakemake --report)
MASKED_CATEGORY = "Masked neurons"


wildcard_constraints:
    experiment=r"[A-Za-z][A-Za-z0-9_]*",
    job=r"[A-Za-z_]+~[^/]+(/[A-Za-z_]+~[^/]+)*",
    dataset=r"[A-Za-z0-9_.\-]+",


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
        data=lambda wildcards: MASKED.datasets[wildcards.dataset],
    script:
        MASKED_JOB


# Training: one job per row of an experiment's grid (config key train_job; `cell` gives one
# job per cell).  A job's output is the folder results/train/<experiment>/<job>, holding one
# folder per cell (trajectories.parquet, trace.parquet, record.json).
rule train:
    input:
        data=MASKED.data_files,
    output:
        directory(f"{RESULTS}/train/{{experiment}}/{{job}}"),
    log:
        f"{LOGS}/train/{{experiment}}/{{job}}.log",
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=MASKED.train_mem_mb,
        runtime=120,
    params:
        cells=MASKED.training_params,
    script:
        MASKED_JOB


# The predicted plateau of every (cell, seed) from the data and the initialisation alone
# (docs/masked/prediction.md); one job per training job, so predictions run in parallel.
# Reads a record only for the cell's eta and each seed's number of rounds; changing the
# predictor never retrains.
rule predict:
    input:
        train=f"{RESULTS}/train/{{experiment}}/{{job}}",
        data=MASKED.data_files,
        code=str(PACKAGE / "studies" / "masked" / "prediction.py"),
    output:
        f"{RESULTS}/tables/{{experiment}}/predictions/{{job}}.csv",
    log:
        f"{LOGS}/predict/{{experiment}}/{{job}}.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        cells=MASKED.training_params,
    script:
        MASKED_JOB


# Measurement: plateau, contraction factor and theory columns for every run of an
# experiment, then the joined tables.  Cheap; changing metrics or delta reruns only this.
rule aggregate_experiment:
    input:
        predictions=lambda wildcards: MASKED.prediction_files(wildcards.experiment),
        train=lambda wildcards: MASKED.train_dirs(wildcards.experiment),
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
        records=lambda wildcards: MASKED.cell_files(wildcards.experiment, "record.json"),
        trajectories=lambda wildcards: MASKED.cell_files(wildcards.experiment, "trajectories.parquet"),
        traces=lambda wildcards: MASKED.cell_files(wildcards.experiment, "trace.parquet"),
    script:
        MASKED_JOB


rule aggregate_all:
    input:
        runs=expand(f"{RESULTS}/tables/{{experiment}}/runs.csv", experiment=CELLS),
        trajectories=expand(f"{RESULTS}/tables/{{experiment}}/trajectories.parquet", experiment=CELLS),
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
        MASKED_JOB


rule config_used:
    output:
        report(f"{RESULTS}/config_used.yaml", caption="../report/config.rst", category="Configuration"),
    log:
        f"{LOGS}/config_used.log",
    conda:
        "../../environment.yml"
    params:
        config=config,
    script:
        MASKED_JOB


# Figures: one rule per entry of the figure table (maskedntk.studies.masked.figures.FIGURES).
# A figure reads only the aggregated tables (restyling never retrains) and depends on its
# module and the shared style, so editing either re-renders that figure alone.
for _name, _spec in FIGURES.items():
    if _name in MASKED.active_figures:

        rule:
            name:
                _name
            input:
                **MASKED.figure_inputs(_name),
                style=str(PACKAGE / "core" / "paper.mplstyle"),
                code=[
                    str(PACKAGE / "studies" / "masked" / "figures" / f"{m}.py")
                    for m in (_spec.module, "common", "grids")
                ]
                + [str(PACKAGE / "core" / "figures.py")],
            output:
                pdf=f"{RESULTS}/figures/{_name}.pdf",
                png=report(
                    f"{RESULTS}/figures/{_name}.png",
                    caption=f"../report/{_name}.rst",
                    category=MASKED_CATEGORY,
                    subcategory="Figures",
                    labels={"figure": _name.removeprefix("fig_")},
                ),
            log:
                f"{LOGS}/figures/{_name}.log",
            conda:
                "../../environment.yml"
            threads: 1
            resources:
                mem_mb=2000,
                runtime=10,
            params:
                figure=_name,
                tables=list(MASKED.figure_inputs(_name)),
                protocols=config.get("protocols"),
            script:
                MASKED_JOB

    else:

        rule:
            name:
                _name
            params:
                why=MASKED.why_not(_name),
            run:
                raise WorkflowError(params.why)


rule claims:
    input:
        **MASKED.all_tables(),
        code=[str(p) for p in sorted((PACKAGE / "studies" / "masked" / "claims").glob("*.py"))],
    output:
        csv=f"{RESULTS}/tables/claims.csv",
        md=f"{RESULTS}/tables/claims.md",
        html=report(
            f"{RESULTS}/tables/claims.html",
            caption="../report/claims.rst",
            category=MASKED_CATEGORY,
            subcategory="Claims",
        ),
    log:
        f"{LOGS}/claims.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        experiments=list(CELLS),
        settings=config["claims"],
    script:
        MASKED_JOB


if MASKED.has_protocols:

    rule claims_robustness:
        input:
            **MASKED.all_tables(),
            code=[str(p) for p in sorted((PACKAGE / "studies" / "masked" / "claims").glob("*.py"))]
            + [str(PACKAGE / "studies" / "masked" / "protocols.py")],
        output:
            csv=f"{RESULTS}/tables/claims_robustness.csv",
            md=report(
                f"{RESULTS}/tables/claims_robustness.md",
                caption="../report/claims_robustness.rst",
                category=MASKED_CATEGORY,
                subcategory="Claims",
            ),
        log:
            f"{LOGS}/claims_robustness.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            experiments=list(CELLS),
            settings=config["claims"],
            protocols=config.get("protocols"),
        script:
            MASKED_JOB


rule tables:
    input:
        f"{RESULTS}/tables/runs.csv",
        f"{RESULTS}/tables/trajectories.parquet",


# How close the predicted plateaus are to the measured ones, by experiment and mask kind.
rule prediction_accuracy:
    input:
        runs=f"{RESULTS}/tables/runs.csv",
        code=str(PACKAGE / "studies" / "masked" / "accuracy.py"),
    output:
        csv=f"{RESULTS}/tables/prediction_accuracy.csv",
        md=f"{RESULTS}/tables/prediction_accuracy.md",
    log:
        f"{LOGS}/prediction_accuracy.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        MASKED_JOB


rule masked_all:
    input:
        [MASKED.figure_outputs(f) for f in MASKED.active_figures],
        f"{RESULTS}/tables/runs.csv",
        f"{RESULTS}/tables/trajectories.parquet",
        f"{RESULTS}/tables/claims.csv",
        f"{RESULTS}/tables/prediction_accuracy.csv",
        [f"{RESULTS}/tables/claims_robustness.csv"] if MASKED.has_protocols else [],
        f"{RESULTS}/config_used.yaml",


STUDY_TARGETS["masked"] = rules.masked_all.input


# The predicted paper-scale map: config/paper.yaml's two heatmaps (m = 4000, 10 seeds) predicted
# from the initialisation alone, merged over config/config.yaml as --configfile merges them
# (docs/masked/prediction.md sec. 8).  No training: `snakemake predicted_map --cores 2`.
import sys

PREDICTED_MAP = f"{sys.executable} -m maskedntk.studies.masked.predicted_map"
PAPER_CONFIGS = [str(Path(workflow.basedir) / "config" / f) for f in ("config.yaml", "paper.yaml")]


rule predicted_map:
    input:
        configs=PAPER_CONFIGS,
        code=[str(PACKAGE / "studies" / "masked" / f) for f in ("prediction.py", "predict_grid.py", "predicted_map.py")],
    output:
        f"{RESULTS}/tables/predicted_map.csv",
    log:
        f"{LOGS}/predicted_map.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        command=PREDICTED_MAP,
    shell:
        "{params.command} predict --configs {input.configs} --out {output} --workers {threads} > {log} 2>&1"


# The map beside the measured default-scale heatmaps (their ratio per shared cell).
rule fig_predicted_map:
    input:
        map=f"{RESULTS}/tables/predicted_map.csv",
        bernoulli=f"{RESULTS}/tables/heatmap_bernoulli/runs.csv",
        categorical=f"{RESULTS}/tables/heatmap_categorical/runs.csv",
        code=str(PACKAGE / "studies" / "masked" / "figures" / "predicted_map.py"),
    output:
        pdf=f"{RESULTS}/figures/fig_predicted_map.pdf",
        png=f"{RESULTS}/figures/fig_predicted_map.png",
    log:
        f"{LOGS}/figures/fig_predicted_map.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        command=PREDICTED_MAP,
    shell:
        "{params.command} figure --map {input.map} --bernoulli {input.bernoulli} --categorical {input.categorical} "
        "--pdf {output.pdf} --png {output.png} > {log} 2>&1"
