configfile: "config/sublinear.yaml"


# The sublinear study (Qin, Song & Yang 2023, arXiv 2307.06565): SGD on a shifted-ReLU network
# touching only the active neurons, found by exact active-set identifiers.  Settings: the key
# `sublinear` of config/sublinear.yaml (override with --configfile config/sublinear_paper.yaml);
# docs/studies/sublinear.md explains them.  A bad configuration, or one with a job too large
# for max_job_mem_mb, stops here, naming the key or the job.  Target: sublinear_all.
#
# Every job runs `python -m maskedntk.studies.sublinear JOB --config SETTINGS --inputs ...
# --out ... --log FILE` (maskedntk.core.jobcli): activity, train (one per target norm M), cost
# (one per d) -> {RESULTS}/sublinear/runs/<run>.parquet with its metadata <run>.json;
# cost-table and claims -> {RESULTS}/sublinear/tables/; one figure rule per entry of
# SUB.figures.  SETTINGS is the JSON of only the settings the job reads
# (maskedntk.studies.sublinear.experiments.job_settings), so a change elsewhere in the config
# does not rerun it.  The paths, inputs, settings, memory and time estimates come from
# maskedntk.studies.sublinear.workflow.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.sublinear.workflow import SublinearWorkflow, inputs_arg

#: the study's category in the HTML report (snakemake --report)
SUB_CATEGORY = "Sublinear SGD"

try:
    SUB = SublinearWorkflow(config, RESULTS, LOGS)
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")


for _run in SUB.experiments:
    _cost = SUB.runs.job(_run) == "cost"

    rule:
        name:
            f"sublinear_{_run}"
        output:
            **SUB.job_files(_run),
        log:
            SUB.log(_run),
        conda:
            "../../environment.yml"
        threads: 1
        # the cost runs are the study's longest jobs: first, as the masked study's training
        priority: 1 if _cost else 0
        resources:
            mem_mb=SUB.runs.mem_mb(_run),
            runtime=SUB.runs.runtime(_run),
        params:
            command=SUB.command,
            job=SUB.runs.job(_run),
            settings=SUB.runs.config_json(_run),
            # one BLAS thread for the cost runs: dense and the trees each get one core, as the
            # rule's threads say
            blas="OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1" if _cost else "",
        shell:
            "{params.blas} {params.command} {params.job} --config '{params.settings}' "
            "--out table={output.table} meta={output.meta} --log {log}"


rule sublinear_cost_table:
    input:
        list(SUB.cost_files.values()),
    output:
        csv=SUB.cost_table_files[0],
        md=SUB.cost_table_files[1],
        meta=SUB.cost_table_files[2],
    log:
        SUB.log("cost_table"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=SUB.runs.mem_mb("cost-table"),
        runtime=SUB.runs.runtime("cost-table"),
    params:
        command=SUB.command,
        settings=SUB.runs.config_json("cost-table"),
        inputs=inputs_arg({"cost": list(SUB.cost_files.values())}),
    shell:
        "{params.command} cost-table --config '{params.settings}' --inputs {params.inputs} "
        "--out csv={output.csv} md={output.md} meta={output.meta} --log {log}"


rule sublinear_claims:
    input:
        **SUB.claim_inputs,
        code=SUB.code("claims.py", "metrics.py"),
    output:
        csv=SUB.claim_files[0],
        md=SUB.claim_files[1],
        html=report(
            SUB.claim_files[2],
            caption="../report/sublinear/claims.rst",
            category=SUB_CATEGORY,
            subcategory="Claims",
        ),
        meta=SUB.claim_files[3],
    log:
        SUB.log("claims"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=SUB.runs.mem_mb("claims"),
        runtime=SUB.runs.runtime("claims"),
    params:
        command=SUB.command,
        settings=SUB.runs.config_json("claims"),
        inputs=inputs_arg(SUB.claim_inputs),
    shell:
        "{params.command} claims --config '{params.settings}' --inputs {params.inputs} "
        "--out csv={output.csv} md={output.md} html={output.html} meta={output.meta} --log {log}"


for _fig, _inputs in SUB.figures.items():

    rule:
        name:
            f"sublinear_fig_{_fig}"
        input:
            **_inputs,
            code=SUB.code(f"figures/{_fig}.py"),
        output:
            pdf=SUB.figure_files(_fig)[0],
            png=report(
                SUB.figure_files(_fig)[1],
                caption=f"../report/sublinear/{_fig}.rst",
                category=SUB_CATEGORY,
                subcategory="Figures",
                labels={"figure": _fig},
            ),
        log:
            SUB.log(f"fig_{_fig}"),
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=SUB.runs.mem_mb(f"fig_{_fig}"),
            runtime=SUB.runs.runtime(f"fig_{_fig}"),
        params:
            command=SUB.command,
            settings=SUB.runs.config_json(f"fig_{_fig}"),
            inputs=inputs_arg(_inputs),
        shell:
            "{params.command} figure --config '{params.settings}' --inputs {params.inputs} "
            "--out pdf={output.pdf} png={output.png} --log {log}"


rule sublinear_all:
    input:
        SUB.outputs,


STUDY_TARGETS["sublinear"] = SUB.outputs
