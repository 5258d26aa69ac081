"""Tests of the figures fig_dynamics, fig_bound_anatomy and fig_width: each render() draws
from small tables built with run_cell, writes a non-empty PDF and PNG, and survives diverged
runs; bound_anatomy picks the expected configurations and prints the expected ratios."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from maskedntk.core import figures as style
from maskedntk.core import numbers
from maskedntk.studies.masked.cellconfig import load_data, parse_cell
from maskedntk.studies.masked.figures import bound_anatomy, common, dynamics, width
from maskedntk.studies.masked.runner import run_cell

DATA = {"source": "synthetic", "family": "teacher", "n": 16, "d": 8, "seed": 0}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny problems run fastest on one torch thread (and do not fight a busy machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(experiment: str, cells: dict[str, dict], rounds: int, trace: bool = False):
    """run_cell over named cells (train overrides); the three tables of an experiment."""
    runs, traj, tr = [], [], []
    ds = None
    for cell_id, train in cells.items():
        cfg = {
            "experiment": experiment,
            "data": DATA,
            "train": {"m": 40, "rounds": rounds, "trace": trace, **train},
            "eta": {"rule": "lambda_max", "scale": 0.5},
            "seeds": [0, 1, 2],
        }
        cell = parse_cell(cfg)
        ds = ds or load_data(cell.data)
        res = run_cell(cell, ds, cell_id=cell_id)
        runs.append(res.runs)
        traj.append(res.trajectories)
        tr.append(res.trace)
    return pd.concat(runs, ignore_index=True), pd.concat(traj, ignore_index=True), pd.concat(tr, ignore_index=True)


@pytest.fixture(scope="module")
def dynamics_tables():
    cells = {f"xi~{xi:g}": {"mask": "bernoulli", "xi": xi, "p": 3, "tau": 4} for xi in (0.3, 0.5, 1.0)}
    return _run("dynamics", cells, rounds=40, trace=True)


@pytest.fixture(scope="module")
def heatmap_runs():
    cells = {
        f"p~{p}/xi~{xi:g}": {"mask": "bernoulli", "xi": xi, "p": p, "tau": 2}
        for p in (1, 2, 4)
        for xi in (0.5, 0.9, 1.0)
    }
    return _run("heatmap_bernoulli", cells, rounds=20)[0]


@pytest.fixture(scope="module")
def width_runs():
    cells = {}
    for m in (20, 40, 80):
        cells[f"mask~bernoulli/m~{m}"] = {"mask": "bernoulli", "xi": 0.5, "p": 3, "tau": 2, "m": m}
        cells[f"mask~categorical/m~{m}"] = {"mask": "categorical", "p": 3, "tau": 2, "m": m}
    return _run("width", cells, rounds=20)[0]


@pytest.fixture
def captured(monkeypatch):
    """The figures passed to style.save (their texts stay readable after render returns)."""
    figs = []
    orig = style.save

    def save(fig, pdf, png, **kw):
        figs.append(fig)
        orig(fig, pdf, png, **kw)

    monkeypatch.setattr(style, "save", save)
    return figs


def _texts(fig) -> list[str]:
    out = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and callable(a.get_text))]
    return [t for t in out if t]


def _assert_written(tmp_path, name):
    pdf, png = tmp_path / f"{name}.pdf", tmp_path / f"{name}.png"
    assert pdf.stat().st_size > 1000 and pdf.read_bytes()[:4] == b"%PDF"
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------------


def test_cell_summary_and_band():
    runs = pd.DataFrame(
        {
            "cell": ["a"] * 3 + ["b"] * 2,
            "p": [1, 1, 1, 2, 2],
            "xi": [0.5] * 5,
            "plateau": [1.0, 3.0, np.nan, 2.0, 2.0],
            "diverged": [False, False, True, "False", "False"],
            "stationary": [True, False, False, True, True],
        }
    )
    s = common.cell_summary(runs).set_index("cell")
    assert s.loc["a", "plateau_mean"] == 2.0
    assert s.loc["a", "plateau_se"] == pytest.approx(math.sqrt(2.0) / math.sqrt(2))
    assert s.loc["a", "plateau_count"] == 2 and s.loc["a", "n_diverged"] == 1 and s.loc["a", "n_stationary"] == 1
    assert s.loc["b", "n_diverged"] == 0 and s.loc["b", "plateau_min"] == 2.0
    traj = pd.DataFrame({"round": [0, 0, 1, 1], "L": [1.0, 3.0, np.nan, 4.0]})
    b = common.round_band(traj).set_index("round")
    assert b.loc[0, "mean"] == 2.0 and b.loc[1, "mean"] == 4.0 and b.loc[1, "count"] == 1


def test_sci_and_slope():
    assert numbers.sci(3.86e10) == r"$3.9{\times}10^{10}$"
    assert numbers.sci(0.123) == "$0.12$"
    assert numbers.sci(float("nan")) == "NaN"
    m = np.array([250.0, 500, 1000, 2000])
    slope, se = common.loglog_slope(m, 3.0 / m)
    assert slope == pytest.approx(-1.0) and se == pytest.approx(0.0, abs=1e-9)


# ----------------------------------------------------------------------------------------------
# fig_dynamics
# ----------------------------------------------------------------------------------------------


def test_dynamics_render(tmp_path, dynamics_tables, captured):
    runs, traj, trace = dynamics_tables
    assert not trace.empty
    dynamics.draw(runs, traj, trace, tmp_path / "dyn.pdf", tmp_path / "dyn.png")
    _assert_written(tmp_path, "dyn")
    texts = " ".join(_texts(captured[-1]))
    # B1 of each xi < 1 in the legend, B1 = 0 at xi = 1, and the three phases annotated
    for xi in (0.3, 0.5):
        B1 = runs.loc[runs["xi"] == xi, "B1"].iloc[0]
        assert numbers.sci(B1) in texts
    assert "= 0" in texts
    assert "smooth decrease" in texts and "aggregation" in texts and "new masks" in texts


def test_dynamics_survives_divergence_and_missing_trace(tmp_path, dynamics_tables):
    runs, traj, trace = (t.copy() for t in dynamics_tables)
    # seed 0 of xi = 0.3 diverges at round 10; all seeds of xi = 0.5 from round 5
    bad = (traj["cell"] == "xi~0.3") & (traj["seed"] == 0) & (traj["round"] >= 10)
    traj.loc[bad, "L"] = np.nan
    traj.loc[(traj["cell"] == "xi~0.5") & (traj["round"] >= 5), "L"] = np.nan
    trace.loc[(trace["cell"] == "xi~0.5") & (trace["round"] >= 4), "L_surrogate"] = np.nan
    for cell, seeds in (("xi~0.3", [0]), ("xi~0.5", [0, 1, 2])):
        sel = (runs["cell"] == cell) & runs["seed"].isin(seeds)
        runs.loc[sel, ["plateau", "rate_empirical"]] = np.nan
        runs.loc[sel, "diverged"] = True
    dynamics.draw(runs, traj, trace, tmp_path / "d1.pdf", tmp_path / "d1.png")
    _assert_written(tmp_path, "d1")
    # no trace at all (an experiment run without trace: true)
    dynamics.draw(runs, traj, trace.iloc[0:0], tmp_path / "d2.pdf", tmp_path / "d2.png")
    _assert_written(tmp_path, "d2")


# ----------------------------------------------------------------------------------------------
# fig_bound_anatomy
# ----------------------------------------------------------------------------------------------


def test_bound_anatomy_selection_and_ratios(tmp_path, heatmap_runs, captured):
    table = bound_anatomy.draw(heatmap_runs, tmp_path / "ba.pdf", tmp_path / "ba.png")
    _assert_written(tmp_path, "ba")
    # preferred (1, 0.5), (4, 0.5), (4, 0.9) are present, (10, 0.5) is not: the fourth bar is
    # the first automatic candidate not yet chosen, (p_mid, xi_mid) = (2, 0.5) (2 is the
    # geometric mean of p_min = 1 and p_max = 4); never xi = 1 (B1 = 0)
    assert list(zip(table["p"], table["xi"], strict=True)) == [(1, 0.5), (2, 0.5), (4, 0.5), (4, 0.9)]
    expect = common.shown_level(heatmap_runs).groupby("cell").agg(B1=("B1", "first"), plateau=("plateau", "mean"))
    for _, r in table.iterrows():
        want = expect.loc[r["cell"], "B1"] / expect.loc[r["cell"], "plateau"]
        assert r["ratio"] == pytest.approx(want, rel=1e-12)
        assert r["ratio_label"] == r"$B_1/$plateau" + "\n= " + numbers.sci(want)
    texts = _texts(captured[-1])
    for lab in table["ratio_label"]:
        assert lab in texts


def test_bound_anatomy_zero_terms_and_divergence(tmp_path, heatmap_runs, captured):
    runs = heatmap_runs.copy()
    # tau = 1 everywhere: the three local-drift terms are exactly 0
    for t in ("local_drift", "local_drift_step2", "local_drift_step"):
        runs[f"b1_{t}"] = 0.0
    runs["B1"] = runs[[f"b1_{t}" for t in bound_anatomy.B1_TERMS]].sum(axis=1)
    # every seed of (4, 0.5) diverged
    sel = runs["cell"] == "p~4/xi~0.5"
    runs.loc[sel, "plateau"] = np.nan
    runs.loc[sel, "diverged"] = True
    table = bound_anatomy.draw(runs, tmp_path / "bz.pdf", tmp_path / "bz.png")
    _assert_written(tmp_path, "bz")
    texts = _texts(captured[-1])
    legend = [t.get_text() for t in captured[-1].legends[0].get_texts()]
    assert sum("(= 0 here)" in t for t in legend) == 3
    assert "no finite plateau" in texts and "3/3 seeds diverged" in texts
    assert np.isnan(table.set_index("cell").loc["p~4/xi~0.5", "ratio"])


def test_bound_anatomy_automatic_selection():
    cells = pd.DataFrame(
        {
            "cell": [f"c{i}" for i in range(9)],
            "p": [2, 2, 2, 5, 5, 5, 8, 8, 8],
            "xi": [0.2, 0.6, 1.0] * 3,
            "B1": [1.0, 1.0, 0.0] * 3,
        }
    )
    chosen = bound_anatomy.select_cells(cells)
    got = cells.set_index("cell").loc[chosen, ["p", "xi"]].apply(tuple, axis=1).tolist()
    # none preferred: (p_min, xi_mid), (p_mid, xi_mid), (p_max, xi_mid), then (p_mid, xi_high) is
    # taken and (p_mid, xi_low) comes next; p_mid = 5 is nearest sqrt(2 * 8) = 4 in log, xi_mid = 0.6
    assert got == [(5, 0.2), (2, 0.6), (5, 0.6), (8, 0.6)]


# ----------------------------------------------------------------------------------------------
# fig_width
# ----------------------------------------------------------------------------------------------


def test_width_render(tmp_path, width_runs, captured):
    cells = width.draw(width_runs, tmp_path / "w.pdf", tmp_path / "w.png")
    _assert_written(tmp_path, "w")
    assert set(cells["mask"]) == {"bernoulli", "categorical"}
    assert np.isfinite(cells["slope"]).all()
    # the m-terms are exactly c / m
    for _, g in cells.groupby("series"):
        t = g.sort_values("m")
        np.testing.assert_allclose(t["m_term"] * t["m"], t["m_term"].iloc[0] * t["m"].iloc[0], rtol=1e-9)
    texts = " ".join(_texts(captured[-1]))
    assert "theory: slope $-1$" in texts and "fitted slope" in texts


def test_width_survives_divergence(tmp_path, width_runs):
    runs = width_runs.copy()
    sel = runs["cell"].isin(["mask~categorical/m~20"])
    runs.loc[sel, "plateau"] = np.nan
    runs.loc[sel, "diverged"] = True
    runs.loc[(runs["cell"] == "mask~bernoulli/m~40") & (runs["seed"] == 0), ["plateau", "diverged"]] = [np.nan, True]
    width.draw(runs, tmp_path / "w2.pdf", tmp_path / "w2.png")
    _assert_written(tmp_path, "w2")
