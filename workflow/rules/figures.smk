# Figures, the claims table and the report items.  One rule and one script per figure;
# rendering reads only the aggregated tables, so restyling a figure never retrains.

if "fig_dynamics" in ACTIVE_FIGURES:

    rule fig_dynamics:
        input:
            **figure_rule_input("fig_dynamics"),
        output:
            pdf=f"{RESULTS}/figures/fig_dynamics.pdf",
            png=report(
                f"{RESULTS}/figures/fig_dynamics.png",
                caption="../report/fig_dynamics.rst",
                category="Figures",
                labels={"figure": "dynamics"},
            ),
        log:
            f"{LOGS}/figures/fig_dynamics.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../scripts/fig_dynamics.py"


if "fig_heatmap_bernoulli" in ACTIVE_FIGURES:

    rule fig_heatmap_bernoulli:
        input:
            **figure_rule_input("fig_heatmap_bernoulli"),
        output:
            pdf=f"{RESULTS}/figures/fig_heatmap_bernoulli.pdf",
            png=report(
                f"{RESULTS}/figures/fig_heatmap_bernoulli.png",
                caption="../report/fig_heatmap_bernoulli.rst",
                category="Figures",
                labels={"figure": "heatmap_bernoulli"},
            ),
        log:
            f"{LOGS}/figures/fig_heatmap_bernoulli.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../scripts/fig_heatmap_bernoulli.py"


if "fig_heatmap_categorical" in ACTIVE_FIGURES:

    rule fig_heatmap_categorical:
        input:
            **figure_rule_input("fig_heatmap_categorical"),
        output:
            pdf=f"{RESULTS}/figures/fig_heatmap_categorical.pdf",
            png=report(
                f"{RESULTS}/figures/fig_heatmap_categorical.png",
                caption="../report/fig_heatmap_categorical.rst",
                category="Figures",
                labels={"figure": "heatmap_categorical"},
            ),
        log:
            f"{LOGS}/figures/fig_heatmap_categorical.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../scripts/fig_heatmap_categorical.py"


if "fig_local_steps" in ACTIVE_FIGURES:

    rule fig_local_steps:
        input:
            **figure_rule_input("fig_local_steps"),
        output:
            pdf=f"{RESULTS}/figures/fig_local_steps.pdf",
            png=report(
                f"{RESULTS}/figures/fig_local_steps.png",
                caption="../report/fig_local_steps.rst",
                category="Figures",
                labels={"figure": "local_steps"},
            ),
        log:
            f"{LOGS}/figures/fig_local_steps.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../scripts/fig_local_steps.py"


if "fig_width" in ACTIVE_FIGURES:

    rule fig_width:
        input:
            **figure_rule_input("fig_width"),
        output:
            pdf=f"{RESULTS}/figures/fig_width.pdf",
            png=report(
                f"{RESULTS}/figures/fig_width.png",
                caption="../report/fig_width.rst",
                category="Figures",
                labels={"figure": "width"},
            ),
        log:
            f"{LOGS}/figures/fig_width.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../scripts/fig_width.py"


if "fig_bound_anatomy" in ACTIVE_FIGURES:

    rule fig_bound_anatomy:
        input:
            **figure_rule_input("fig_bound_anatomy"),
        output:
            pdf=f"{RESULTS}/figures/fig_bound_anatomy.pdf",
            png=report(
                f"{RESULTS}/figures/fig_bound_anatomy.png",
                caption="../report/fig_bound_anatomy.rst",
                category="Figures",
                labels={"figure": "bound_anatomy"},
            ),
        log:
            f"{LOGS}/figures/fig_bound_anatomy.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../scripts/fig_bound_anatomy.py"


if "fig_audit" in ACTIVE_FIGURES:

    rule fig_audit:
        input:
            **figure_rule_input("fig_audit"),
        output:
            pdf=f"{RESULTS}/figures/fig_audit.pdf",
            png=report(
                f"{RESULTS}/figures/fig_audit.png",
                caption="../report/fig_audit.rst",
                category="Figures",
                labels={"figure": "audit"},
            ),
        log:
            f"{LOGS}/figures/fig_audit.log",
        conda:
            "../../environment.yml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../scripts/fig_audit.py"


rule claims:
    input:
        **{f"{e}_{k}": v for e in CELLS for k, v in experiment_tables(e).items()},
        code=str(PACKAGE / "claims.py"),  # editing the tests re-runs them, never the training
    output:
        csv=f"{RESULTS}/tables/claims.csv",
        md=f"{RESULTS}/tables/claims.md",
        html=report(
            f"{RESULTS}/tables/claims.html",
            caption="../report/claims.rst",
            category="Claims",
        ),
    log:
        f"{LOGS}/claims.log",
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
