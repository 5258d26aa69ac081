configfile: "config/sublinear.yaml"


# The sublinear study (Qin, Song & Yang 2023, arXiv 2307.06565): SGD on a shifted-ReLU network
# touching only the active neurons, found by exact active-set identifiers.  Settings: the key
# `sublinear` of config/sublinear.yaml (override with --configfile config/sublinear_paper.yaml);
# docs/studies/sublinear.md explains them.  A bad configuration stops here, naming the key.

import json

from snakemake.exceptions import WorkflowError

from maskedntk.studies.sublinear.experiments import cost_labels, m_label, validate

try:
    SUBLINEAR = validate(config.get("sublinear", None))
except ValueError as err:
    raise WorkflowError(f"invalid configuration: {err}")

SUB_R = f"{RESULTS}/sublinear"
SUB_L = f"{LOGS}/sublinear"
#: the study config as a JSON string for the jobs (a change in it reruns them)
SUB_CFG = json.dumps(SUBLINEAR, sort_keys=True)
SUB_RUN = "python -m maskedntk.studies.sublinear"
SUB_CODE = PACKAGE / "studies" / "sublinear"
#: training label -> target norm M; cost label -> d
SUB_TRAIN = {m_label(M): float(M) for M in SUBLINEAR["training"]["Ms"]}
SUB_COST = {lab: int(lab[1:]) for lab in cost_labels(SUBLINEAR)}
SUB_ACT = f"{SUB_R}/runs/activity.parquet"
SUB_TRAIN_FILES = {f"train_{lab}": f"{SUB_R}/runs/train_{lab}.parquet" for lab in SUB_TRAIN}
SUB_COST_FILES = {f"cost_{lab}": f"{SUB_R}/runs/cost_{lab}.parquet" for lab in SUB_COST}

#: the figures: {figure name: {input key: input file}}
SUBLINEAR_FIGURES = {
    "activity": {"activity": SUB_ACT},
    "persistence": SUB_TRAIN_FILES,
    "loss": SUB_TRAIN_FILES,
    "cost": SUB_COST_FILES,
}


wildcard_constraints:
    sub_train=r"M[0-9.e+\-]+",
    sub_cost=r"d[0-9]+",


rule sublinear_activity:
    output:
        table=SUB_ACT,
        meta=f"{SUB_R}/runs/activity.json",
    params:
        cfg=SUB_CFG,
    log:
        f"{SUB_L}/activity.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "{SUB_RUN} activity --config '{params.cfg}' --out {output.table} --meta {output.meta} > {log} 2>&1"


rule sublinear_train:
    output:
        table=f"{SUB_R}/runs/train_{{sub_train}}.parquet",
        meta=f"{SUB_R}/runs/train_{{sub_train}}.json",
    params:
        cfg=SUB_CFG,
        M=lambda wc: SUB_TRAIN[wc.sub_train],
    log:
        f"{SUB_L}/train_{{sub_train}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "{SUB_RUN} train --config '{params.cfg}' --M {params.M} --out {output.table} --meta {output.meta} > {log} 2>&1"


rule sublinear_cost:
    output:
        table=f"{SUB_R}/runs/cost_{{sub_cost}}.parquet",
        meta=f"{SUB_R}/runs/cost_{{sub_cost}}.json",
    params:
        cfg=SUB_CFG,
        d=lambda wc: SUB_COST[wc.sub_cost],
    log:
        f"{SUB_L}/cost_{{sub_cost}}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    shell:
        "{SUB_RUN} cost --config '{params.cfg}' --d {params.d} --out {output.table} --meta {output.meta} > {log} 2>&1"


rule sublinear_cost_table:
    input:
        list(SUB_COST_FILES.values()),
    output:
        csv=f"{SUB_R}/tables/cost.csv",
        md=f"{SUB_R}/tables/cost.md",
    params:
        cfg=SUB_CFG,
    log:
        f"{SUB_L}/cost_table.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "{SUB_RUN} cost-table --config '{params.cfg}' --inputs {input} --csv {output.csv} --md {output.md} > {log} 2>&1"


rule sublinear_claims:
    input:
        activity=SUB_ACT,
        training=list(SUB_TRAIN_FILES.values()),
        cost=list(SUB_COST_FILES.values()),
        code=[SUB_CODE / "claims.py", SUB_CODE / "metrics.py"],
    output:
        csv=f"{SUB_R}/tables/claims.csv",
        md=f"{SUB_R}/tables/claims.md",
        html=f"{SUB_R}/tables/claims.html",
    params:
        cfg=SUB_CFG,
    log:
        f"{SUB_L}/claims.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "{SUB_RUN} claims --config '{params.cfg}' --activity {input.activity} --training {input.training} "
        "--cost {input.cost} --csv {output.csv} --md {output.md} --html {output.html} > {log} 2>&1"


for _fig, _inputs in SUBLINEAR_FIGURES.items():

    rule:
        name:
            f"sublinear_fig_{_fig}"
        input:
            **_inputs,
            code=SUB_CODE / "figures" / f"{_fig}.py",
        output:
            pdf=f"{SUB_R}/figures/{_fig}.pdf",
            png=f"{SUB_R}/figures/{_fig}.png",
        params:
            cfg=SUB_CFG,
            name=_fig,
            pairs=" ".join(f"{k}={v}" for k, v in _inputs.items()),
        log:
            f"{SUB_L}/fig_{_fig}.log",
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        shell:
            "{SUB_RUN} figure --config '{params.cfg}' --name {params.name} --inputs {params.pairs} "
            "--pdf {output.pdf} --png {output.png} > {log} 2>&1"


SUBLINEAR_OUTPUTS = [
    *[f"{SUB_R}/figures/{f}.{ext}" for f in SUBLINEAR_FIGURES for ext in ("pdf", "png")],
    f"{SUB_R}/tables/claims.csv",
    f"{SUB_R}/tables/claims.md",
    f"{SUB_R}/tables/claims.html",
    f"{SUB_R}/tables/cost.csv",
    f"{SUB_R}/tables/cost.md",
]
STUDY_TARGETS["sublinear"] = SUBLINEAR_OUTPUTS


rule sublinear_all:
    input:
        SUBLINEAR_OUTPUTS,
