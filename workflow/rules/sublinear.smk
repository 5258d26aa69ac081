configfile: "config/sublinear.yaml"


# The sublinear study (Qin, Song & Yang 2023, arXiv 2307.06565): SGD on a shifted-ReLU network
# touching only the active neurons, found by exact active-set identifiers.  Settings: the key
# `sublinear` of config/sublinear.yaml (override with --configfile config/sublinear_paper.yaml);
# docs/studies/sublinear.md explains them.  A bad configuration stops here, naming the key.
# Target: sublinear_all.
#
# Jobs (python -m maskedntk.studies.sublinear JOB): activity, train (one per target norm M),
# cost (one per d) -> {RESULTS}/sublinear/runs/*.parquet; cost-table and claims ->
# {RESULTS}/sublinear/tables/; one figure rule per entry of SUB.figures.  Each job gets as its
# --config only the settings it reads (maskedntk.studies.sublinear.experiments.job_settings),
# so a change elsewhere in the config does not rerun it.  The paths, inputs and arguments come
# from maskedntk.studies.sublinear.workflow.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.sublinear.workflow import SublinearWorkflow, inputs_arg

#: the study's category in the HTML report (snakemake --report)
SUB_CATEGORY = "Sublinear SGD"

try:
    SUB = SublinearWorkflow(config, RESULTS, LOGS)
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")


wildcard_constraints:
    sub_train=r"M[0-9.e+\-]+",
    sub_cost=r"d[0-9]+",


rule sublinear_activity:
    output:
        **SUB.job_files("activity"),
    log:
        SUB.log("activity"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        command=SUB.command,
        settings=SUB.settings_json("activity"),
    shell:
        "{params.command} activity --config '{params.settings}' --out {output.table} --meta {output.meta} > {log} 2>&1"


rule sublinear_train:
    output:
        **SUB.job_files("train_{sub_train}"),
    log:
        SUB.log("train_{sub_train}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        command=SUB.command,
        settings=SUB.settings_json("train"),
        M=SUB.M,
    shell:
        "{params.command} train --config '{params.settings}' --M {params.M} --out {output.table} "
        "--meta {output.meta} > {log} 2>&1"


rule sublinear_cost:
    output:
        **SUB.job_files("cost_{sub_cost}"),
    log:
        SUB.log("cost_{sub_cost}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        command=SUB.command,
        settings=SUB.settings_json("cost"),
        d=SUB.d,
    # one BLAS thread: dense and the trees each get one core, as the rule's threads say
    shell:
        "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "
        "{params.command} cost --config '{params.settings}' --d {params.d} --out {output.table} "
        "--meta {output.meta} > {log} 2>&1"


rule sublinear_cost_table:
    input:
        list(SUB.cost_files.values()),
    output:
        csv=SUB.cost_table_files[0],
        md=SUB.cost_table_files[1],
    log:
        SUB.log("cost_table"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        command=SUB.command,
        settings=SUB.settings_json("cost-table"),
    shell:
        "{params.command} cost-table --config '{params.settings}' --inputs {input} --csv {output.csv} "
        "--md {output.md} > {log} 2>&1"


rule sublinear_claims:
    input:
        activity=SUB.activity,
        training=list(SUB.train_files.values()),
        cost=list(SUB.cost_files.values()),
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
    log:
        SUB.log("claims"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        command=SUB.command,
        settings=SUB.settings_json("claims"),
    shell:
        "{params.command} claims --config '{params.settings}' --activity {input.activity} --training {input.training} "
        "--cost {input.cost} --csv {output.csv} --md {output.md} --html {output.html} > {log} 2>&1"


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
            mem_mb=1000,
            runtime=5,
        params:
            command=SUB.command,
            settings=SUB.settings_json(f"figure-{_fig}"),
            name=_fig,
            pairs=inputs_arg(_inputs),
        shell:
            "{params.command} figure --config '{params.settings}' --name {params.name} --inputs {params.pairs} "
            "--pdf {output.pdf} --png {output.png} > {log} 2>&1"


rule sublinear_all:
    input:
        SUB.outputs,


STUDY_TARGETS["sublinear"] = SUB.outputs
