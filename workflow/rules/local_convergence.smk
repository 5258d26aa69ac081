configfile: "config/local_convergence.yaml"


# The local-convergence study (Zhou, Ge & Jin, COLT 2021, arXiv 2102.02410): GD on both layers
# of a two-layer ReLU network started below the loss threshold, population loss in closed form
# (arc-cosine kernel), widths m = m* ... 8m*.  Settings: the key `local_convergence` of
# config/local_convergence.yaml (override with --configfile config/local_convergence_paper.yaml);
# docs/studies/local_convergence.md explains them.  A bad configuration stops here, naming the key.

import json

from snakemake.exceptions import WorkflowError

from maskedntk.studies.local_convergence.experiments import validate as _lc_validate

try:
    LOCAL_CONVERGENCE = _lc_validate(config.get("local_convergence", None))
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")

LC_R = f"{RESULTS}/local_convergence"
LC_L = f"{LOGS}/local_convergence"
#: the study config as a JSON string for the jobs (a change in it reruns them)
LC_CFG = json.dumps(LOCAL_CONVERGENCE, sort_keys=True)
LC_RUN = "python -m maskedntk.studies.local_convergence"
LC_CODE = PACKAGE / "studies" / "local_convergence"
LC_RATIOS = LOCAL_CONVERGENCE["ratios"]
LC_ENGINE = [LC_CODE / f for f in ("engine.py", "theory.py", "problem.py", "runs.py", "metrics.py")]

#: run tables, by figure-input key
LC_CURVES = {f"curves_r{r}_runs": f"{LC_R}/runs/curves_r{r}.parquet" for r in LC_RATIOS}
LC_TRAJ = {f"curves_r{r}_traj": f"{LC_R}/runs/curves_r{r}_traj.parquet" for r in LC_RATIOS}
LC_NEURONS = {f"curves_r{r}_neurons": f"{LC_R}/runs/curves_r{r}_neurons.parquet" for r in LC_RATIOS}
LC_THRESHOLD = {f"threshold_r{r}": f"{LC_R}/runs/threshold_r{r}.parquet" for r in LC_RATIOS}
LC_LINK = f"{LC_R}/runs/link.parquet"

#: the figures: {figure name: {input key: input file}}
LOCAL_CONVERGENCE_FIGURES = {
    "loss_curves": LC_TRAJ,
    "alignment": {**LC_TRAJ, **LC_NEURONS},
    "rate_vs_m": LC_CURVES,
    "mstar_contrast": LC_TRAJ,
    "threshold": LC_THRESHOLD,
    "link": {"link": LC_LINK},
}


wildcard_constraints:
    lc_ratio=r"[0-9]+",


rule local_convergence_curves:
    input:
        code=LC_ENGINE,
    output:
        runs=f"{LC_R}/runs/curves_r{{lc_ratio}}.parquet",
        traj=f"{LC_R}/runs/curves_r{{lc_ratio}}_traj.parquet",
        neurons=f"{LC_R}/runs/curves_r{{lc_ratio}}_neurons.parquet",
        meta=f"{LC_R}/runs/curves_r{{lc_ratio}}.json",
    params:
        cfg=LC_CFG,
    log:
        f"{LC_L}/curves_r{{lc_ratio}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "{LC_RUN} population --config '{params.cfg}' --experiment curves --ratio {wildcards.lc_ratio} "
        "--out {output.runs} --traj {output.traj} --neurons {output.neurons} --meta {output.meta} > {log} 2>&1"


rule local_convergence_threshold:
    input:
        code=LC_ENGINE,
    output:
        runs=f"{LC_R}/runs/threshold_r{{lc_ratio}}.parquet",
        meta=f"{LC_R}/runs/threshold_r{{lc_ratio}}.json",
    params:
        cfg=LC_CFG,
    log:
        f"{LC_L}/threshold_r{{lc_ratio}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "{LC_RUN} population --config '{params.cfg}' --experiment threshold --ratio {wildcards.lc_ratio} "
        "--out {output.runs} --meta {output.meta} > {log} 2>&1"


rule local_convergence_link:
    input:
        code=LC_ENGINE,
    output:
        runs=LC_LINK,
        meta=f"{LC_R}/runs/link.json",
    params:
        cfg=LC_CFG,
    log:
        f"{LC_L}/link.log",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    shell:
        "{LC_RUN} link --config '{params.cfg}' --out {output.runs} --meta {output.meta} > {log} 2>&1"


rule local_convergence_claims:
    input:
        curves=list(LC_CURVES.values()),
        threshold=list(LC_THRESHOLD.values()),
        link=LC_LINK,
        code=[LC_CODE / "claims.py"],
    output:
        csv=f"{LC_R}/tables/claims.csv",
        md=f"{LC_R}/tables/claims.md",
        html=f"{LC_R}/tables/claims.html",
    params:
        cfg=LC_CFG,
    log:
        f"{LC_L}/claims.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "{LC_RUN} claims --config '{params.cfg}' --curves {input.curves} --threshold {input.threshold} "
        "--link {input.link} --csv {output.csv} --md {output.md} --html {output.html} > {log} 2>&1"


for _fig, _inputs in LOCAL_CONVERGENCE_FIGURES.items():

    rule:
        name:
            f"local_convergence_fig_{_fig}"
        input:
            **_inputs,
            code=[LC_CODE / "figures" / f"{_fig}.py", LC_CODE / "figures" / "common.py"],
        output:
            pdf=f"{LC_R}/figures/{_fig}.pdf",
            png=f"{LC_R}/figures/{_fig}.png",
        params:
            cfg=LC_CFG,
            name=_fig,
            pairs=" ".join(f"{k}={v}" for k, v in _inputs.items()),
        log:
            f"{LC_L}/fig_{_fig}.log",
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        shell:
            "{LC_RUN} figure --config '{params.cfg}' --name {params.name} --input {params.pairs} "
            "--pdf {output.pdf} --png {output.png} > {log} 2>&1"


LOCAL_CONVERGENCE_OUTPUTS = [
    *[f"{LC_R}/figures/{f}.{ext}" for f in LOCAL_CONVERGENCE_FIGURES for ext in ("pdf", "png")],
    f"{LC_R}/tables/claims.csv",
    f"{LC_R}/tables/claims.md",
    f"{LC_R}/tables/claims.html",
]
STUDY_TARGETS["local_convergence"] = LOCAL_CONVERGENCE_OUTPUTS


rule local_convergence_all:
    input:
        LOCAL_CONVERGENCE_OUTPUTS,
