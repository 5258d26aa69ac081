# Validation of the configuration, the grid of cells, wildcard constraints and helpers.
# Runs first: a bad configuration stops here, before any job, with an error naming the key.

from pathlib import Path

from snakemake.exceptions import WorkflowError

from maskedntk.cellconfig import dataset_id
from maskedntk.experiments import ConfigError, expand_config, validate_config

try:
    validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}")

#: {experiment: {cell id: cell dict}}
CELLS = expand_config(config)
#: {dataset id: data block}
DATASETS = {dataset_id(c["data"]): c["data"] for cells in CELLS.values() for c in cells.values()}


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
    return {k: cell[k] for k in ("experiment", "data", "train", "eta", "seeds") if k in cell}


def data_file(wildcards):
    return f"results/data/{dataset_id(cell_of(wildcards)['data'])}.npz"


def cell_files(experiment, name):
    return [f"results/train/{experiment}/{cell}/{name}" for cell in CELLS[experiment]]


def train_mem_mb(wildcards):
    """Memory estimate of one training job (the engine's work buffers dominate)."""
    cell = cell_of(wildcards)
    t, n = cell["train"], cell["data"].get("n") or 442
    width = t["m"] if t.get("mask", "bernoulli") == "bernoulli" else t["m"] // t["p"] + 64
    item = 8 if t.get("dtype", "float64") == "float64" else 4
    return int(500 + 8 * item * n * (t.get("p", 1) * width + 3 * t["m"]) / 2**20)


def has(*experiments):
    return all(e in CELLS for e in experiments)


def experiment_tables(experiment):
    return {
        "runs": f"results/tables/{experiment}/runs.csv",
        "trajectories": f"results/tables/{experiment}/trajectories.parquet",
        "trace": f"results/tables/{experiment}/trace.parquet",
    }
