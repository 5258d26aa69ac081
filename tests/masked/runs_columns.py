"""The columns every runs table of the masked study has (a run of one cell, runner.run_cell, and
the workflow's <results>/masked/tables/runs.csv): what the figures and claims read."""

RUNS_COLUMNS = [
    "experiment",
    "mask",
    "xi",
    "p",
    "tau",
    "m",
    "n",
    "d",
    "kappa",
    "eta",
    "rounds",
    "seed",
    "L0",
    "plateau",
    "final",
    "rate_empirical",
    "rate_theory",
    "lambda0",
    "theta",
    "B1",
    "diverged",
]
