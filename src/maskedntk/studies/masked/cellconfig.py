"""The configuration of one grid cell: data, Algorithm 1's hyper-parameters, step rule, seeds.

A cell is written as a plain dict (YAML/JSON), the same for the command line and the
Snakemake workflow::

    data:    {source: synthetic, family: teacher, n: 100, d: 10, seed: 0, C: 2.0}
    train:   {preset: null, mask: bernoulli, xi: 0.5, p: 4, tau: 1, m: 1000, kappa: 1.0, rounds: 300}
    eta:     {rule: lambda_max, scale: 0.5}
    seeds:   [0, 1, 2, 3, 4]
    metrics: {fraction: 0.25, authors_window: 10}
    delta:   0.1

Unknown keys are errors that name the key and list the allowed ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from maskedntk.core.validate import check_choice, check_float, check_int

from .data import BUILTIN, FAMILIES, Dataset, load_builtin, load_user_data, make_synthetic
from .metrics import PlateauOptions
from .presets import apply_preset
from .spec import TrainSpec
from .stepsize import EtaRule

DATA_KEYS = {
    "synthetic": {"source", "family", "n", "d", "seed", "C", "teacher_width", "n_outputs"},
    "builtin": {"source", "name", "n", "C"},
    "file": {"source", "path", "label_columns", "C", "center"},
}
TRAIN_KEYS = (set(TrainSpec.field_names()) - {"eta"}) | {"preset"}
CELL_KEYS = {"experiment", "data", "train", "eta", "seeds", "metrics", "delta"}
#: the defaults of a data block (the one source: the command line and the tests read them here)
DATA_DEFAULTS = {
    "source": "synthetic",
    "C": 2.0,
    "family": "teacher",
    "n": 100,
    "d": 128,
    "seed": 0,
    "teacher_width": 50,
    "n_outputs": 1,
    "name": "diabetes",
    "center": False,
}
#: seeds of a cell when it does not set them (a count: seeds 0..4)
DEFAULT_SEEDS = 5
#: failure probability in the theorems' width requirements when a cell does not set it
DEFAULT_DELTA = 0.1


def check_keys(where: str, given, allowed) -> None:
    """Raise ValueError naming any key of ``given`` that is not in ``allowed``."""
    if not isinstance(given, dict):
        raise ValueError(f"{where} = {given!r}: must be a mapping of keys to values")
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed keys are {sorted(allowed)}")


@dataclass(frozen=True)
class CellConfig:
    experiment: str
    data: dict
    train: dict
    spec: TrainSpec  # with a placeholder eta; the rule fixes the real one (runner.resolve)
    eta: EtaRule
    seeds: tuple[int, ...]
    metrics: PlateauOptions
    delta: float

    def to_dict(self) -> dict:
        return {
            "experiment": self.experiment,
            "data": dict(self.data),
            "train": dict(self.train),
            "eta": {"rule": self.eta.rule, "value": self.eta.value, "scale": self.eta.scale, "grid": self.eta.grid},
            "seeds": list(self.seeds),
            "metrics": {k: getattr(self.metrics, k) for k in PlateauOptions.__dataclass_fields__},
            "delta": self.delta,
        }


def parse_data(data: dict) -> dict:
    """Validate a data block and fill its defaults.

    Keys that belong to another source are ignored (so a config can switch ``source``
    on top of defaults written for another); unknown keys are errors."""
    check_keys("data", data, set().union(*DATA_KEYS.values()))
    source = check_choice("data.source", data.get("source", DATA_DEFAULTS["source"]), tuple(DATA_KEYS))
    out = {"source": source, "C": check_float("data.C", data.get("C", DATA_DEFAULTS["C"]), 1.0, lo_open=True)}
    if source == "synthetic":
        out["family"] = check_choice("data.family", data.get("family", DATA_DEFAULTS["family"]), FAMILIES)
        out["n"] = check_int("data.n", data.get("n", DATA_DEFAULTS["n"]), 1)
        out["d"] = check_int("data.d", data.get("d", DATA_DEFAULTS["d"]), 2)
        out["seed"] = check_int("data.seed", data.get("seed", DATA_DEFAULTS["seed"]), 0)
        out["teacher_width"] = check_int(
            "data.teacher_width", data.get("teacher_width", DATA_DEFAULTS["teacher_width"]), 1
        )
        out["n_outputs"] = check_int("data.n_outputs", data.get("n_outputs", DATA_DEFAULTS["n_outputs"]), 1)
    elif source == "builtin":
        out["name"] = check_choice("data.name", data.get("name", DATA_DEFAULTS["name"]), BUILTIN)
        n = data.get("n")
        out["n"] = None if n is None else check_int("data.n", n, 1)
    else:
        if "path" not in data:
            raise ValueError("data.path: missing; source 'file' needs the path of a .npz or .csv file")
        out["path"] = str(data["path"])
        out["label_columns"] = data.get("label_columns")
        center = data.get("center", DATA_DEFAULTS["center"])
        if not isinstance(center, bool):
            raise ValueError(f"data.center = {center!r}: must be true or false")
        out["center"] = center
    return out


def dataset_id(data: dict) -> str:
    """A short, stable file stem for a data block (used for results/data/<id>.npz)."""
    return parsed_dataset_id(parse_data(data))


def parsed_dataset_id(d: dict) -> str:
    """:func:`dataset_id` of a block :func:`parse_data` returned (a CellConfig's ``data``)."""
    C = f"{d['C']:g}"
    if d["source"] == "synthetic":
        extra = f"-w{d['teacher_width']}" if d["family"] == "teacher" else ""
        outs = f"-o{d['n_outputs']}" if d["n_outputs"] != 1 else ""
        return f"{d['family']}-n{d['n']}-d{d['d']}-s{d['seed']}-C{C}{extra}{outs}"
    if d["source"] == "builtin":
        return f"{d['name']}-n{d['n'] or 'all'}-C{C}"
    import hashlib

    digest = hashlib.sha1(repr(sorted(d.items())).encode()).hexdigest()[:10]
    return f"file-{digest}-C{C}"


def load_data(data: dict) -> Dataset:
    """Build or load the data set a data block describes."""
    d = parse_data(data)
    if d["source"] == "synthetic":
        return make_synthetic(
            d["family"], d["n"], d["d"], d["seed"], d["C"], teacher_width=d["teacher_width"], n_outputs=d["n_outputs"]
        )
    if d["source"] == "builtin":
        return load_builtin(d["name"], d["C"], d["n"])
    return load_user_data(d["path"], label_columns=d["label_columns"], C=d["C"], center=d["center"])


def parse_seeds(seeds) -> tuple[int, ...]:
    """A list of distinct non-negative ints, or a count N meaning seeds 0..N-1."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(check_int("seeds", seeds, 1)))
    if not isinstance(seeds, (list, tuple)) or not seeds:
        raise ValueError(f"seeds = {seeds!r}: must be a non-empty list of integers >= 0, or a count >= 1")
    out = tuple(check_int("seeds[]", s, 0) for s in seeds)
    if len(set(out)) != len(out):
        raise ValueError(f"seeds = {list(out)}: seeds must be distinct")
    return out


def parse_train(train: dict) -> tuple[dict, TrainSpec]:
    """Validate a train block (TrainSpec fields without eta, plus an optional preset)."""
    check_keys("train", train, TRAIN_KEYS)
    fields = {k: v for k, v in train.items() if k != "preset"}
    if fields.get("mask") == "categorical":
        fields.setdefault("xi", None)  # categorical masks fix xi = 1/p
    spec = apply_preset(train.get("preset"), eta=1.0, **fields)
    return dict(train), spec


def parse_cell(cell: dict) -> CellConfig:
    """Validate a cell dict and return a CellConfig (errors name the bad key and the allowed values)."""
    check_keys("cell", cell, CELL_KEYS)
    train, spec = parse_train(cell.get("train", {}))
    eta = cell.get("eta", {})
    check_keys("eta", eta, {"rule", "value", "scale", "grid"})
    rule = EtaRule(**eta)
    metrics = cell.get("metrics", {})
    check_keys("metrics", metrics, set(PlateauOptions.__dataclass_fields__))
    return CellConfig(
        experiment=str(cell.get("experiment", "cell")),
        data=parse_data(cell.get("data", {})),
        train=train,
        spec=spec,
        eta=rule,
        seeds=parse_seeds(cell.get("seeds", DEFAULT_SEEDS)),
        metrics=PlateauOptions(**metrics),
        delta=check_float("delta", cell.get("delta", DEFAULT_DELTA), 0.0, 1.0, lo_open=True, hi_open=True),
    )
