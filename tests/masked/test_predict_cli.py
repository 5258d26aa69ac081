"""``maskedntk predict``: its help, its grid, its CSV against predict_plateau, --compare."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maskedntk.cli import ALL_OPTS, main
from maskedntk.studies.masked.cellconfig import load_data, parse_cell
from maskedntk.studies.masked.predict_grid import expand_grid
from maskedntk.studies.masked.prediction import predict_plateau
from maskedntk.studies.masked.runner import resolve_cell_eta, run_cell

SMALL = ["--n", "24", "--d", "12", "--m", "80", "--tau", "2", "--rounds", "30"]


def test_predict_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = capsys.readouterr().out
    for flag, *_ in ALL_OPTS:
        assert flag in text, flag
    for flag in ("--config", "--seeds", "--out", "--compare", "--threads"):
        assert flag in text, flag
    assert "a list is a grid axis" in text and "--p P,..." in text


def test_predict_grid_csv_matches_predict_plateau(tmp_path, capsys):
    out = tmp_path / "pred.csv"
    rc = main(["predict", *SMALL, "--p", "1,3", "--xi", "0.2,0.6", "--seeds", "0,2", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "plateau_predicted" in printed and "8 predictions" in printed
    table = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert len(table) == 8  # 2 p x 2 xi x 2 seeds
    assert sorted(set(zip(table["p"], table["xi"], strict=True))) == [(1, 0.2), (1, 0.6), (3, 0.2), (3, 0.6)]
    assert set(table["seed"]) == {0, 2}
    base = {"data": {"n": 24, "d": 12}, "train": {"m": 80, "tau": 2, "rounds": 30}}
    ds = load_data(parse_cell(base).data)
    for r in table.itertuples():
        cell = parse_cell({**base, "train": {**base["train"], "p": int(r.p), "xi": float(r.xi)}})
        spec, _, _ = resolve_cell_eta(cell.spec, ds, cell.eta)
        assert r.eta == pytest.approx(spec.eta, rel=1e-12)
        want = predict_plateau(ds.X, ds.y, spec, int(r.seed))
        assert r.plateau_predicted == pytest.approx(want.plateau_predicted, rel=1e-9)
        assert r.rate_predicted == pytest.approx(want.rate_predicted, rel=1e-9)
        assert r.mean_term + r.noise_first_order + r.noise_kernel == pytest.approx(r.plateau_predicted, rel=1e-9)


def test_predict_compare_trains_and_uses_the_rounds_run(tmp_path):
    out = tmp_path / "cmp.csv"
    args = [*SMALL, "--mask", "categorical", "--p", "2", "--seeds", "1"]
    assert main(["predict", *args, "--compare", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    cell = parse_cell(
        {
            "data": {"n": 24, "d": 12},
            "train": {"m": 80, "tau": 2, "rounds": 30, "mask": "categorical", "p": 2},
            "seeds": [0],
        }
    )
    ds = load_data(cell.data)
    runs = run_cell(cell, ds).runs
    assert table["plateau"].iloc[0] == pytest.approx(runs["plateau"].iloc[0], rel=1e-9, nan_ok=True)
    assert table["rounds"].iloc[0] == runs["rounds_run"].iloc[0]


def test_predict_grid_expansion_and_bad_values(capsys):
    cells = expand_grid(
        {"train": {"m": 10}}, {("train", "mask"): ["bernoulli", "categorical"], ("train", "xi"): [0.2, 0.6]}
    )
    assert len(cells) == 3  # the categorical cell drops xi: one cell, not two
    assert main(["predict", *SMALL, "--xi", "0.5,2.0"]) == 2
    err = capsys.readouterr().err
    assert "xi = 2" in err and "(0, 1]" in err
    assert main(["predict", *SMALL, "--eta-rule", "bogus"]) == 2
    assert "eta.rule" in capsys.readouterr().err


def test_predict_grid_lambda_max_uses_one_step_for_the_grid(tmp_path):
    out = tmp_path / "g.csv"
    assert (
        main(["predict", *SMALL, "--xi", "0.3,1.0", "--seeds", "1", "--eta-rule", "grid_lambda_max", "--out", str(out)])
        == 0
    )
    eta = pd.read_csv(out)["eta"].to_numpy()
    np.testing.assert_allclose(eta, eta[0], rtol=1e-12)
