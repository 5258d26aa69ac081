configfile: "config/local_convergence.yaml"


# The local-convergence study (Zhou, Ge & Jin, COLT 2021) on the paper's model (Definition 2:
# absolute-value teacher and student, output weights tied to the neuron norms, Gaussian input,
# population loss (1) in closed form).  Settings: the key `local_convergence` of
# config/local_convergence.yaml, validated by workflow/schemas/local_convergence.schema.yaml
# (a bad configuration stops here, naming the key and what is allowed; so does one whose job
# would need more memory than one job may use); paper scale:
# snakemake local_convergence_all --configfile config/local_convergence_paper.yaml.
# docs/studies/local_convergence.md explains the experiments.  Target: local_convergence_all.
#
# Jobs: python -m maskedntk.studies.local_convergence JOB --config SETTINGS --inputs ... --out ...
# --log ... (maskedntk.core.jobcli).  One training job per experiment (local: one per m/r ratio)
# -> {RESULTS}/local_convergence/runs/*.parquet with the job's metadata beside its runs table;
# claims -> tables/claims.*; one figure rule per entry of LC.figures.  Each job gets as --config
# only the settings it reads (experiments.job_settings; the claims job also the global key
# `claims`), so a change elsewhere in the config does not rerun it; its memory and runtime are
# estimated from those settings (local_convergence.resources).  Paths, settings and estimates
# come from maskedntk.studies.local_convergence.workflow.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.local_convergence.workflow import LocalConvergenceWorkflow, pairs as lc_pairs

#: the study's category in the HTML report (snakemake --report)
LC_CATEGORY = "Local convergence"

try:
    LC = LocalConvergenceWorkflow(config, RESULTS, LOGS, mem_limit_mb=JOB_MEM_LIMIT_MB)
    LC_CLAIMS_SETTINGS = LC.settings_json("claims")
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")


for _job in LC.jobs:

    rule:
        name:
            f"local_convergence_{_job}"
        input:
            code=LC.job_code(_job),
        output:
            **LC.train_outputs(_job),
        log:
            LC.log(_job),
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=LC.mem_mb(_job),
            runtime=LC.runtime(_job),
        params:
            command=LC.command,
            settings=LC.settings_json(_job),
            out=lc_pairs(LC.train_outputs(_job)),
        shell:
            "{params.command} train --config '{params.settings}' --out {params.out} --log {log}"


rule local_convergence_claims:
    input:
        runs=[f for files in LC.claim_inputs.values() for f in files],
        code=LC.code("claims.py"),
    output:
        csv=LC.claim_files["csv"],
        md=LC.claim_files["md"],
        html=report(
            LC.claim_files["html"],
            caption="../report/local_convergence/claims.rst",
            category=LC_CATEGORY,
            subcategory="Claims",
        ),
        meta=LC.claim_files["meta"],
    log:
        LC.log("claims"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=LC.mem_mb("claims"),
        runtime=LC.runtime("claims"),
    params:
        command=LC.command,
        settings=LC_CLAIMS_SETTINGS,
        inputs=lc_pairs(LC.claim_inputs),
        out=lc_pairs(LC.claim_files),
    shell:
        "{params.command} claims --config '{params.settings}' --inputs {params.inputs} --out {params.out} --log {log}"


for _fig, _inputs in LC.figures.items():

    rule:
        name:
            f"local_convergence_fig_{_fig}"
        input:
            **_inputs,
            code=LC.figure_code(_fig),
        output:
            pdf=LC.figure_files(_fig)["pdf"],
            png=report(
                LC.figure_files(_fig)["png"],
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
            mem_mb=LC.mem_mb(f"fig_{_fig}"),
            runtime=LC.runtime(f"fig_{_fig}"),
        params:
            command=LC.command,
            settings=LC.settings_json(f"fig_{_fig}"),
            inputs=lc_pairs(_inputs),
            out=lc_pairs(LC.figure_files(_fig)),
        shell:
            "{params.command} figure --config '{params.settings}' --inputs {params.inputs} --out {params.out} --log {log}"


rule local_convergence_all:
    input:
        LC.outputs,


STUDY_TARGETS["local_convergence"] = LC.outputs
