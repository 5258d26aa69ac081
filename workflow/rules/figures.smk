# Figures, the claims table and the report items.  One rule and one script per figure;
# rendering reads only the aggregated tables, so restyling a figure never retrains.

for _fig, _exps in FIGURES.items():
    if not has(*_exps):
        continue

    rule:
        name:
            _fig
        input:
            **figure_rule_input(_fig, _exps[0]),
        output:
            pdf=f"results/figures/{_fig}.pdf",
            png=report(
                f"results/figures/{_fig}.png",
                caption=f"../report/{_fig}.rst",
                category="Figures",
                labels={"figure": _fig.removeprefix("fig_")},
            ),
        log:
            f"logs/figures/{_fig}.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            f"../scripts/{_fig}.py"


rule claims:
    input:
        **{f"{e}_{k}": v for e in CELLS for k, v in experiment_tables(e).items()},
    output:
        csv="results/tables/claims.csv",
        md="results/tables/claims.md",
        html=report(
            "results/tables/claims.html",
            caption="../report/claims.rst",
            category="Claims",
        ),
    log:
        "logs/claims.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        experiments=list(CELLS),
        settings=config["claims"],
    script:
        "../scripts/claims.py"
