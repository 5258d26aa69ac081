# Figures, the claims table and the report items.  One rule and one script per figure;
# rendering reads only the aggregated tables, so restyling a figure never retrains.

FIGURES = {
    # figure: experiments whose tables it reads
    "fig_dynamics": ["dynamics"],
    "fig_heatmap_bernoulli": ["heatmap_bernoulli"],
    "fig_heatmap_categorical": ["heatmap_categorical"],
    "fig_local_steps": ["local_steps"],
    "fig_width": ["width"],
    "fig_bound_anatomy": ["heatmap_bernoulli"],
    "fig_audit": ["audit"],
}
#: the figures this configuration can draw (their experiments are configured)
ACTIVE_FIGURES = [f for f, exps in FIGURES.items() if has(*exps)]


def figure_outputs(name):
    return [f"results/figures/{name}.pdf", f"results/figures/{name}.png"]


PLOTTING = Path(workflow.basedir) / "src" / "maskedntk" / "plotting"


def figure_rule_input(figure, experiment):
    """The experiment's tables, plus the figure's plotting module and the shared style, so
    that editing either re-renders the figure (and only the figure)."""
    source = PLOTTING / f"{figure.removeprefix('fig_')}.py"
    return dict(**experiment_tables(experiment), style=str(PLOTTING / "paper.mplstyle"), code=str(source))


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
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        conda:
            "../../environment.yml"
        script:
            f"../scripts/{_fig}.py"


rule claims:
    input:
        **{
            f"{e}_{k}": v
            for e in CELLS
            for k, v in experiment_tables(e).items()
            if k in ("runs", "trace")
        },
    output:
        csv="results/tables/claims.csv",
        md="results/tables/claims.md",
        html=report(
            "results/tables/claims.html",
            caption="../report/claims.rst",
            category="Claims",
        ),
    params:
        experiments=list(CELLS),
        settings=config["claims"],
    log:
        "logs/claims.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../environment.yml"
    script:
        "../scripts/claims.py"
