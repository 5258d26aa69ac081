configfile: "config/quadratic.yaml"


# Study `quadratic`: Martin, Bach & Biroli (AISTATS 2024, arXiv 2311.03794), quadratic shallow
# networks in high dimensions.  Settings: config["quadratic"] (config/quadratic.yaml; paper
# scale with --configfile config/quadratic_paper.yaml); docs/studies/quadratic.md explains them.
# A bad configuration, or one with a job too large for max_job_mem_mb, stops here, naming the
# key or the job.  Target: quadratic_all.
#
# Every job runs `python -m maskedntk.studies.quadratic JOB --config SETTINGS --inputs ...
# --out ... --log FILE` (maskedntk.core.jobcli): spectrum, limit, flow (one per setup x regime),
# rates (one per regime), phase, empirical, masked -> {RESULTS}/quadratic/runs/<run>.parquet
# with its metadata <run>.json; claims -> {RESULTS}/quadratic/tables/claims.*; one figure rule
# per entry of QUAD.figures.  SETTINGS is the JSON of what the job reads; the paths, inputs,
# settings, memory and time estimates come from maskedntk.studies.quadratic.workflow.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.quadratic.workflow import QuadraticWorkflow, inputs_arg

#: the study's category in the HTML report (snakemake --report)
QUAD_CATEGORY = "Quadratic networks"

try:
    QUAD = QuadraticWorkflow(config, RESULTS, LOGS)
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")

for _run in QUAD.simulations:

    rule:
        name:
            f"quadratic_{_run}"
        input:
            code=QUAD.simulation_code(_run),
        output:
            table=QUAD.run(_run),
            meta=QUAD.meta(_run),
        log:
            QUAD.log(_run),
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=QUAD.runs.mem_mb(_run),
            runtime=QUAD.runs.runtime(_run),
        params:
            command=QUAD.command,
            job=QUAD.runs.job(_run),
            settings=QUAD.runs.config_json(_run),
        shell:
            "{params.command} {params.job} --config '{params.settings}' "
            "--out table={output.table} meta={output.meta} --log {log}"


for _fig, _inputs in QUAD.figures.items():

    rule:
        name:
            f"quadratic_{_fig}"
        input:
            **_inputs,
            code=QUAD.figure_code(_fig),
        output:
            pdf=QUAD.figure_files(_fig)[0],
            png=report(
                QUAD.figure_files(_fig)[1],
                caption=f"../report/quadratic/{_fig}.rst",
                category=QUAD_CATEGORY,
                subcategory="Figures",
                labels={"figure": _fig},
            ),
        log:
            QUAD.log(f"figures/{_fig}"),
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=QUAD.runs.mem_mb(_fig),
            runtime=QUAD.runs.runtime(_fig),
        params:
            command=QUAD.command,
            settings=QUAD.runs.config_json(_fig),
            inputs=inputs_arg(_inputs),
        shell:
            "{params.command} figure --config '{params.settings}' --inputs {params.inputs} "
            "--out pdf={output.pdf} png={output.png} --log {log}"


rule quadratic_claims:
    input:
        **QUAD.claim_inputs,
        code=QUAD.code("claims.py"),
    output:
        csv=QUAD.claim_files[0],
        md=QUAD.claim_files[1],
        html=report(
            QUAD.claim_files[2],
            caption="../report/quadratic/claims.rst",
            category=QUAD_CATEGORY,
            subcategory="Claims",
        ),
        meta=QUAD.claim_files[3],
    log:
        QUAD.log("claims"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=QUAD.runs.mem_mb("claims"),
        runtime=QUAD.runs.runtime("claims"),
    params:
        command=QUAD.command,
        settings=QUAD.runs.config_json("claims"),
        inputs=inputs_arg(QUAD.claim_inputs),
    shell:
        "{params.command} claims --config '{params.settings}' --inputs {params.inputs} "
        "--out csv={output.csv} md={output.md} html={output.html} meta={output.meta} --log {log}"


rule quadratic_all:
    input:
        QUAD.outputs,


STUDY_TARGETS["quadratic"] = QUAD.outputs
