"""The predicted paper-scale map: its grids come from the config files, its numbers are
predict_plateau's, and its figure's ratios are predicted / measured per shared cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from maskedntk.studies.masked.cellconfig import load_data, parse_cell
from maskedntk.studies.masked.predicted_map import main, predict_map, read_grids
from maskedntk.studies.masked.prediction import predict_plateau
from maskedntk.studies.masked.runner import resolve_cell_eta

SMALL = {
    "masked": {
        "defaults": {"data": {"n": 20, "d": 8}, "train": {"m": 40, "rounds": 20}, "seeds": 2},
        "experiments": {
            "heatmap_bernoulli": {"grid": {"p": [1, 3], "xi": [0.4, 1.0], "tau": [2]}},
            "heatmap_categorical": {"grid": {"p": [1, 2], "tau": [1, 3]}},
        },
    }
}


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cfg")
    (d / "small.yaml").write_text(yaml.safe_dump(SMALL))
    return ["config/masked.yaml", str(d / "small.yaml")]


def test_map_reads_the_grids_and_matches_predict_plateau(configs):
    grids = read_grids(configs)
    assert grids["m"] == 40 and grids["seeds"] == [0, 1]
    assert len(grids["cells"]["heatmap_bernoulli"]) == 4 and len(grids["cells"]["heatmap_categorical"]) == 4
    table = predict_map(grids, workers=1)
    assert len(table) == 16 and set(table["seed"]) == {0, 1}
    cat = table[table["mask"] == "categorical"]
    np.testing.assert_allclose(sorted(set(cat["xi"])), [0.5, 1.0])
    # one step for each grid (the default rule grid_lambda_max), as the workflow runs it
    assert table.groupby("experiment")["eta"].nunique().eq(1).all()
    ds = load_data(parse_cell(grids["cells"]["heatmap_bernoulli"][0]).data)
    for r in table.sample(4, random_state=0).itertuples():
        raw = next(
            c
            for c in grids["cells"][r.experiment]
            if parse_cell(c).spec.p == r.p
            and parse_cell(c).spec.tau == r.tau
            and abs(parse_cell(c).spec.xi_eff - r.xi) < 1e-12
        )
        spec, _, _ = resolve_cell_eta(parse_cell(raw).spec, ds, parse_cell(raw).eta)
        assert r.eta == pytest.approx(spec.eta, rel=1e-12)
        assert r.plateau_predicted == pytest.approx(
            predict_plateau(ds.X, ds.y, spec, r.seed).plateau_predicted, rel=1e-9
        )


def test_map_figure_ratios(configs, tmp_path):
    table = predict_map(read_grids(configs), workers=1)
    table.to_csv(tmp_path / "map.csv", index=False)
    # a "measured" table: the predictions times 1.25 on the cells with xi_eff < 1
    meas = table.assign(plateau=table["plateau_predicted"] / 1.25, stationary=True, diverged=False)
    for mask in ("bernoulli", "categorical"):
        meas[meas["mask"] == mask].to_csv(tmp_path / f"{mask}.csv", index=False)
    args = ["--map", str(tmp_path / "map.csv"), "--bernoulli", str(tmp_path / "bernoulli.csv")]
    args += ["--categorical", str(tmp_path / "categorical.csv"), "--pdf", str(tmp_path / "f.pdf")]
    assert main(["figure", *args, "--png", str(tmp_path / "f.png")]) == 0
    assert (tmp_path / "f.png").stat().st_size > 10_000
    from maskedntk.studies.masked.figures.predicted_map import draw

    summary = draw(
        table,
        meas[meas["mask"] == "bernoulli"],
        meas[meas["mask"] == "categorical"],
        tmp_path / "g.pdf",
        tmp_path / "g.png",
    )
    s = summary.set_index("mask")
    assert s.loc["bernoulli", "shared_cells"] == 2  # xi = 1 is left out
    assert s.loc["categorical", "shared_cells"] == 2  # p = 1 (xi_eff = 1) is left out
    np.testing.assert_allclose(s["median_ratio"], 1.25, rtol=1e-9)
    # a measured grid that does not reach the map's cells shares none
    none = draw(
        table,
        meas[(meas["mask"] == "bernoulli") & (meas["p"] > 5)],
        meas[meas["mask"] == "categorical"],
        tmp_path / "h.pdf",
        tmp_path / "h.png",
    )
    assert none.set_index("mask").loc["bernoulli", "shared_cells"] == 0
    assert isinstance(pd.read_csv(tmp_path / "map.csv"), pd.DataFrame)
