"""The work behind each job of the masked-neuron study, as plain functions; :mod:`.commands`
reads a job's command line (:class:`maskedntk.core.jobcli.JobArgs`) and calls them.

Every output is written atomically, so a killed job never leaves a truncated file; the tables
carry no time stamps, so a rerun of the same configuration on the same commit is bit-identical
(the seconds a job took are in its metadata and log).
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import pandas as pd

from maskedntk.core.atomic import write_frame, write_json, write_text

from .cellconfig import load_data, parse_cell
from .data import load_npz, save_npz
from .metrics import PlateauOptions
from .summary import summarize_cell

log = logging.getLogger("maskedntk")


def make_data_job(data: dict, out) -> None:
    """Build (or load and normalise) the data set of a data block and save it as .npz."""
    ds = load_data(data)
    for change in ds.meta.get("changes", []):
        log.info("data: %s", change)
    save_npz(ds, out)
    log.info("wrote %s: n = %d, d = %d, d_out = %d", out, ds.n, ds.d, ds.n_outputs)


def _train_and_write(cells: dict[str, tuple[dict, tuple]], data_path, threads: int) -> None:
    """Train cells on one data set as one computation (:func:`runner.train_cells`: cells of
    the same shapes share batches) and write each cell's (trajectories, trace, record)."""
    import torch

    from .runner import train_cells

    torch.set_num_threads(max(1, int(threads)))
    ds = load_npz(data_path)
    parsed = [(cell_id, parse_cell(cell)) for cell_id, (cell, _) in cells.items()]
    for cell_id, c in parsed:
        log.info(
            "cell %s/%s: %d seeds, K = %d rounds, n = %d, d = %d",
            c.experiment,
            cell_id,
            len(c.seeds),
            c.spec.rounds,
            ds.n,
            ds.d,
        )

    def progress(i, seed, k, L, elapsed):
        log.info(
            "%s seed %d  round %d/%d  L_k = %.6g  elapsed %.1f s",
            parsed[i][0],
            seed,
            k,
            parsed[i][1].spec.rounds,
            L,
            elapsed,
        )

    t0 = time.perf_counter()
    every = max(1, min(c.spec.rounds for _, c in parsed) // 5)
    trained = train_cells(parsed, ds, progress=progress, progress_every=every)
    for (cell_id, (_, outs)), tc in zip(cells.items(), trained, strict=True):
        rec = tc.record
        log.info(
            "%s: eta = %.6g (%s); lambda0 = %.4g; engine path %s, selection %s; rounds run %s",
            cell_id,
            rec["eta"],
            rec["eta_rule"],
            rec["lambda0"],
            rec["path"],
            rec["selection"],
            rec["rounds_run"],
        )
        n_div = sum(r >= 0 for r in rec["diverged_round"])
        if n_div:
            log.warning(
                "%s: %d of %d seeds diverged (rounds %s); recorded as diverged",
                cell_id,
                n_div,
                len(rec["seeds"]),
                rec["diverged_round"],
            )
        n_zero = sum(r >= 0 for r in rec["zero_round"])
        if n_zero:
            log.info(
                "%s: %d seeds converged to zero (L_k at the rounding floor, rounds %s)",
                cell_id,
                n_zero,
                rec["zero_round"],
            )
        out_trajectories, out_trace, out_record = outs
        write_frame(out_trajectories, tc.trajectories)
        write_frame(out_trace, tc.trace)
        # the per-cell record carries the fields of every job's metadata (core.jobcli.metadata)
        write_json(out_record, {**rec, "job": "train", "seconds": round(time.perf_counter() - t0, 3)})
        log.info("%s: done in %.1f s (%d cells trained together)", cell_id, time.perf_counter() - t0, len(cells))


def cell_folder(job_dir, job: str, cell_id: str) -> Path:
    """The folder of cell ``cell_id`` inside the output folder ``job_dir`` of training job
    ``job`` (<results>/masked/train/<experiment>/<job>): <results>/masked/train/<experiment>/<cell_id>."""
    rel = cell_id[len(job) :].lstrip("/")
    return Path(job_dir) / rel if rel else Path(job_dir)


def train_cells_job(cells: dict[str, dict], job: str, out_dir, threads: int = 1) -> None:
    """Train the cells of one training job (``cells``: {cell id: its training params with
    ``data_file``}) as one computation per data set; cell ``c`` writes into
    ``out_dir/<c minus job>``, i.e. <results>/masked/train/<experiment>/<c>/.  Python and torch start
    once for all of them."""
    by_data: dict[str, dict[str, tuple[dict, tuple]]] = {}
    for cell_id, params in cells.items():
        cell = {k: v for k, v in params.items() if k != "data_file"}
        folder = cell_folder(out_dir, job, cell_id)
        folder.mkdir(parents=True, exist_ok=True)
        outs = (folder / "trajectories.parquet", folder / "trace.parquet", folder / "record.json")
        by_data.setdefault(params["data_file"], {})[cell_id] = (cell, outs)
    for data_path, group in by_data.items():
        _train_and_write(group, data_path, threads)


#: columns of a prediction file, tables/<experiment>/predictions.csv (maskedntk.studies.masked.prediction)
#: (no wall times: a rerun must reproduce every table bit for bit; the log has the times)
PREDICTION_COLUMNS = ("cell", "seed", "plateau_predicted", "rate_predicted", "prediction_note")


def predict_job(records, data_paths, out_csv) -> None:
    """Predict the plateau of every (cell, seed) of one experiment from its data, initialisation
    and settings (:func:`maskedntk.studies.masked.prediction.predict_plateau`; no training
    run is read, only each seed's number of rounds so that the window matches the measured one).
    A cell the predictor does not cover (the authors' conventions) gets NaN and the reason."""
    from .prediction import predict_plateau
    from .spec import TrainSpec

    rows = []
    for rec_path, data_path in zip(records, data_paths, strict=True):
        rec = json.loads(Path(rec_path).read_text())
        ds = load_npz(data_path)
        spec = TrainSpec(**rec["spec"])
        for seed, K in zip(rec["seeds"], rec.get("rounds_run", [spec.rounds] * len(rec["seeds"])), strict=True):
            row = {"cell": rec["cell"], "seed": seed, "prediction_note": ""}
            try:
                pred = predict_plateau(ds.X, ds.y, spec, seed=seed, rounds=int(K))
                row.update(plateau_predicted=pred.plateau_predicted, rate_predicted=pred.rate_predicted)
                seconds = pred.seconds
            except ValueError as err:
                row.update(plateau_predicted=math.nan, rate_predicted=math.nan, prediction_note=str(err))
                seconds = 0.0
            rows.append(row)
            log.info("predicted %s seed %d: %.4g (%.2f s)", rec["cell"], seed, row["plateau_predicted"], seconds)
    write_frame(out_csv, pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS)))


def aggregate_job(
    measures: list[tuple[PlateauOptions, float]],
    records,
    trajectories,
    traces,
    out_runs,
    out_trajectories,
    out_trace,
    predictions=None,
) -> None:
    """Measure every trained cell of one experiment and write its tables.

    ``measures[i]`` = (how the plateau is measured, delta) of the cell of ``records[i]``;
    ``predictions``: the experiment's prediction files (one, tables/<experiment>/predictions.csv), joined by
    (cell, seed)."""
    runs, trajs, trs = [], [], []
    for (options, delta), rec_path, traj_path, trace_path in zip(measures, records, trajectories, traces, strict=True):
        rec = json.loads(Path(rec_path).read_text())
        traj = pd.read_parquet(traj_path)
        runs.append(summarize_cell(rec, traj, options, delta))
        trajs.append(traj)
        tr = pd.read_parquet(trace_path)
        if len(tr):
            trs.append(tr)
    runs_df = pd.concat(runs, ignore_index=True)
    if predictions is not None:
        pred = pd.concat([pd.read_csv(f, keep_default_na=False, na_values=[""]) for f in predictions])
        runs_df = runs_df.merge(pred, on=["cell", "seed"], how="left")
        runs_df["prediction_note"] = runs_df["prediction_note"].fillna("")
        runs_df["prediction_error"] = runs_df["plateau_predicted"] / runs_df["plateau"] - 1.0
    write_frame(out_runs, runs_df)
    write_frame(out_trajectories, pd.concat(trajs, ignore_index=True))
    trace_df = pd.concat(trs, ignore_index=True) if trs else pd.read_parquet(traces[0]).iloc[0:0]
    write_frame(out_trace, trace_df)
    log.info(
        "%d cells, %d runs (%d diverged, %d not stationary)",
        len(measures),
        len(runs_df),
        int(runs_df["diverged"].sum()),
        int((~runs_df["stationary"].astype(bool)).sum()),
    )


def concat_job(runs, trajectories, out_runs, out_trajectories) -> None:
    """Join the per-experiment tables into <results>/masked/tables/runs.csv and trajectories.parquet."""
    runs_df = pd.concat([pd.read_csv(p) for p in runs], ignore_index=True)
    write_frame(out_runs, runs_df)
    cols = ["experiment", "cell", "seed", "round", "L"]
    write_frame(
        out_trajectories, pd.concat([pd.read_parquet(p, columns=cols) for p in trajectories], ignore_index=True)
    )
    log.info("%d runs in %d experiments", len(runs_df), runs_df["experiment"].nunique())


def write_config_job(config: dict, out) -> None:
    """The configuration used, as YAML (shown in the report)."""
    import yaml

    write_text(out, yaml.safe_dump(config, sort_keys=False, default_flow_style=None, width=100))
