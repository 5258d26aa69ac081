configfile: "config/local_convergence.yaml"


# The local-convergence study (Zhou, Ge & Jin, COLT 2021, arXiv 2102.02410): GD on both layers
# of a two-layer ReLU network started below the loss threshold, population loss in closed form
# (arc-cosine kernel), widths m = m* ... 8m*.  Settings: the key `local_convergence` of
# config/local_convergence.yaml (paper scale:
# snakemake local_convergence_all --configfile config/local_convergence_paper.yaml);
# docs/studies/local_convergence.md explains them.  A bad configuration stops here, naming the key.
# Target: local_convergence_all.
#
# Jobs (python -m maskedntk.studies.local_convergence JOB): population (curves and threshold,
# one per m/m* ratio), link -> {RESULTS}/local_convergence/runs/*.parquet; claims ->
# {RESULTS}/local_convergence/tables/claims.*; one figure rule per entry of LC.figures.  Each job
# gets as its --config only the settings it reads
# (maskedntk.studies.local_convergence.experiments.job_settings), so a change elsewhere in the
# config does not rerun it.  The paths, inputs and arguments come from
# maskedntk.studies.local_convergence.workflow.

from snakemake.exceptions import WorkflowError

from maskedntk.studies.local_convergence.workflow import LocalConvergenceWorkflow

try:
    LC = LocalConvergenceWorkflow(config, RESULTS, LOGS)
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")


wildcard_constraints:
    lc_ratio=r"[0-9]+",


rule local_convergence_curves:
    input:
        code=LC.engine,
    output:
        runs=LC.run("curves_r{lc_ratio}"),
        traj=LC.run("curves_r{lc_ratio}_traj"),
        neurons=LC.run("curves_r{lc_ratio}_neurons"),
        meta=LC.run("curves_r{lc_ratio}", "json"),
    log:
        LC.log("curves_r{lc_ratio}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        command=LC.command,
        settings=LC.settings_json("curves"),
    shell:
        "{params.command} population --config '{params.settings}' --experiment curves --ratio {wildcards.lc_ratio} "
        "--out {output.runs} --traj {output.traj} --neurons {output.neurons} --meta {output.meta} > {log} 2>&1"


rule local_convergence_threshold:
    input:
        code=LC.engine,
    output:
        runs=LC.run("threshold_r{lc_ratio}"),
        meta=LC.run("threshold_r{lc_ratio}", "json"),
    log:
        LC.log("threshold_r{lc_ratio}"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        command=LC.command,
        settings=LC.settings_json("threshold"),
    shell:
        "{params.command} population --config '{params.settings}' --experiment threshold "
        "--ratio {wildcards.lc_ratio} --out {output.runs} --meta {output.meta} > {log} 2>&1"


rule local_convergence_link:
    input:
        code=LC.engine,
    output:
        runs=LC.link,
        meta=LC.run("link", "json"),
    log:
        LC.log("link"),
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        command=LC.command,
        settings=LC.settings_json("link"),
    shell:
        "{params.command} link --config '{params.settings}' --out {output.runs} --meta {output.meta} > {log} 2>&1"


rule local_convergence_claims:
    input:
        curves=list(LC.curves.values()),
        threshold=list(LC.threshold.values()),
        link=LC.link,
        code=LC.code("claims.py"),
    output:
        csv=LC.claim_files[0],
        md=LC.claim_files[1],
        html=LC.claim_files[2],
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
    shell:
        "{params.command} claims --config '{params.settings}' --curves {input.curves} --threshold {input.threshold} "
        "--link {input.link} --csv {output.csv} --md {output.md} --html {output.html} > {log} 2>&1"


for _fig, _inputs in LC.figures.items():

    rule:
        name:
            f"local_convergence_fig_{_fig}"
        input:
            **_inputs,
            code=LC.figure_code(_fig),
        output:
            pdf=LC.figure_files(_fig)[0],
            png=LC.figure_files(_fig)[1],
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
            "--pdf {output.pdf} --png {output.png} > {log} 2>&1"


rule local_convergence_all:
    input:
        LC.outputs,


STUDY_TARGETS["local_convergence"] = LC.outputs
