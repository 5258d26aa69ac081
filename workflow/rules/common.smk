# Validation of the configuration, the grid of cells, wildcard constraints and helpers.
# Runs first: a bad configuration stops here, before any job, with an error naming the key.

from pathlib import Path

from snakemake.exceptions import WorkflowError

from maskedntk.cellconfig import dataset_id
from maskedntk.experiments import ConfigError, expand_config, validate_config

try:
    validate_config(
        config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
    )
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}")

#: where outputs and logs go (config keys results_dir, logs_dir)
RESULTS = str(config.get("results_dir", "results")).rstrip("/")
LOGS = str(config.get("logs_dir", "logs")).rstrip("/")
#: {experiment: {cell id: cell dict}}
CELLS = expand_config(config)
#: {dataset id: data block}
DATASETS = {
    dataset_id(c["data"]): c["data"] for cells in CELLS.values() for c in cells.values()
}


wildcard_constraints:
    experiment=r"[A-Za-z][A-Za-z0-9_]*",
    cell=r"[A-Za-z_]+~[^/]+(/[A-Za-z_]+~[^/]+)*",
    dataset=r"[A-Za-z0-9_.\-]+",
    figure=r"[a-z_]+",


def cell_of(wildcards):
    return CELLS[wildcards.experiment][wildcards.cell]


def training_params(wildcards):
    """Only what changes the training results: a change elsewhere never retrains."""
    cell = cell_of(wildcards)
    return {
        k: cell[k] for k in ("experiment", "data", "train", "eta", "seeds") if k in cell
    }


def data_file(wildcards):
    return f"{RESULTS}/data/{dataset_id(cell_of(wildcards)['data'])}.npz"


def cell_files(experiment, name):
    return [f"{RESULTS}/train/{experiment}/{cell}/{name}" for cell in CELLS[experiment]]


def train_mem_mb(wildcards):
    """Memory estimate of one training job (the engine's work buffers dominate)."""
    cell = cell_of(wildcards)
    t, n = cell["train"], cell["data"].get("n") or 442
    width = (
        t["m"] if t.get("mask", "bernoulli") == "bernoulli" else t["m"] // t["p"] + 64
    )
    item = 8 if t.get("dtype", "float64") == "float64" else 4
    return int(500 + 8 * item * n * (t.get("p", 1) * width + 3 * t["m"]) / 2**20)


def has(*experiments):
    return all(e in CELLS for e in experiments)


def experiment_tables(experiment):
    return {
        "runs": f"{RESULTS}/tables/{experiment}/runs.csv",
        "trajectories": f"{RESULTS}/tables/{experiment}/trajectories.parquet",
        "trace": f"{RESULTS}/tables/{experiment}/trace.parquet",
    }


# ---- figures ----
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
    return [f"{RESULTS}/figures/{name}.pdf", f"{RESULTS}/figures/{name}.png"]


PACKAGE = Path(workflow.basedir) / "src" / "maskedntk"
PLOTTING = PACKAGE / "plotting"


def figure_rule_input(figure):
    """The experiment's tables, plus the figure's plotting module and the shared style, so
    that editing either re-renders the figure (and only the figure)."""
    source = PLOTTING / f"{figure.removeprefix('fig_')}.py"
    shared = [str(PLOTTING / f) for f in ("style.py", "common.py", "grids.py")]
    return dict(
        **experiment_tables(FIGURES[figure][0]),
        style=str(PLOTTING / "paper.mplstyle"),
        code=[str(source), *shared],
    )
