"""Tests of the grid figures (Bernoulli / categorical heatmaps, local steps, audit), their
Snakemake scripts, and the shared helpers of maskedntk.studies.masked.figures.grids."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import colors as mcolors

from maskedntk.core import figures as style
from maskedntk.core import jobcli, numbers
from maskedntk.studies.masked.__main__ import JOBS, check_settings
from maskedntk.studies.masked.figures import (
    FIGURES,
    audit,
    common,
    grid_data,
    grids,
    heatmap_bernoulli,
    heatmap_categorical,
    local_steps,
    notes,
)

ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------------------------
# synthetic tables with the columns of runs.csv / trajectories.parquet
# ----------------------------------------------------------------------------------------------


def _row(exp, mask, p, xi, tau, seed, *, aggregation="paper", plateau=None, diverged=False, stationary=True):
    theta = 1 - (1 - xi) ** p
    b1 = 0.0 if xi == 1.0 else 1e9 * (1 - xi) * tau**2 / p
    pl = (0.3 * (1 - xi) / p + 1e-3 * seed if xi < 1 else 1e-20) if plateau is None else plateau
    if diverged:
        pl = math.nan
    return dict(
        experiment=exp,
        cell=f"aggregation~{aggregation}/p~{p}/xi~{xi:g}/tau~{tau}",
        mask=mask,
        p=p,
        xi=xi,
        tau=tau,
        m=64,
        n=24,
        d=32,
        rounds=60,
        aggregation=aggregation,
        relu_grad_at_zero=0.0,
        eta_rule="eta = 0.5 / lambda_max(H_inf(xi)) per cell",
        seed=seed,
        plateau=pl,
        stationary=stationary and not diverged,
        diverged=diverged,
        B1=b1 if mask == "bernoulli" else math.nan,
        rate_thm3=1 - 0.01 * theta * tau,
        rate_empirical=math.nan if diverged else 0.8 - 0.02 * p,
        thm7_error=tau * (p - 1) ** 2 * 1e6,
        cor6_order=(1 - xi) ** 2 / 1000 + (theta - xi**2) / p + (tau - 1) ** 2 * theta**2 * (1 - xi) / tau**2,
    )


@pytest.fixture()
def bernoulli_runs():
    rows = [
        _row("heatmap_bernoulli", "bernoulli", p, xi, 5, s)
        for p, xi, s in itertools.product([1, 2, 4], [0.25, 0.5, 1.0], range(3))
    ]
    df = pd.DataFrame(rows)
    # one seed diverged in (p=2, xi=0.25); every seed diverged in (p=4, xi=0.25); one seed of
    # (p=1, xi=0.25) did not settle; the grid point (p=4, xi=0.5) was never run
    sel = (df.p == 2) & (df.xi == 0.25) & (df.seed == 1)
    df.loc[sel, ["plateau", "rate_empirical"]] = math.nan
    df.loc[sel, ["diverged", "stationary"]] = [True, False]
    sel = (df.p == 4) & (df.xi == 0.25)
    df.loc[sel, ["plateau", "rate_empirical"]] = math.nan
    df.loc[sel, ["diverged", "stationary"]] = [True, False]
    df.loc[(df.p == 1) & (df.xi == 0.25) & (df.seed == 2), "stationary"] = False
    return df.loc[~((df.p == 4) & (df.xi == 0.5))].reset_index(drop=True)


@pytest.fixture()
def categorical_runs():
    rows = [
        _row("heatmap_categorical", "categorical", p, 1 / p, tau, s, plateau=0.01 * p * tau + 1e-3 * s)
        for p, tau, s in itertools.product([1, 2, 3], [1, 2, 4], range(2))
    ]
    df = pd.DataFrame(rows)
    df.loc[(df.p == 3) & (df.tau == 4), ["plateau", "diverged", "stationary"]] = [math.nan, True, False]
    return df


@pytest.fixture()
def local_steps_runs():
    rows = [
        _row("local_steps", "bernoulli", p, 0.5, tau, s, plateau=0.1 / p * (1 + 0.1 * tau) + 0.01 * s)
        for p, tau, s in itertools.product([1, 4, 10], [1, 2, 3, 5], range(3))
    ]
    df = pd.DataFrame(rows)
    df.loc[(df.p == 4) & (df.tau == 3) & (df.seed == 0), ["plateau", "diverged", "stationary"]] = [
        math.nan,
        True,
        False,
    ]
    df.loc[(df.p == 10) & (df.tau == 5), ["plateau", "diverged", "stationary"]] = [math.nan, True, False]
    df.loc[(df.p == 1) & (df.tau == 2) & (df.seed == 1), "stationary"] = False
    return df


def _audit_tables():
    runs, traj = [], []
    K, ynorm = 20, 4.5
    for agg, p, xi, s in itertools.product(["paper", "zero_unheld"], [1, 4], [0.1, 0.5], range(2)):
        zero = agg == "zero_unheld"
        dead = np.clip(np.arange(K + 1) * (1 - xi) ** p * 0.3, 0, 1) if zero else np.zeros(K + 1)
        L = np.where(dead >= 1, ynorm, 5.0 * np.exp(-0.3 * np.arange(K + 1)) + 0.1 + 4.4 * dead)
        r = _row("audit", "bernoulli", p, xi, 5, s, aggregation=agg, plateau=float(L[-5:].mean()))
        runs.append(r)
        traj.append(
            pd.DataFrame(dict(experiment="audit", cell=r["cell"], seed=s, round=np.arange(K + 1), L=L, dead=dead))
        )
    return pd.DataFrame(runs), pd.concat(traj, ignore_index=True)


def _assert_written(tmp_path, name):
    pdf, png = tmp_path / f"{name}.pdf", tmp_path / f"{name}.png"
    assert pdf.stat().st_size > 1000 and png.stat().st_size > 1000
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------------------------
# render() of each figure
# ----------------------------------------------------------------------------------------------


def test_render_heatmap_bernoulli(tmp_path, bernoulli_runs):
    heatmap_bernoulli.draw(bernoulli_runs, tmp_path / "hb.pdf", tmp_path / "hb.png")
    _assert_written(tmp_path, "hb")


def test_render_heatmap_bernoulli_csv_roundtrip_and_no_reference(tmp_path, bernoulli_runs):
    # read back from CSV (bools as text); only xi = 1 present: B1 = 0 everywhere, no reference
    path = tmp_path / "runs.csv"
    bernoulli_runs.loc[bernoulli_runs.xi == 1.0].to_csv(path, index=False)
    heatmap_bernoulli.draw(pd.read_csv(path), tmp_path / "hb1.pdf", tmp_path / "hb1.png")
    _assert_written(tmp_path, "hb1")


def test_render_heatmap_categorical(tmp_path, categorical_runs):
    heatmap_categorical.draw(categorical_runs, tmp_path / "hc.pdf", tmp_path / "hc.png")
    _assert_written(tmp_path, "hc")


def test_render_local_steps(tmp_path, local_steps_runs):
    local_steps.draw(local_steps_runs, tmp_path / "ls.pdf", tmp_path / "ls.png")
    _assert_written(tmp_path, "ls")


def test_render_audit(tmp_path):
    runs, traj = _audit_tables()
    audit.draw(runs, traj, tmp_path / "au.pdf", tmp_path / "au.png")
    _assert_written(tmp_path, "au")
    assert audit._norm_y_squared(traj) == pytest.approx(4.5)
    assert audit._norm_y_squared(traj.assign(dead=0.0)) is None


def test_render_from_run_cell(tmp_path):
    """Tables made by the real pipeline (maskedntk.studies.masked.runner.run_cell) render."""
    from maskedntk.studies.masked.cellconfig import load_data
    from maskedntk.studies.masked.runner import run_cell

    data = {"source": "synthetic", "family": "teacher", "n": 10, "d": 6, "seed": 0, "C": 2.0, "teacher_width": 5}
    ds = load_data(data)
    runs, trajs = [], []
    for agg, p, xi in itertools.product(["paper", "zero_unheld"], [1, 2], [0.5, 1.0]):
        train = dict(mask="bernoulli", p=p, xi=xi, tau=2, m=16, rounds=8, aggregation=agg, relu_grad_at_zero=0.0)
        cid = f"aggregation~{agg}/p~{p}/xi~{xi:g}"
        res = run_cell({"experiment": "audit", "data": data, "train": train, "seeds": 2}, ds, cell_id=cid)
        runs.append(res.runs.assign(cell=cid))
        trajs.append(res.trajectories.assign(cell=cid, experiment="audit"))
    runs, trajs = pd.concat(runs, ignore_index=True), pd.concat(trajs, ignore_index=True)
    assert {"plateau", "stationary", "diverged", "B1", "rate_thm3", "rate_empirical"} <= set(runs.columns)
    audit.draw(runs, trajs, tmp_path / "a.pdf", tmp_path / "a.png")
    _assert_written(tmp_path, "a")
    paper = runs.loc[runs.aggregation == "paper"]
    heatmap_bernoulli.draw(paper, tmp_path / "b.pdf", tmp_path / "b.png")
    _assert_written(tmp_path, "b")
    local_steps.draw(paper.loc[paper.xi == 0.5], tmp_path / "c.pdf", tmp_path / "c.png")
    _assert_written(tmp_path, "c")


def _figure_job(tmp_path, figure: str, inputs: dict[str, str]) -> None:
    """Run the figure job as its rule does: python -m maskedntk.studies.masked figure ..."""
    argv = ["figure", "--config", json.dumps({"figure": figure})]
    argv += ["--inputs", *(f"{k}={v}" for k, v in inputs.items())]
    argv += ["--out", f"pdf={tmp_path / 'f.pdf'}", f"png={tmp_path / 'f.png'}", "--log", str(tmp_path / "f.log")]
    jobcli.main("masked", "maskedntk.studies.masked", JOBS, argv, prepare=check_settings)


def test_failed_job_log_ends_with_traceback(tmp_path):
    """A job that fails leaves its reason at the end of its log file."""
    with pytest.raises(FileNotFoundError):
        _figure_job(tmp_path, "fig_local_steps", {"runs": str(tmp_path / "missing.csv")})
    tail = (tmp_path / "f.log").read_text().rstrip().splitlines()
    assert "job masked figure failed" in "\n".join(tail)
    assert tail[-1].startswith("FileNotFoundError") and "missing.csv" in tail[-1]
    assert not (tmp_path / "f.png").exists()


@pytest.mark.parametrize("figure", ["heatmap_bernoulli", "heatmap_categorical", "local_steps", "audit"])
def test_figure_jobs(tmp_path, figure, bernoulli_runs, categorical_runs, local_steps_runs):
    """The figure job reads the tables its command line names and writes the PDF and PNG."""
    runs = {
        "heatmap_bernoulli": bernoulli_runs,
        "heatmap_categorical": categorical_runs,
        "local_steps": local_steps_runs,
    }.get(figure)
    traj = None
    if figure == "audit":
        runs, traj = _audit_tables()
    runs.to_csv(tmp_path / "runs.csv", index=False)
    (traj if traj is not None else pd.DataFrame({"cell": ["x"], "round": [0], "L": [1.0]})).to_parquet(
        tmp_path / "trajectories.parquet"
    )
    files = {"runs": str(tmp_path / "runs.csv"), "trajectories": str(tmp_path / "trajectories.parquet")}
    _figure_job(tmp_path, f"fig_{figure}", {t: files[t] for t in FIGURES[f"fig_{figure}"].tables})
    _assert_written(tmp_path, "f")
    assert "wrote" in (tmp_path / "f.log").read_text()


# ----------------------------------------------------------------------------------------------
# grids: pivoting, flags
# ----------------------------------------------------------------------------------------------


def test_cell_grid_means_finite_seeds_and_orders_axes(bernoulli_runs):
    g = grid_data.cell_grid(bernoulli_runs, "plateau", "p", "xi")
    assert list(g.index) == [1, 2, 4] and list(g.columns) == [0.25, 0.5, 1.0]
    # (p=2, xi=0.25): seed 1 diverged -> mean of seeds 0 and 2 only
    expect = np.mean([0.3 * 0.75 / 2 + 1e-3 * s for s in (0, 2)])
    assert g.loc[2, 0.25] == pytest.approx(expect, rel=1e-12)
    # (p=1, xi=0.5): mean of three seeds
    assert g.loc[1, 0.5] == pytest.approx(np.mean([0.15 + 1e-3 * s for s in range(3)]), rel=1e-12)
    assert math.isnan(g.loc[4, 0.25])  # every seed diverged
    assert math.isnan(g.loc[4, 0.5])  # never run
    # axis values can be fixed to the configured grid
    g2 = grid_data.cell_grid(bernoulli_runs, "plateau", "p", "xi", row_values=[1, 2, 4, 8])
    assert list(g2.index) == [1, 2, 4, 8] and g2.loc[8].isna().all()


def test_cell_grid_float_keys_match_despite_rounding():
    df = pd.DataFrame({"p": [1, 1], "xi": [0.1 + 0.2, 0.3], "v": [1.0, 3.0]})
    g = grid_data.cell_grid(df, "v", "p", "xi")
    assert g.shape == (1, 1) and g.iloc[0, 0] == 2.0


def test_cell_flags(bernoulli_runs):
    f = grid_data.cell_flags(bernoulli_runs, "p", "xi")
    assert f.diverged.loc[2, 0.25] and not f.all_diverged.loc[2, 0.25]
    assert f.diverged.loc[4, 0.25] and f.all_diverged.loc[4, 0.25]
    assert f.unconverged.loc[1, 0.25] and not f.diverged.loc[1, 0.25]
    # a diverged seed is not also counted as "unconverged"
    assert not f.unconverged.loc[4, 0.25] and not f.unconverged.loc[2, 0.25]
    assert f.missing.loc[4, 0.5] and f.missing.to_numpy().sum() == 1
    assert f.diverged.to_numpy().sum() == 2 and f.unconverged.to_numpy().sum() == 1
    assert f.any_diverged and f.any_unconverged and f.any_missing


def test_cell_flags_reads_csv_booleans_and_nan_plateau():
    df = pd.DataFrame(
        {
            "p": [1, 1, 2],
            "xi": [0.5, 0.5, 0.5],
            "plateau": [0.1, np.nan, 0.2],
            "stationary": ["True", "False", "False"],
            "diverged": ["False", "False", "False"],
        }
    )
    f = grid_data.cell_flags(df, "p", "xi")
    assert f.diverged.loc[1, 0.5]  # a NaN plateau counts as diverged even if the flag says no
    assert not f.unconverged.loc[1, 0.5]  # that seed is diverged, the other converged
    assert f.unconverged.loc[2, 0.5] and not f.diverged.loc[2, 0.5]


def test_as_bool():
    s = common.as_bool(pd.Series(["True", "false", "1", None, "FALSE"]))
    assert s.tolist() == [True, False, True, False, False]
    assert common.as_bool(pd.Series([1.0, 0.0, np.nan])).tolist() == [True, False, False]


def test_seed_summary(local_steps_runs):
    s = grid_data.seed_summary(local_steps_runs, "plateau", ["p", "tau"])
    row = s.loc[(s.p == 4) & (s.tau == 3)].iloc[0]
    assert row["count"] == 2 and row["seeds"] == 3 and row["diverged"] == 1
    vals = [0.1 / 4 * 1.3 + 0.01 * k for k in (1, 2)]
    assert row["mean"] == pytest.approx(np.mean(vals)) and row["se"] == pytest.approx(np.std(vals, ddof=1) / np.sqrt(2))
    row = s.loc[(s.p == 10) & (s.tau == 5)].iloc[0]
    assert row["count"] == 0 and math.isnan(row["mean"]) and row["diverged"] == 3
    assert s.loc[(s.p == 1) & (s.tau == 2), "unconverged"].item() == 1


# ----------------------------------------------------------------------------------------------
# grids: normalisation and colour scales
# ----------------------------------------------------------------------------------------------


def test_normalise_and_reference_cell():
    g = pd.DataFrame([[0.0, 2.0, 4.0], [1.0, 8.0, np.nan]], index=[1, 2], columns=[0.5, 0.7, 1.0])
    ref = grid_data.reference_cell([g], (1, 0.5))  # (1, 0.5) is 0: nearest valid is (1, 0.7) / (2, 0.5)
    assert ref in {(1, 0.7), (2, 0.5)}
    n = grid_data.normalise(g, (1, 0.7))
    assert n.loc[1, 0.7] == 1.0 and n.loc[2, 0.7] == 4.0 and n.loc[1, 0.5] == 0.0 and math.isnan(n.loc[2, 1.0])
    with pytest.raises(ValueError):
        grid_data.normalise(g, (1, 0.5))
    # preferred cell valid in every grid -> itself; a second grid can rule a cell out
    h = g.copy()
    h.loc[1, 0.7] = 0.0
    assert grid_data.reference_cell([g], (2, 0.7)) == (2, 0.7)
    assert grid_data.reference_cell([g, h], (1, 0.7)) != (1, 0.7)
    # a preferred value between grid points snaps to the nearest
    assert grid_data.reference_cell([g], (1, 0.66)) == (1, 0.7)
    with pytest.raises(ValueError):
        grid_data.reference_cell([g * 0], (1, 0.5))


def test_zero_log_norm_ignores_zeros_and_caps_decades():
    a = np.array([[0.0, 1e-3, 1e-1], [np.nan, 10.0, 0.0]])
    s = grids.zero_log_norm(a)
    assert s.norm.vmin == pytest.approx(1e-3) and s.norm.vmax == pytest.approx(10.0) and s.extend == "neither"
    s = grids.zero_log_norm(a, max_decades=2)
    assert s.norm.vmin == pytest.approx(0.1) and s.extend == "min"
    # all zero / empty input: a valid norm, no crash
    s = grids.zero_log_norm(np.zeros(3))
    assert 0 < s.norm.vmin < s.norm.vmax
    s = grids.zero_log_norm(np.array([2.0, 2.0]))
    assert s.norm.vmin < 2.0 < s.norm.vmax


def test_ratio_norm_symmetric():
    s = grids.ratio_norm(np.array([0.01, 1.0, 5.0, 0.0, np.nan]))
    assert s.norm.vmin == pytest.approx(1 / s.norm.vmax) and s.norm.vmax == pytest.approx(100.0)
    assert s.extend == "neither"
    s = grids.ratio_norm(np.array([1e-9, 2.0]), max_decades=3)
    assert s.norm.vmax == pytest.approx(1e3) and s.extend == "min"


def test_cell_colors_zero_and_missing():
    cmap = style.sequential_cmap("viridis")
    s = grids.zero_log_norm(np.array([1e-2, 1.0]))
    rgba = grids.cell_colors(np.array([[0.0, np.nan, 1e-2, 1.0, 1e3]]), s.norm, cmap)
    assert np.allclose(rgba[0, 0], mcolors.to_rgba(grids.ZERO_COLOR))
    assert np.allclose(rgba[0, 1], mcolors.to_rgba(grids.MISSING_COLOR))
    assert np.allclose(rgba[0, 2], cmap(0.0)) and np.allclose(rgba[0, 3], cmap(1.0))
    assert np.allclose(rgba[0, 4], cmap(1.0))  # clipped to the top colour


def test_log_ticks():
    ticks, labels = grids.log_ticks(1e-3, 10.0)
    assert ticks == pytest.approx([1e-3, 1e-2, 1e-1, 1.0, 10.0]) and labels[0] == "$10^{-3}$"
    ticks, _ = grids.log_ticks(1e-20, 1e5, max_ticks=6)
    assert len(ticks) <= 7 and 1.0 in ticks
    ticks, labels = grids.log_ticks(0.15, 0.8)
    assert ticks == pytest.approx([0.2, 0.5]) and labels == ["0.2", "0.5"]


@pytest.mark.parametrize(
    "v,s",
    [(0.0, "0"), (0.349, "0.35"), (2.13, "2.1"), (1.0, "1"), (35.2, "35"), (0.031, "3e-2"), (6.2e10, "6e10"),
     (4e-10, "4e-10"), (np.nan, ""), (-0.5, "-0.5"), (0.096, "0.1"), (9.97, "10"), (99.7, "100")],
)  # fmt: skip
def test_fmt_compact(v, s):
    assert numbers.fmt_compact(v) == s


def test_row_major():
    h = list("abcde")
    out = grids.row_major(h, 3)
    # matplotlib fills columns first: column 0 = a, d; column 1 = b, e; column 2 = c, blank
    assert out[:5] == ["a", "d", "b", "e", "c"] and out[5].get_label() == " "


def test_eta_text():
    assert "0.5" in notes.eta_text(pd.DataFrame({"eta_rule": ["eta = 0.5 / lambda_max(H_inf(xi)) per cell"]}))
    assert notes.eta_text(pd.DataFrame({"x": [1]})) == r"step $\eta$ per cell"


def test_ratio_norm_also_only_sets_extension():
    s = grids.ratio_norm(np.array([0.1, 10.0]), also=[np.array([1e-20, 0.0])], max_decades=5)
    assert s.norm.vmax == pytest.approx(10.0) and s.extend == "min"


def test_draw_grid_marks(bernoulli_runs):
    """draw_grid hatches diverged cells, dots unconverged ones, writes 'div' / '0' / '–', boxes the reference."""
    style.apply_style()
    g = grid_data.cell_grid(bernoulli_runs, "B1", "p", "xi")
    g.loc[4, 0.5] = np.nan  # the grid point that was never run
    f = grid_data.cell_flags(bernoulli_runs, "p", "xi")
    fig = style.plt.figure()
    ax = fig.add_subplot()
    s = grids.zero_log_norm(g)
    grids.draw_grid(ax, g, s, style.sequential_cmap("viridis"), flags=f, ref=(1, 0.5))
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 2  # (2, 0.25) and (4, 0.25)
    dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(dots) == 1 and dots[0].get_xdata()[0] == pytest.approx(0 + 0.39)  # (1, 0.25): column 0, row 0
    texts = [t.get_text() for t in ax.texts]
    assert (
        texts.count("div") == 1 and texts.count("–") == 1 and texts.count("0") == 3
    )  # B1 = 0 at xi = 1 for p = 1, 2, 4
    boxed = [p for p in ax.patches if not p.get_hatch() and p.get_linewidth() > 1]
    assert len(boxed) == 1 and boxed[0].get_xy() == (1 - 0.5, 0 - 0.5)
    # rows grow upwards: the first row (p = 1) is at the bottom
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "4"] and ax.get_ylim()[0] < ax.get_ylim()[1]
    style.plt.close(fig)


def test_where_or_all_and_zero_log_norm_also():
    g = pd.DataFrame([[1e-20, 0.1], [1e-19, 1.0]])
    keep = pd.DataFrame([[False, True], [False, True]])
    sub = grid_data.where_or_all(g, keep)
    assert np.isnan(sub.iloc[0, 0]) and sub.iloc[1, 1] == 1.0
    assert grid_data.where_or_all(g, keep & False).equals(g)  # nothing kept: the whole grid
    s = grids.zero_log_norm(sub, also=[g])
    assert s.norm.vmin == pytest.approx(0.1) and s.extend == "min"
