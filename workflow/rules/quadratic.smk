configfile: "config/quadratic.yaml"


# Study `quadratic`: Martin, Bach & Biroli (AISTATS 2024, arXiv 2311.03794), quadratic shallow
# networks in high dimensions.  Settings: config["quadratic"] (config/quadratic.yaml; paper
# scale with --configfile config/quadratic_paper.yaml).  Target: quadratic_all.
#
# Jobs (python -m maskedntk.studies.quadratic JOB): spectrum, limit, flow (one per setup x
# regime), rates (one per regime), phase, empirical, masked -> {RESULTS}/quadratic/runs/*.parquet;
# claims -> {RESULTS}/quadratic/tables/claims.*; one figure rule per entry of QUADRATIC_FIGURES.

import json
from pathlib import Path

import maskedntk.studies.quadratic as quad_pkg
from maskedntk.studies.quadratic.experiments import REGIMES as QUAD_REGIMES
from maskedntk.studies.quadratic.experiments import validate as quad_validate

QUAD = quad_validate(config["quadratic"])
QUAD_JSON = json.dumps(QUAD, sort_keys=True)
QUAD_DIR = f"{RESULTS}/quadratic"
QUAD_LOGS = f"{LOGS}/quadratic"
QUAD_CODE = Path(quad_pkg.__file__).parent
QUAD_ENGINE = [str(QUAD_CODE / f) for f in ("problems.py", "engine.py", "jobs.py", "experiments.py")]
QUAD_RUN = "python -m maskedntk.studies.quadratic"


def quad_run(name):
    return f"{QUAD_DIR}/runs/{name}.parquet"


QUAD_FLOW = {f"{s}_{r}": quad_run(f"flow_{s}_{r}") for s in QUAD["flow"]["setups"] for r in QUAD_REGIMES}
QUAD_SINGLE = {
    "spectrum": ["theory.py"],
    "limit": ["theory.py"],
    "phase": [],
    "empirical": ["empirical.py"],
    "masked": ["masked.py"],
}
#: rough runtime (minutes) of each job at paper scale, for the SLURM profile
QUAD_RUNTIME = {"spectrum": 5, "limit": 10, "phase": 20, "empirical": 60, "masked": 30}

for _job, _extra in QUAD_SINGLE.items():

    rule:
        name:
            f"quadratic_{_job}"
        input:
            code=QUAD_ENGINE + [str(QUAD_CODE / f) for f in _extra],
        output:
            table=quad_run(_job),
            meta=quad_run(_job).replace(".parquet", ".json"),
        log:
            f"{QUAD_LOGS}/{_job}.log",
        threads: 1
        resources:
            mem_mb=2000,
            runtime=QUAD_RUNTIME[_job],
        params:
            settings=QUAD_JSON,
            job=_job,
        shell:
            "{QUAD_RUN} {params.job} --settings '{params.settings}' --out {output.table} > {log} 2>&1"


rule quadratic_flow:
    input:
        code=QUAD_ENGINE,
    output:
        table=f"{QUAD_DIR}/runs/flow_{{setup}}_{{regime}}.parquet",
        meta=f"{QUAD_DIR}/runs/flow_{{setup}}_{{regime}}.json",
    wildcard_constraints:
        setup="orthonormal|gaussian",
        regime="over|equal|under",
    log:
        f"{QUAD_LOGS}/flow_{{setup}}_{{regime}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        settings=QUAD_JSON,
    shell:
        "{QUAD_RUN} flow --setup {wildcards.setup} --regime {wildcards.regime} "
        "--settings '{params.settings}' --out {output.table} > {log} 2>&1"


rule quadratic_rates:
    input:
        code=QUAD_ENGINE,
    output:
        table=f"{QUAD_DIR}/runs/rates_{{regime}}.parquet",
        meta=f"{QUAD_DIR}/runs/rates_{{regime}}.json",
    wildcard_constraints:
        regime="over|equal",
    log:
        f"{QUAD_LOGS}/rates_{{regime}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=QUAD_JSON,
    shell:
        "{QUAD_RUN} rates --regime {wildcards.regime} --settings '{params.settings}' "
        "--out {output.table} > {log} 2>&1"


QUAD_RATES = {f"rates_{r}": quad_run(f"rates_{r}") for r in ("over", "equal")}

#: THE figure table: figure name -> its inputs (name -> file)
QUADRATIC_FIGURES = {
    "fig1_spectrum": {"spectrum": quad_run("spectrum")},
    "fig2_phi": {"limit": quad_run("limit"), **{k: v for k, v in QUAD_FLOW.items() if k.startswith("orthonormal")}},
    "fig3_overlap": {"limit": quad_run("limit"), **{k: v for k, v in QUAD_FLOW.items() if k.startswith("orthonormal")}},
    "fig4_gaussian": {"limit": quad_run("limit"), **{k: v for k, v in QUAD_FLOW.items() if k.startswith("gaussian")}},
    "fig5_rates": QUAD_RATES,
    "fig6_gap": {"limit": quad_run("limit")},
    "fig7_empirical": {"empirical": quad_run("empirical")},
    "fig8_masked": {"masked": quad_run("masked")},
}
if "gaussian" not in QUAD["flow"]["setups"]:
    QUADRATIC_FIGURES.pop("fig4_gaussian")
if "orthonormal" not in QUAD["flow"]["setups"]:
    QUADRATIC_FIGURES.pop("fig2_phi")
    QUADRATIC_FIGURES.pop("fig3_overlap")


def quad_figure_files(name):
    return [f"{QUAD_DIR}/figures/{name}.pdf", f"{QUAD_DIR}/figures/{name}.png"]


for _fig, _inputs in QUADRATIC_FIGURES.items():

    rule:
        name:
            f"quadratic_{_fig}"
        input:
            **_inputs,
            code=[str(QUAD_CODE / "figures" / f) for f in (f"{_fig}.py", "common.py", "_flowpanels.py")],
        output:
            pdf=quad_figure_files(_fig)[0],
            png=quad_figure_files(_fig)[1],
        log:
            f"{QUAD_LOGS}/figures/{_fig}.log",
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            settings=QUAD_JSON,
            fig=_fig,
            inputs=" ".join(f"{k}={v}" for k, v in _inputs.items()),
        shell:
            "{QUAD_RUN} figure --name {params.fig} --inputs {params.inputs} --settings '{params.settings}' "
            "--out {output.pdf} {output.png} > {log} 2>&1"


QUAD_CLAIM_INPUTS = {
    "limit": quad_run("limit"),
    "phase": quad_run("phase"),
    **QUAD_FLOW,
    **QUAD_RATES,
    "empirical": quad_run("empirical"),
    "masked": quad_run("masked"),
}


rule quadratic_claims:
    input:
        **QUAD_CLAIM_INPUTS,
        code=str(QUAD_CODE / "claims.py"),
    output:
        csv=f"{QUAD_DIR}/tables/claims.csv",
        md=f"{QUAD_DIR}/tables/claims.md",
        html=f"{QUAD_DIR}/tables/claims.html",
    log:
        f"{QUAD_LOGS}/claims.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=QUAD_JSON,
        inputs=" ".join(f"{k}={v}" for k, v in QUAD_CLAIM_INPUTS.items()),
    shell:
        "{QUAD_RUN} claims --inputs {params.inputs} --settings '{params.settings}' "
        "--out {output.csv} {output.md} {output.html} > {log} 2>&1"


QUADRATIC_OUTPUTS = [f for name in QUADRATIC_FIGURES for f in quad_figure_files(name)] + [
    f"{QUAD_DIR}/tables/claims.csv",
    f"{QUAD_DIR}/tables/claims.md",
    f"{QUAD_DIR}/tables/claims.html",
]


rule quadratic_all:
    input:
        QUADRATIC_OUTPUTS,


STUDY_TARGETS["quadratic"] = QUADRATIC_OUTPUTS
