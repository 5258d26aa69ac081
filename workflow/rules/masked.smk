configfile: "config/masked.yaml"


# The masked-neuron study (Liao & Kyrillidis, TMLR 2022): data, one training job per grid row
# (or cell), prediction, measurement, figures and claims.  Settings: the key `masked` of
# config/masked.yaml (paper scale: --configfile config/masked_paper.yaml), validated by
# workflow/schemas/masked.schema.yaml (a bad configuration stops here, before any job, naming
# the key and what is allowed; so does one whose job cannot fit in memory); the global
# `claims` key sets the claims' tests.  docs/masked/ explains them.  Target: masked_all.
#
# Jobs (python -m maskedntk.studies.masked JOB): make_data -> {RESULTS}/masked/data/; train ->
# {RESULTS}/masked/train/<experiment>/<job>/ (a folder per cell); predict, aggregate,
# aggregate_all, claims, claims_robustness, prediction_accuracy -> {RESULTS}/masked/tables/,
# each with its metadata JSON beside its table; one figure rule per entry of the figure table
# (maskedntk.studies.masked.figures.FIGURES) -> {RESULTS}/masked/figures/.  Each job gets as
# --config only the settings it reads (a figure or metrics setting never retrains); memory and
# runtime are estimated from those settings (maskedntk.studies.masked.resources).  Paths,
# settings and inputs come from maskedntk.studies.masked.workflow.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.masked.figures import FIGURES
from maskedntk.studies.masked.workflow import ConfigError, MaskedWorkflow, pairs

#: the study's category in the HTML report (snakemake --report)
MASKED_CATEGORY = "Masked neurons"

try:
    MASKED = MaskedWorkflow(
        config,
        RESULTS,
        LOGS,
        Path(workflow.basedir) / "workflow" / "schemas" / "masked.schema.yaml",
        mem_limit_mb=JOB_MEM_LIMIT_MB,
    )
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}")

CELLS = MASKED.cells
MASKED_DIR = MASKED.dir


localrules:
    masked_tables,
    config_used,


wildcard_constraints:
    experiment=r"[A-Za-z][A-Za-z0-9_]*",
    job=r"[A-Za-z_]+~[^/]+(/[A-Za-z_]+~[^/]+)*",
    dataset=r"[A-Za-z0-9_.\-]+",


rule make_data:
    output:
        data=f"{MASKED_DIR}/data/{{dataset}}.npz",
        meta=f"{MASKED_DIR}/data/{{dataset}}.json",
    log:
        MASKED.log("make_data", "{dataset}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        command=MASKED.command,
        settings=lambda wildcards: MASKED.settings_arg({"data": MASKED.datasets[wildcards.dataset]}),
    shell:
        "{params.command} make_data --config {params.settings} --out data={output.data} meta={output.meta} --log {log}"


# Training: one job per row of an experiment's grid (key train_job; `cell` gives one job per
# cell).  A job's output is the folder {RESULTS}/masked/train/<experiment>/<job>, holding one
# folder per cell (trajectories.parquet, trace.parquet, record.json).
rule train:
    input:
        data=MASKED.data_files,
    output:
        directory(f"{MASKED_DIR}/train/{{experiment}}/{{job}}"),
    log:
        MASKED.log("train", "{experiment}", "{job}"),
    conda:
        "../../environment.yml"
    threads: MASKED.settings["threads"]
    # the longest jobs first (the rest, many short ones, fill the cores at the end)
    priority: 1
    resources:
        mem_mb=MASKED.train_mem_mb,
        runtime=MASKED.train_runtime,
    params:
        command=MASKED.command,
        settings=lambda wildcards: MASKED.settings_arg(MASKED.train_settings(wildcards)),
        data=lambda wildcards, input: pairs("data", input.data),
    # torch and BLAS get the rule's threads
    shell:
        "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "{params.command} train --config {params.settings} --inputs {params.data} --out dir={output} --log {log}"


# The predicted plateau of every (cell, seed) of an experiment from the data and the
# initialisation alone (docs/masked/prediction.md); one job per experiment (a prediction takes
# milliseconds, a process start seconds).  Reads a record only for the cell's eta and each
# seed's number of rounds; changing the predictor never retrains.
rule predict:
    input:
        train=lambda wildcards: MASKED.train_dirs(wildcards.experiment),
        data=lambda wildcards: MASKED.experiment_data_files(wildcards.experiment),
        code=MASKED.code("prediction.py"),
    output:
        **MASKED.prediction_files("{experiment}"),
    log:
        MASKED.log("predict", "{experiment}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=MASKED.predict_mem_mb,
        runtime=MASKED.predict_runtime,
    params:
        command=MASKED.command,
        settings=lambda wildcards: MASKED.settings_arg(MASKED.predict_settings(wildcards.experiment)),
        inputs=lambda wildcards: MASKED.predict_inputs(wildcards.experiment),
    shell:
        "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "
        "{params.command} predict --config {params.settings} --inputs {params.inputs} "
        "--out predictions={output.predictions} meta={output.meta} --log {log}"


# Measurement: plateau, contraction factor and theory columns for every run of an
# experiment, then the joined tables.  Cheap; changing metrics or delta reruns only this.
rule aggregate_experiment:
    input:
        predictions=lambda wildcards: MASKED.prediction_files(wildcards.experiment)["predictions"],
        train=lambda wildcards: MASKED.train_dirs(wildcards.experiment),
    output:
        runs=f"{MASKED_DIR}/tables/{{experiment}}/runs.csv",
        trajectories=f"{MASKED_DIR}/tables/{{experiment}}/trajectories.parquet",
        trace=f"{MASKED_DIR}/tables/{{experiment}}/trace.parquet",
        meta=f"{MASKED_DIR}/tables/{{experiment}}/runs.json",
    log:
        MASKED.log("aggregate_experiment", "{experiment}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: MASKED.tables_mem_mb([wildcards.experiment]),
        runtime=lambda wildcards: MASKED.tables_runtime([wildcards.experiment]),
    params:
        command=MASKED.command,
        settings=lambda wildcards: MASKED.settings_arg(MASKED.aggregate_settings(wildcards.experiment)),
        inputs=lambda wildcards: MASKED.aggregate_inputs(wildcards.experiment),
    shell:
        "{params.command} aggregate --config {params.settings} --inputs {params.inputs} "
        "--out runs={output.runs} trajectories={output.trajectories} trace={output.trace} meta={output.meta} "
        "--log {log}"


rule aggregate_all:
    input:
        runs=[MASKED.experiment_tables(e)["runs"] for e in CELLS],
        trajectories=[MASKED.experiment_tables(e)["trajectories"] for e in CELLS],
    output:
        runs=f"{MASKED_DIR}/tables/runs.csv",
        trajectories=f"{MASKED_DIR}/tables/trajectories.parquet",
        meta=f"{MASKED_DIR}/tables/runs.json",
    log:
        MASKED.log("aggregate_all"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=MASKED.tables_mem_mb(),
        runtime=MASKED.tables_runtime(),
    params:
        command=MASKED.command,
        inputs=lambda wildcards, input: f"{pairs('runs', input.runs)} {pairs('trajectories', input.trajectories)}",
    shell:
        "{params.command} aggregate_all --config '{{}}' --inputs {params.inputs} "
        "--out runs={output.runs} trajectories={output.trajectories} meta={output.meta} --log {log}"


rule config_used:
    output:
        config=report(f"{MASKED_DIR}/config_used.yaml", caption="../report/config.rst", category="Configuration"),
    log:
        MASKED.log("config_used"),
    conda:
        "../../environment.yml"
    params:
        command=MASKED.command,
        settings=MASKED.settings_arg({"config": MASKED.config_used()}),
    shell:
        "{params.command} config_used --config {params.settings} --out config={output.config} --log {log}"


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
                    *MASKED.code(*(f"figures/{m}.py" for m in (_spec.module, "common", "grids"))),
                    str(PACKAGE / "core" / "figures.py"),
                ],
            output:
                pdf=MASKED.figure_outputs(_name)[0],
                png=report(
                    MASKED.figure_outputs(_name)[1],
                    caption=f"../report/masked/{_name}.rst",
                    category=MASKED_CATEGORY,
                    subcategory="Figures",
                    labels={"figure": _name.removeprefix("fig_")},
                ),
            log:
                MASKED.log("figures", _name),
            conda:
                "../../environment.yml"
            threads: 1
            resources:
                mem_mb=MASKED.tables_mem_mb([_spec.experiment] if _spec.experiment else None),
                runtime=MASKED.tables_runtime([_spec.experiment] if _spec.experiment else None),
            params:
                command=MASKED.command,
                settings=MASKED.settings_arg(MASKED.figure_settings(_name)),
                inputs=MASKED.table_inputs(MASKED.figure_inputs(_name)),
            shell:
                "{params.command} figure --config {params.settings} --inputs {params.inputs} "
                "--out pdf={output.pdf} png={output.png} --log {log}"

    else:

        rule:
            name:
                _name
            params:
                why=MASKED.why_not(_name),
            run:
                raise WorkflowError(params.why)


for _rule, _robust, _outs in [
    ("claims", False, ("csv", "md", "html")),
    ("claims_robustness", True, ("csv", "md")),
]:
    if _robust and not MASKED.has_protocols:
        continue
    _files = {ext: MASKED.path("tables", f"{_rule}.{ext}") for ext in _outs}
    # the table shown in the report: the claims' HTML, the robustness table's Markdown
    _shown = _outs[-1]

    rule:
        name:
            _rule
        input:
            **MASKED.all_tables(),
            code=[
                *sorted(str(p) for p in (PACKAGE / "studies" / "masked" / "claims").glob("*.py")),
                *(MASKED.code("protocols.py") if _robust else []),
            ],
        output:
            **{ext: f for ext, f in _files.items() if ext != _shown},
            **{
                _shown: report(
                    _files[_shown],
                    caption=f"../report/masked/{_rule}.rst",
                    category=MASKED_CATEGORY,
                    subcategory="Claims",
                )
            },
            meta=MASKED.path("tables", f"{_rule}.json"),
        log:
            MASKED.log(_rule),
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=MASKED.tables_mem_mb(),
            runtime=MASKED.tables_runtime(),
        params:
            command=MASKED.command,
            job=_rule,
            settings=MASKED.settings_arg(MASKED.claims_settings(robustness=_robust)),
            inputs=MASKED.table_inputs(MASKED.all_tables()),
            out=lambda wildcards, output: " ".join(f"{k}={v}" for k, v in output.items()),
        shell:
            "{params.command} {params.job} --config {params.settings} --inputs {params.inputs} "
            "--out {params.out} --log {log}"


# The joined tables of every experiment (no figure).
rule masked_tables:
    input:
        MASKED.path("tables", "runs.csv"),
        MASKED.path("tables", "trajectories.parquet"),


# How close the predicted plateaus are to the measured ones, by experiment and mask kind.
rule prediction_accuracy:
    input:
        runs=MASKED.path("tables", "runs.csv"),
        code=MASKED.code("accuracy.py"),
    output:
        csv=MASKED.path("tables", "prediction_accuracy.csv"),
        md=MASKED.path("tables", "prediction_accuracy.md"),
        meta=MASKED.path("tables", "prediction_accuracy.json"),
    log:
        MASKED.log("prediction_accuracy"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=MASKED.tables_mem_mb(),
        runtime=MASKED.tables_runtime(),
    params:
        command=MASKED.command,
    shell:
        "{params.command} prediction_accuracy --config '{{}}' --inputs runs={input.runs} "
        "--out csv={output.csv} md={output.md} meta={output.meta} --log {log}"


rule masked_all:
    input:
        MASKED.outputs(),


STUDY_TARGETS["masked"] = MASKED.outputs()




# The predicted paper-scale map: config/masked_paper.yaml's two heatmaps (m = 4000, 10 seeds)
# predicted from the initialisation alone, merged over config/masked.yaml as --configfile merges them
# (docs/masked/prediction.md sec. 8).  No training: `snakemake predicted_map --cores 2`.
import sys

PREDICTED_MAP = f"{sys.executable} -m maskedntk.studies.masked.predicted_map"
PAPER_CONFIGS = [str(Path(workflow.basedir) / "config" / f) for f in ("masked.yaml", "masked_paper.yaml")]


rule predicted_map:
    input:
        configs=PAPER_CONFIGS,
        code=[str(PACKAGE / "studies" / "masked" / f) for f in ("prediction.py", "prediction_init.py", "predict_grid.py", "predicted_map.py")],
    output:
        f"{MASKED_DIR}/tables/predicted_map.csv",
    log:
        MASKED.log("predicted_map"),
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
        map=f"{MASKED_DIR}/tables/predicted_map.csv",
        bernoulli=f"{MASKED_DIR}/tables/heatmap_bernoulli/runs.csv",
        categorical=f"{MASKED_DIR}/tables/heatmap_categorical/runs.csv",
        code=str(PACKAGE / "studies" / "masked" / "figures" / "predicted_map.py"),
    output:
        pdf=f"{MASKED_DIR}/figures/fig_predicted_map.pdf",
        png=f"{MASKED_DIR}/figures/fig_predicted_map.png",
    log:
        MASKED.log("figures", "fig_predicted_map"),
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
