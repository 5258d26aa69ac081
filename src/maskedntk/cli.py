"""Command line: ``maskedntk run | predict | theory | data | claims``.

``maskedntk run`` trains one configuration (one grid cell) over several seeds, prints a
summary table beside the theory, and with ``--out DIR`` writes ``runs.csv`` (one row per
seed), ``trajectories.parquet`` (L_k per seed and round), ``trace.parquet`` (with
``--trace``) and ``provenance.json``.  ``maskedntk predict`` takes the same options, each train
or eta option also as a comma-separated list (a grid), and prints the predicted plateau of
every cell (docs/masked/prediction.md) without training (``--compare`` trains too).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from maskedntk.studies.masked.cellconfig import DATA_DEFAULTS, DEFAULT_SEEDS, load_data, parse_cell
from maskedntk.studies.masked.data import BUILTIN, FAMILIES, save_npz
from maskedntk.studies.masked.metrics import PlateauOptions, seed_stats
from maskedntk.studies.masked.presets import PRESETS
from maskedntk.studies.masked.spec import (
    AGGREGATIONS,
    DEVICES,
    DTYPES,
    INITS,
    LOSSES,
    MASKS,
    OUTPUT_SCALES,
    PATHS,
    SELECTIONS,
    SURROGATES,
    TrainSpec,
)
from maskedntk.studies.masked.stepsize import RULES, EtaRule

# (flag, dest block, key, type, allowed, help); the defaults are read from the dataclasses
# and the cell module (option_default), never written here
DATA_OPTS = [
    ("--data", "data", "source", str, ("synthetic", "builtin", "file"), "where the data comes from"),
    ("--family", "data", "family", str, FAMILIES, "synthetic label family"),
    ("--n", "data", "n", int, "integer >= 1", "number of samples n (builtin: first n rows; default all)"),
    ("--d", "data", "d", int, "integer >= 2", "input dimension d (synthetic)"),
    ("--data-seed", "data", "seed", int, "integer >= 0", "seed of the synthetic data set"),
    ("--C", "data", "C", float, "> 1", "labels are scaled to max|y_i| = C - 1"),
    ("--teacher-width", "data", "teacher_width", int, "integer >= 1", "width of the random ReLU teacher"),
    ("--n-outputs", "data", "n_outputs", int, "integer >= 1", "label columns of a synthetic set"),
    ("--dataset-name", "data", "name", str, BUILTIN, "built-in real data set (--data builtin)"),
    ("--data-path", "data", "path", str, ".npz or .csv", "user data file (--data file)"),
    (
        "--label-columns",
        "data",
        "label_columns",
        str,
        "CSV column names, comma separated",
        "label column(s) of a CSV (default: the last column)",
    ),
]
TRAIN_OPTS = [
    ("--preset", "train", "preset", str, tuple(PRESETS), "a named special case; fixes some options"),
    ("--mask", "train", "mask", str, MASKS, "Bernoulli(xi) masks (Thm 3) or categorical (Thm 7)"),
    ("--xi", "train", "xi", float, "(0, 1]", "selection probability (Bernoulli; categorical: 1/p)"),
    ("--p", "train", "p", int, "integer >= 1", "number of subnetworks p"),
    ("--tau", "train", "tau", int, "integer >= 1", "local GD steps per global round tau"),
    ("--m", "train", "m", int, "integer >= 1", "hidden neurons m"),
    ("--kappa", "train", "kappa", float, "> 0", "init scale: w_r ~ N(0, kappa^2 I)"),
    ("--rounds", "train", "rounds", int, "integer >= 1", "global rounds K"),
    (
        "--max-rounds",
        "train",
        "max_rounds",
        int,
        "integer >= rounds",
        "train a seed that is not stationary after K rounds on, K at a time, up to this",
    ),
    ("--surrogate", "train", "surrogate", str, SURROGATES, "surrogate scaling convention"),
    ("--aggregation", "train", "aggregation", str, AGGREGATIONS, "unheld neurons: keep (paper) or zero"),
    ("--loss", "train", "loss", str, LOSSES, "local loss 1/2 sum, or 1/2 sum / n"),
    ("--init", "train", "init", str, INITS, "first-layer init N(0, kappa^2 I) or N(0, I/m)"),
    ("--output-scale", "train", "output_scale", str, OUTPUT_SCALES, "output factor 1/sqrt(m) or 1/sqrt(d_out)"),
    ("--relu-grad-at-zero", "train", "relu_grad_at_zero", float, "[0, 1]", "sigma'(0): 1 (paper) or 0 (autograd)"),
    ("--dtype", "train", "dtype", str, DTYPES, "floating-point precision"),
    ("--device", "train", "device", str, DEVICES, "compute device"),
    ("--path", "train", "path", str, PATHS, "local steps via the n x n Gram matrix or via X (exact either way)"),
    ("--selection", "train", "selection", str, SELECTIONS, "compute only held neurons (gather) or all (masked)"),
    (
        "--divergence-factor",
        "train",
        "divergence_factor",
        float,
        "> 1",
        "a seed diverged once L_k > factor * max(L_0, 1) or is not finite",
    ),
]
ETA_OPTS = [
    (
        "--eta-rule",
        "eta",
        "rule",
        str,
        tuple(r for r in RULES if r != "grid_lambda_max"),  # one cell has no grid
        "step-size rule (see maskedntk.studies.masked.stepsize)",
    ),
    ("--eta", "eta", "value", float, "> 0", "a fixed step size (implies --eta-rule fixed)"),
    ("--eta-scale", "eta", "scale", float, "> 0", "the constant of the lambda_max or theory rule"),
]
METRIC_OPTS = [
    ("--plateau-fraction", "metrics", "fraction", float, "(0, 1]", "last fraction of the K rounds in error_after_K"),
    ("--authors-window", "metrics", "authors_window", int, "integer >= 1", "window of the authors' estimator"),
]
ALL_OPTS = DATA_OPTS + TRAIN_OPTS + ETA_OPTS + METRIC_OPTS


def option_default(block: str, key: str):
    """The default of a cell option, from its one source: :class:`TrainSpec`, :class:`EtaRule`,
    :class:`PlateauOptions` or the data defaults of :mod:`maskedntk.studies.masked.cellconfig`."""
    if block == "data":
        return DATA_DEFAULTS.get(key)
    if block == "train" and key == "xi":
        return "0.5 for Bernoulli masks, 1/p for categorical"
    if block == "train" and key == "preset":
        return None
    source = {"train": TrainSpec, "eta": EtaRule, "metrics": PlateauOptions}[block]
    return source.__dataclass_fields__[key].default


def _add(parser: argparse.ArgumentParser, opts, as_list: bool = False) -> None:
    """The options ``opts``; ``as_list``: each takes a comma-separated list of values (a grid axis)."""
    for flag, _block, key, typ, allowed, text in opts:
        default = option_default(_block, key)
        allowed_s = ", ".join(allowed) if isinstance(allowed, tuple) else allowed
        metavar = "{" + ",".join(allowed) + "}" if isinstance(allowed, tuple) else key.upper()
        parser.add_argument(
            flag,
            dest=f"opt_{_block}_{key}",
            type=_list_of(typ, flag) if as_list else typ,
            default=None,
            metavar=metavar + ",..." if as_list else metavar,
            help=f"{text}{'; a list is a grid axis' if as_list else ''} (default: {default}; allowed: {allowed_s})",
        )


def _list_of(typ, flag):
    def parse(text: str) -> list:
        try:
            return [typ(v.strip()) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} = {text!r}: give a value or comma-separated values") from None

    return parse


def parse_seed_list(text: str) -> list[int]:
    """'0-9' -> 0..9, '0,3,7' -> [0, 3, 7], '5' -> 0..4 (a count)."""
    text = text.strip()
    try:
        if "-" in text and "," not in text:
            lo, hi = (int(t) for t in text.split("-"))
            if hi < lo:
                raise ValueError
            return list(range(lo, hi + 1))
        if "," in text:
            return [int(t) for t in text.split(",") if t.strip()]
        return list(range(int(text)))
    except ValueError:
        raise ValueError(f"--seeds = {text!r}: use a range '0-9', a list '0,3,7' or a count '5'") from None


def cell_from_args(args) -> dict:
    """The cell dict for parsed arguments: --config first, then explicit options override it."""
    cell: dict = {}
    if getattr(args, "config", None):
        import yaml

        cell = yaml.safe_load(Path(args.config).read_text()) or {}
    cell.setdefault("data", {})
    cell.setdefault("train", {})
    cell.setdefault("eta", {})
    cell.setdefault("metrics", {})
    for _flag, block, key, *_ in ALL_OPTS:
        v = getattr(args, f"opt_{block}_{key}")
        if v is None:
            continue
        if key == "label_columns":
            v = [c.strip() for c in v.split(",")]
        cell[block][key] = v
    if cell["train"].get("mask") == "categorical" and args.opt_train_xi is None:
        cell["train"].pop("xi", None)
    if args.opt_eta_value is not None and args.opt_eta_rule is None:
        cell["eta"]["rule"] = "fixed"
    if getattr(args, "seeds", None):
        cell["seeds"] = parse_seed_list(args.seeds)
    cell.setdefault("seeds", DEFAULT_SEEDS)
    if getattr(args, "trace", False):
        cell["train"]["trace"] = True
    cell.setdefault("experiment", "cli")
    return cell


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maskedntk",
        description="Training shallow ReLU networks with randomly masked neurons (Liao & Kyrillidis, "
        "TMLR 2022): run Algorithm 1 and compare with the theory.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="train one configuration over several seeds",
        description="Train one configuration of Algorithm 1 over several seeds and "
        "print the measured error neighbourhood beside the theory.",
    )
    run.add_argument("--config", help="YAML cell config (data/train/eta/seeds/metrics); options override it")
    run.add_argument("--seeds", help="seeds: a range '0-9', a list '0,3,7' or a count '5' (default: 5 = 0..4)")
    run.add_argument("--trace", action="store_true", help="also record the losses through every local step")
    run.add_argument("--out", help="folder for runs.csv, trajectories.parquet, trace.parquet, provenance.json")
    run.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    run.add_argument("--quiet", action="store_true", help="print only the summary table")
    _add(run, ALL_OPTS)
    pr = sub.add_parser(
        "predict",
        help="predict the plateau of one cell or a grid of cells from the initialisation (no training)",
        description="Predict the error neighbourhood (plateau), its rate and its terms from the data and "
        "each seed's initialisation alone (docs/masked/prediction.md).  Every train and eta option "
        "takes a comma-separated list; the cells are all their combinations (e.g. --p 1,2,4 "
        "--xi 0.1,0.5,0.9); --eta-rule grid_lambda_max gives the whole grid "
        "one step, as the workflow does.  The numerics options (dtype, device, path, selection) "
        "apply to --compare's training.",
    )
    pr.add_argument("--config", help="YAML cell config (data/train/eta/seeds/metrics); options override it")
    pr.add_argument("--seeds", help="seeds: a range '0-9', a list '0,3,7' or a count '5' (default: 5 = 0..4)")
    pr.add_argument("--out", help="CSV file for the table of predictions, one row per (cell, seed)")
    pr.add_argument(
        "--compare", action="store_true", help="also train every cell and print the measured plateau beside"
    )
    pr.add_argument("--threads", type=int, default=None, help="torch threads for --compare (default: torch's choice)")
    _add(pr, DATA_OPTS)
    _add(pr, TRAIN_OPTS + ETA_OPTS, as_list=True)
    _add(pr, METRIC_OPTS)
    th = sub.add_parser("theory", help="print the theory quantities of a configuration (no training)")
    th.add_argument("--config", help="YAML cell config")
    _add(th, ALL_OPTS)
    data = sub.add_parser("data", help="write a data set to .npz and print what was done to it")
    data.add_argument("out", help="output .npz path")
    data.add_argument("--config", help="YAML cell config (its data block is used)")
    _add(data, DATA_OPTS)
    cl = sub.add_parser(
        "claims",
        help="test the paper's claims on a results/masked/tables folder and print the Markdown table",
        description="Test the masked-neuron study's claims on the per-experiment tables of a run "
        "(results/masked/tables/<experiment>/{runs.csv,trajectories.parquet,trace.parquet}).",
    )
    cl.add_argument("tables", help="the results/masked/tables folder of a run")
    cl.add_argument("--alpha", type=float, default=0.05, help="significance level (default: 0.05)")
    cl.add_argument("--boot", type=int, default=2000, help="bootstrap resamples (default: 2000)")
    cl.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    for p in (th, data):
        p.set_defaults(seeds=None, trace=False)
        for _flag, block, key, *_ in ALL_OPTS:
            p.set_defaults(**{f"opt_{block}_{key}": None})
    return parser


def _fmt(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        if math.isnan(x):
            return "nan"
        return f"{x:.4g}"
    return str(x)


def _print_theory(th: dict, spec) -> None:
    print(
        f"theory: lambda0 = {th['lambda0']:.4g}, lambda_max = {th['lambda_max']:.4g}, theta = {th['theta']:.4g}, "
        f"eta = {th['eta']:.4g} ({th['eta_rule']})"
    )
    if spec.mask == "bernoulli":
        print(
            f"  Theorem 3 rate factor 1 - eta theta tau lambda0 / 4 = {th['rate_thm3']:.6f}; B1 = {th['B1']:.4g} "
            f"(width {th['b1_width']:.3g}, step var {th['b1_step_variance']:.3g}, mask var "
            f"{th['b1_mask_variance']:.3g}, local drift {th['b1_local_drift']:.3g} / "
            f"{th['b1_local_drift_step2']:.3g} / {th['b1_local_drift_step']:.3g})"
        )
    else:
        print(
            f"  Theorem 7 rate factor = {th['rate_thm7']:.6f}; error order tau (p-1)^2 n^3 d / (lambda0^2 m) = "
            f"{th['thm7_error']:.4g}"
        )
    print(
        f"  {th['requirements_theorem']}: eta / required = {th['eta_ratio']:.3g}, m / required = "
        f"{th['width_ratio']:.3g} (constants unspecified)"
    )


def cmd_run(args) -> int:
    from maskedntk.core.atomic import write_frame, write_json
    from maskedntk.studies.masked.runner import run_cell

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    cell = parse_cell(cell_from_args(args))
    ds = load_data(cell.data)
    if not args.quiet:
        for change in ds.meta.get("changes", []):
            print(f"data: {change}")
        print(f"data: n = {ds.n}, d = {ds.d}, d_out = {ds.n_outputs} ({cell.data['source']})")
    t0 = time.perf_counter()

    def progress(seed, k, L, elapsed):
        print(f"  seed {seed}: round {k}/{cell.spec.rounds}  L_k = {L:.6g}  ({elapsed:.1f} s)", flush=True)

    every = 0 if args.quiet else max(1, cell.spec.rounds // 4)
    res = run_cell(cell, ds, cell_id="cli", progress=progress, progress_every=every)
    runs = res.runs
    cols = ["seed", "L0", "rounds_run", "plateau", "error_after_K", "rate_empirical", "stationary", "diverged"]
    print()
    print("  ".join(f"{c:>16}" for c in cols))
    for _, r in runs.iterrows():
        print("  ".join(f"{_fmt(r[c]):>16}" for c in cols))
    st = seed_stats(runs["plateau"])
    rt = seed_stats(runs["rate_empirical"])
    print(
        f"\nplateau (mean of the stationary window): {st['mean']:.4g} +- {st['se']:.2g} "
        f"(s.e., {st['count']} of {len(runs)} seeds stationary)"
    )
    print(f"contraction per round: measured {rt['mean']:.4f} +- {rt['se']:.2g}, theory {res.theory['rate_theory']:.6f}")
    print(
        f"diverged: {int(runs['diverged'].sum())}; not stationary: {int((~runs['stationary']).sum())}; "
        f"engine path {res.result.path}, selection {res.result.selection}; {time.perf_counter() - t0:.1f} s"
    )
    _print_theory(res.theory, cell.spec)
    if args.out:
        out = Path(args.out)
        write_frame(out / "runs.csv", runs)
        write_frame(out / "trajectories.parquet", res.trajectories)
        if len(res.trace):
            write_frame(out / "trace.parquet", res.trace)
        write_json(out / "provenance.json", res.provenance)
        print(
            f"wrote {out}/runs.csv, trajectories.parquet{', trace.parquet' if len(res.trace) else ''}, provenance.json"
        )
    return 0


def cmd_predict(args) -> int:
    from maskedntk.studies.masked.predict_cli import run_predict

    return run_predict(args, cell_from_args, TRAIN_OPTS + ETA_OPTS)


def cmd_theory(args) -> int:
    from maskedntk.studies.masked.runner import cell_theory, resolve_cell_eta

    cell = parse_cell(cell_from_args(args))
    ds = load_data(cell.data)
    spec, lambda0, lam_max = resolve_cell_eta(cell.spec, ds, cell.eta)
    record = {"spec": spec.to_dict(), "n": ds.n, "d": ds.d, "lambda0": lambda0, "lambda_max": lam_max, "eta": spec.eta}
    th = cell_theory(record, cell.delta)
    th.update(eta=spec.eta, eta_rule=cell.eta.describe())
    _print_theory(th, spec)
    return 0


def cmd_data(args) -> int:
    cell = cell_from_args(args)
    ds = load_data(parse_cell({"data": cell["data"]}).data)
    save_npz(ds, args.out)
    for change in ds.meta.get("changes", []):
        print(f"data: {change}")
    print(f"wrote {args.out}: n = {ds.n}, d = {ds.d}, d_out = {ds.n_outputs}")
    return 0


def cmd_claims(args) -> int:
    from maskedntk.core.claims.render import render_claims
    from maskedntk.studies.masked.claims import TITLE, evaluate_claims, load_tables, tables_in

    found = tables_in(args.tables)
    if not found:
        raise ValueError(f"{args.tables}: no experiment folder with runs.csv, trajectories.parquet and trace.parquet")
    df = evaluate_claims(load_tables(found), alpha=args.alpha, n_boot=args.boot, seed=args.seed)
    print(render_claims(df, title=TITLE, alpha=args.alpha)[0])
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return {"run": cmd_run, "predict": cmd_predict, "theory": cmd_theory, "data": cmd_data, "claims": cmd_claims}[
            args.command
        ](args)
    except ValueError as err:
        print(f"maskedntk {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
