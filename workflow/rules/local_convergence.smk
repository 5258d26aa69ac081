configfile: "config/local_convergence.yaml"


# The local-convergence study (Zhou, Ge & Jin, COLT 2021) on the paper's model (Definition 2:
# absolute-value teacher and student, output weights tied to the neuron norms, Gaussian input,
# population loss (1) in closed form).  Settings: the key `local_convergence` of
# config/local_convergence.yaml, validated by workflow/schemas/local_convergence.schema.yaml
# (a bad configuration stops here, naming the key and what is allowed); paper scale:
# snakemake local_convergence_all --configfile config/local_convergence_paper.yaml.
# docs/studies/local_convergence.md explains the experiments.  Target: local_convergence_all.
#
# Jobs (python -m maskedntk.studies.local_convergence JOB): one training job per experiment
# (local: one per m/r ratio) -> {RESULTS}/local_convergence/runs/*.parquet, each with a metadata
# JSON beside it; claims -> tables/claims.*; one figure rule per entry of LC.figures.  Each job
# gets as --config only the settings it reads (experiments.job_settings), so a change elsewhere
# in the config does not rerun it.  Paths and arguments come from ...local_convergence.workflow.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.local_convergence.workflow import LocalConvergenceWorkflow

#: the study's category in the HTML report (snakemake --report)
LC_CATEGORY = "Local convergence"

try:
    LC = LocalConvergenceWorkflow(config, RESULTS, LOGS)
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")


for _job in LC.jobs:
    _exp = "local" if _job.startswith("local_r") else _job
    _ratio = f"--ratio {_job.removeprefix('local_r')}" if _exp == "local" else ""

    rule:
        name:
            f"local_convergence_{_job}"
        input:
            code=LC.job_code(_exp),
        output:
            LC.outputs_of(_job),
        log:
            LC.log(_job),
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            command=LC.command,
            settings=LC.settings_json(_exp),
            experiment=_exp,
            ratio=_ratio,
            out=LC.out_pairs(_job),
        shell:
            "{params.command} train --config '{params.settings}' --experiment {params.experiment} {params.ratio} "
            "--out {params.out} --log {log}"


rule local_convergence_claims:
    input:
        runs=[f for files in LC.claim_inputs.values() for f in files],
        code=LC.code("claims.py"),
    output:
        csv=LC.claim_files[0],
        md=LC.claim_files[1],
        html=report(
            LC.claim_files[2],
            caption="../report/local_convergence/claims.rst",
            category=LC_CATEGORY,
            subcategory="Claims",
        ),
    log:
        LC.log("claims"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        command=LC.command,
        settings=LC.settings_json("claims"),
        pairs=LC.claim_pairs(),
    shell:
        "{params.command} claims --config '{params.settings}' --input {params.pairs} "
        "--csv {output.csv} --md {output.md} --html {output.html} --log {log}"


for _fig, _inputs in LC.figures.items():

    rule:
        name:
            f"local_convergence_fig_{_fig}"
        input:
            **_inputs,
            code=LC.figure_code(_fig),
        output:
            pdf=LC.figure_files(_fig)[0],
            png=report(
                LC.figure_files(_fig)[1],
                caption=f"../report/local_convergence/{_fig}.rst",
                category=LC_CATEGORY,
                subcategory="Figures",
                labels={"figure": _fig},
            ),
        log:
            LC.log(f"fig_{_fig}"),
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        params:
            command=LC.command,
            settings=LC.settings_json(f"figure-{_fig}"),
            name=_fig,
            pairs=LC.figure_pairs(_fig),
        shell:
            "{params.command} figure --config '{params.settings}' --name {params.name} --input {params.pairs} "
            "--pdf {output.pdf} --png {output.png} --log {log}"


rule local_convergence_all:
    input:
        LC.outputs,


STUDY_TARGETS["local_convergence"] = LC.outputs
