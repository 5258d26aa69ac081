configfile: "config/quadratic.yaml"


# Study `quadratic`: Martin, Bach & Biroli (AISTATS 2024, arXiv 2311.03794), quadratic shallow
# networks in high dimensions.  Settings: config["quadratic"] (config/quadratic.yaml; paper
# scale with --configfile config/quadratic_paper.yaml); docs/studies/quadratic.md explains them.
# A bad configuration stops here, naming the key.  Target: quadratic_all.
#
# Jobs (python -m maskedntk.studies.quadratic JOB): spectrum, limit, flow (one per setup x
# regime), rates (one per regime), phase, empirical, masked -> {RESULTS}/quadratic/runs/*.parquet;
# claims -> {RESULTS}/quadratic/tables/claims.*; one figure rule per entry of QUAD.figures.
# The paths, inputs and arguments come from maskedntk.studies.quadratic.workflow.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.quadratic.workflow import RUNTIME as QUAD_RUNTIME
from maskedntk.studies.quadratic.workflow import SINGLE as QUAD_SINGLE
from maskedntk.studies.quadratic.workflow import QuadraticWorkflow, inputs_arg

#: the study's category in the HTML report (snakemake --report)
QUAD_CATEGORY = "Quadratic networks"

try:
    QUAD = QuadraticWorkflow(config, RESULTS, LOGS)
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")

for _job in QUAD_SINGLE:

    rule:
        name:
            f"quadratic_{_job}"
        input:
            code=QUAD.single_code(_job),
        output:
            table=QUAD.run(_job),
            meta=QUAD.meta(_job),
        log:
            QUAD.log(_job),
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=QUAD_RUNTIME[_job],
        params:
            command=QUAD.command,
            settings=QUAD.settings_json(_job),
            job=_job,
        shell:
            "{params.command} {params.job} --settings '{params.settings}' --out {output.table} > {log} 2>&1"


rule quadratic_flow:
    input:
        code=QUAD.flow_code,
    output:
        table=QUAD.run("flow_{setup}_{regime}"),
        meta=QUAD.meta("flow_{setup}_{regime}"),
    wildcard_constraints:
        setup="orthonormal|gaussian",
        regime="over|equal|under",
    log:
        QUAD.log("flow_{setup}_{regime}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        command=QUAD.command,
        settings=QUAD.settings_json("flow"),
    shell:
        "{params.command} flow --setup {wildcards.setup} --regime {wildcards.regime} "
        "--settings '{params.settings}' --out {output.table} > {log} 2>&1"


rule quadratic_rates:
    input:
        code=QUAD.engine,
    output:
        table=QUAD.run("rates_{regime}"),
        meta=QUAD.meta("rates_{regime}"),
    wildcard_constraints:
        regime="over|equal",
    log:
        QUAD.log("rates_{regime}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        command=QUAD.command,
        settings=QUAD.settings_json("rates"),
    shell:
        "{params.command} rates --regime {wildcards.regime} --settings '{params.settings}' "
        "--out {output.table} > {log} 2>&1"


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
            mem_mb=2000,
            runtime=10,
        params:
            command=QUAD.command,
            settings=QUAD.settings_json(_fig),
            fig=_fig,
            inputs=inputs_arg(_inputs),
        shell:
            "{params.command} figure --name {params.fig} --inputs {params.inputs} --settings '{params.settings}' "
            "--out {output.pdf} {output.png} > {log} 2>&1"


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
    log:
        QUAD.log("claims"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        command=QUAD.command,
        settings=QUAD.settings_json("claims"),
        inputs=inputs_arg(QUAD.claim_inputs),
    shell:
        "{params.command} claims --inputs {params.inputs} --settings '{params.settings}' "
        "--out {output.csv} {output.md} {output.html} > {log} 2>&1"


rule quadratic_all:
    input:
        QUAD.outputs,


STUDY_TARGETS["quadratic"] = QUAD.outputs
