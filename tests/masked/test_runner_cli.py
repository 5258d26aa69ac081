"""Tests of the step-size rules, the cell config parser, run_cell and the command line."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from runs_columns import RUNS_COLUMNS

from maskedntk.cli import ALL_OPTS, build_parser, cell_from_args, main, option_default
from maskedntk.studies.masked import theory
from maskedntk.studies.masked.cellconfig import load_data, parse_cell
from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import init_params
from maskedntk.studies.masked.metrics import summarize_trajectory
from maskedntk.studies.masked.runner import resolve_cell_eta, run_cell
from maskedntk.studies.masked.spec import TrainSpec
from maskedntk.studies.masked.stepsize import EtaRule, resolve_eta, surrogate_ntk_factor

MASKEDNTK = Path(sys.executable).parent / "maskedntk"


@pytest.fixture(scope="module")
def ds():
    return make_synthetic("teacher", 20, 8, seed=0)


# ----------------------------------------------------------------------------------------------
# step-size rules
# ----------------------------------------------------------------------------------------------


def test_eta_fixed(ds):
    spec = TrainSpec(m=50, xi=0.3, p=2)
    rule = EtaRule("fixed", value=0.1)
    assert resolve_eta(rule, spec, n=20, d_out=1, lambda0=0.01, lambda_max=3.0) == 0.1
    spec2, _, _ = resolve_cell_eta(spec, ds, rule)
    assert spec2.eta == 0.1


@pytest.mark.parametrize("xi,p,scale", [(0.5, 1, 0.5), (0.2, 4, 1.5), (1.0, 1, 1.0)])
def test_eta_lambda_max_paper_convention(ds, xi, p, scale):
    spec = TrainSpec(m=50, xi=xi, p=p)
    assert surrogate_ntk_factor(spec, 20, 1) == pytest.approx(1.0, rel=1e-12)
    lam0, lam_max = theory.ntk_spectrum(ds.X, xi)
    rule = EtaRule("lambda_max", scale=scale)
    eta = resolve_eta(rule, spec, n=20, d_out=1, lambda0=lam0, lambda_max=lam_max)
    assert eta == pytest.approx(scale / lam_max, rel=1e-12)
    # the runner computes the spectrum of H_inf(xi) itself and gets the same eta
    spec2, l0, lmax = resolve_cell_eta(spec, ds, rule)
    assert l0 == pytest.approx(lam0, rel=1e-12) and lmax == pytest.approx(lam_max, rel=1e-12)
    assert spec2.eta == pytest.approx(scale / lam_max, rel=1e-12)


def test_eta_lambda_max_authors_convention():
    # surrogate / xi, mean loss, output 1/sqrt(d_out): factor = m / (n d_out xi^2)
    spec = TrainSpec(m=80, xi=0.4, surrogate="inverse_xi", loss="mean", output_scale="sqrt_dout")
    c = surrogate_ntk_factor(spec, n=25, d_out=10)
    assert c == pytest.approx(80 / (25 * 10 * 0.16), rel=1e-12)
    eta = resolve_eta(EtaRule("lambda_max", scale=0.5), spec, n=25, d_out=10, lambda0=0.1, lambda_max=2.0)
    assert eta == pytest.approx(0.5 / (c * 2.0), rel=1e-12)


@pytest.mark.parametrize("p,tau", [(2, 3), (30, 1)])  # p = 30 > n = 20: max{n, p} = p
def test_eta_theory_bernoulli(ds, p, tau):
    spec = TrainSpec(m=50, xi=0.3, p=p, tau=tau)
    rule = EtaRule("theory", scale=2.0)
    lam0 = theory.lambda_min(theory.ntk_gram(ds.X, 0.3))
    want = 2.0 * lam0 / (max(20, p) * 20 * tau)
    assert resolve_eta(rule, spec, n=20, d_out=1, lambda0=lam0, lambda_max=1.0) == pytest.approx(want, rel=1e-12)
    spec2, l0, _ = resolve_cell_eta(spec, ds, rule)
    assert l0 == pytest.approx(lam0, rel=1e-10)
    assert spec2.eta == pytest.approx(want, rel=1e-10)


def test_eta_theory_categorical(ds):
    spec = TrainSpec(m=50, mask="categorical", xi=None, p=4, tau=2)
    rule = EtaRule("theory", scale=3.0)
    lam0 = theory.lambda_min(theory.ntk_gram(ds.X, 0.25))  # xi = 1/p
    want = 3.0 * lam0 / 20**2
    assert resolve_eta(rule, spec, n=20, d_out=1, lambda0=lam0, lambda_max=1.0) == pytest.approx(want, rel=1e-12)
    spec2, l0, _ = resolve_cell_eta(spec, ds, rule)
    assert l0 == pytest.approx(lam0, rel=1e-10)
    assert spec2.eta == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(rule="adam"), "eta.rule"),
        (dict(rule="fixed"), "eta.value"),
        (dict(rule="fixed", value=-0.1), "eta.value"),
        (dict(rule="fixed", value=float("inf")), "eta.value"),
        (dict(rule="lambda_max", scale=0.0), "eta.scale"),
        (dict(rule="theory", scale=None), "eta.scale"),
    ],
)
def test_eta_rule_rejects_bad_values(kwargs, name):
    with pytest.raises(ValueError, match=re.escape(name)):
        EtaRule(**kwargs)


# ----------------------------------------------------------------------------------------------
# parse_cell
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell,where,bad,allowed_example",
    [
        ({"bogus": 1}, "cell", "bogus", "train"),
        ({"data": {"n": 10, "bogus": 1}}, "data", "bogus", "family"),
        ({"data": {"source": "builtin", "bogus": 1}}, "data", "bogus", "name"),
        ({"train": {"m": 10, "bogus": 1}}, "train", "bogus", "tau"),
        ({"eta": {"rule": "fixed", "value": 0.1, "bogus": 1}}, "eta", "bogus", "scale"),
        ({"metrics": {"fraction": 0.5, "bogus": 1}}, "metrics", "bogus", "authors_window"),
    ],
)
def test_parse_cell_rejects_unknown_keys(cell, where, bad, allowed_example):
    with pytest.raises(ValueError) as err:
        parse_cell(cell)
    msg = str(err.value)
    assert msg.startswith(where), msg
    assert f"unknown key(s) [{bad!r}]" in msg, msg
    assert "allowed" in msg and repr(allowed_example) in msg, msg


def test_parse_cell_categorical_without_xi():
    cell = parse_cell({"train": {"mask": "categorical", "p": 4, "m": 30}, "seeds": [3, 1]})
    assert cell.spec.mask == "categorical" and cell.spec.xi is None
    assert cell.spec.xi_eff == pytest.approx(0.25)
    assert cell.seeds == (3, 1)
    # an xi that is not 1/p is an error naming xi
    with pytest.raises(ValueError, match="xi"):
        parse_cell({"train": {"mask": "categorical", "p": 4, "xi": 0.5}})


def test_parse_cell_defaults_and_bad_values():
    cell = parse_cell({})
    assert cell.seeds == (0, 1, 2, 3, 4)
    assert cell.eta == EtaRule("lambda_max", scale=0.5)
    assert cell.data["family"] == "teacher"
    with pytest.raises(ValueError, match="seeds"):
        parse_cell({"seeds": [1, 1]})
    with pytest.raises(ValueError, match="delta"):
        parse_cell({"delta": 0})
    with pytest.raises(ValueError, match="data.n"):
        parse_cell({"data": {"n": 0}})


# ----------------------------------------------------------------------------------------------
# run_cell
# ----------------------------------------------------------------------------------------------

TINY = {
    "experiment": "tiny",
    "data": {"source": "synthetic", "family": "teacher", "n": 20, "d": 8, "seed": 0},
    "train": {"mask": "bernoulli", "xi": 0.5, "p": 2, "tau": 2, "m": 50, "rounds": 30},
    "eta": {"rule": "lambda_max", "scale": 0.5},
    "seeds": [0, 1],
}


@pytest.fixture(scope="module")
def tiny_result():
    cell = parse_cell(TINY)
    ds = load_data(cell.data)
    return cell, ds, run_cell(cell, ds, cell_id="c0")


def test_run_cell_runs_table(tiny_result):
    cell, ds, res = tiny_result
    runs = res.runs
    assert isinstance(runs, pd.DataFrame)
    assert len(runs) == 2 and list(runs["seed"]) == [0, 1]
    missing = [c for c in RUNS_COLUMNS if c not in runs.columns]
    assert not missing, missing
    r = runs.iloc[0]
    assert r["experiment"] == "tiny" and r["mask"] == "bernoulli"
    assert (r["xi"], r["p"], r["tau"], r["m"], r["n"], r["d"], r["rounds"]) == (0.5, 2, 2, 50, 20, 8, 30)
    assert r["kappa"] == 1.0
    lam0, lam_max = theory.ntk_spectrum(ds.X, 0.5)
    assert r["lambda0"] == pytest.approx(lam0, rel=1e-12)
    assert r["eta"] == pytest.approx(0.5 / lam_max, rel=1e-12)
    assert r["theta"] == pytest.approx(0.75, rel=1e-15)
    assert r["rate_theory"] == pytest.approx(theory.rate_factor_thm3(r["eta"], 0.75, 2, lam0), rel=1e-12)
    B1 = theory.b1(n=20, d=8, m=50, xi=0.5, p=2, tau=2, eta=r["eta"], kappa=1.0, lambda0=lam0)
    assert r["B1"] == pytest.approx(B1, rel=1e-12)
    assert not runs["diverged"].any()
    assert runs["diverged"].dtype == bool


def test_run_cell_measurements_consistent(tiny_result):
    cell, ds, res = tiny_result
    runs, traj = res.runs, res.trajectories
    for _, r in runs.iterrows():
        L = traj.loc[traj["seed"] == r["seed"]].sort_values("round")["L"].to_numpy()
        s = summarize_trajectory(L, cell.metrics, rounds=cell.spec.rounds)
        assert r["L0"] == L[0] and r["final"] == L[-1]
        assert r["stationary"] == s["stationary"]
        assert r["window_mean"] == pytest.approx(s["window_mean"], rel=1e-15)
        assert r["error_after_K"] == pytest.approx(s["error_after_K"], rel=1e-15)
        if s["stationary"]:
            assert r["plateau"] == pytest.approx(s["plateau"], rel=1e-15)
        # L_0 = ||y - xi f(W_0, X)||^2 with the run's own initialisation (seed stream of engine)
        W0, a = init_params(cell.spec, int(r["seed"]), ds.d, ds.n_outputs)
        f0 = np.maximum(ds.X @ W0.T, 0.0) @ a / math.sqrt(50)
        assert r["L0"] == pytest.approx(float(np.sum((ds.y - 0.5 * f0) ** 2)), rel=1e-10)
        # training helps: the level reached is below the starting error
        assert r["window_mean"] < r["L0"]
    # different seeds, different runs
    assert runs["L0"].iloc[0] != runs["L0"].iloc[1]


def test_run_cell_trajectories_and_provenance(tiny_result):
    cell, ds, res = tiny_result
    traj = res.trajectories
    assert {"experiment", "cell", "seed", "round", "L"} <= set(traj.columns)
    assert len(traj) == 2 * 31
    for seed in (0, 1):
        rounds = traj.loc[traj["seed"] == seed, "round"].to_numpy()
        np.testing.assert_array_equal(np.sort(rounds), np.arange(31))
    assert (traj["experiment"] == "tiny").all() and (traj["cell"] == "c0").all()
    assert np.all(np.isfinite(traj["L"]))
    assert res.trace is None or len(res.trace) == 0  # no trace asked for
    prov = res.provenance
    assert {"config", "versions", "git_commit"} <= set(prov)
    assert prov["config"]["cell"]["train"]["m"] == 50
    assert prov["config"]["cell"]["seeds"] == [0, 1]
    assert "numpy" in prov["versions"] and "torch" in prov["versions"]
    assert isinstance(prov["git_commit"], str) and prov["git_commit"]
    json.dumps(prov)  # serialisable as is


def test_run_cell_accepts_dict_and_is_reproducible(tiny_result):
    """Seed 1 alone gives its numbers of the two-seed run to float64 rounding (seeds are
    batched: the matrix sizes, so the summation order, change), and a rerun gives them bit
    for bit."""
    _, ds, res = tiny_result
    again = run_cell(dict(TINY, seeds=[1]), ds, cell_id="c0")
    L1 = res.trajectories.loc[res.trajectories["seed"] == 1, "L"].to_numpy()
    np.testing.assert_allclose(again.trajectories["L"].to_numpy(), L1, rtol=1e-12)
    twice = run_cell(dict(TINY, seeds=[1]), ds, cell_id="c0")
    np.testing.assert_array_equal(twice.trajectories["L"].to_numpy(), again.trajectories["L"].to_numpy())


# ----------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------

TINY_ARGS = ["run", "--n", "20", "--d", "8", "--m", "50", "--rounds", "20", "--seeds", "0-1", "--quiet"]


def test_cli_run_writes_outputs(tmp_path, capsys):
    out = tmp_path / "res"
    rc = main([*TINY_ARGS, "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    lines = captured.out.splitlines()
    assert any(line.startswith("plateau") for line in lines), captured.out
    header = next(line for line in lines if "seed" in line and "plateau" in line)
    assert "L0" in header and "stationary" in header and "error_after_K" in header
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["seed"]) == [0, 1]
    assert (runs["rounds"] == 20).all() and (runs["n"] == 20).all() and (runs["m"] == 50).all()
    traj = pd.read_parquet(out / "trajectories.parquet")
    assert len(traj) == 2 * 21
    prov = json.loads((out / "provenance.json").read_text())
    assert {"config", "versions", "git_commit"} <= set(prov)
    assert prov["config"]["cell"]["seeds"] == [0, 1]
    # the printed plateau is the mean over seeds of runs.csv
    m = re.search(r"^plateau .*?: ([0-9.eE+-]+|nan) \+-", captured.out, flags=re.M)
    assert m, captured.out
    if runs["plateau"].notna().any():
        assert float(m.group(1)) == pytest.approx(runs["plateau"].mean(), rel=1e-3)
    else:  # no seed stationary after these few rounds: no error neighbourhood is printed
        assert m.group(1) == "nan"


def test_cli_run_subprocess_exit_codes(tmp_path):
    ok = subprocess.run(
        [str(MASKEDNTK), *TINY_ARGS, "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "o" / "runs.csv").exists()
    bad = subprocess.run([str(MASKEDNTK), *TINY_ARGS, "--xi", "1.5"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "xi" in bad.stderr and "1.5" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    "flag,value,name",
    [("--xi", "1.5", "xi"), ("--p", "0", "p"), ("--tau", "0", "tau"), ("--eta-scale", "-1", "eta.scale")],
)
def test_cli_bad_values_exit_2(capsys, tmp_path, flag, value, name):
    rc = main([*TINY_ARGS, flag, value, "--out", str(tmp_path / "x")])
    captured = capsys.readouterr()
    assert rc == 2
    assert re.search(rf"\b{re.escape(name)} = ", captured.err), captured.err
    assert "error" in captured.err
    assert not (tmp_path / "x").exists()


def _help_text(capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exc:
        main(["run", "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def _option_help(text: str, flag: str) -> str:
    """The help of ``flag``: from the line that introduces it to the next option line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s+{re.escape(flag)}\b", line))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if re.match(r"\s+--?\w", line):
            break
        block.append(line)
    return " ".join(" ".join(block).split())


def test_cli_help_lists_defaults_and_allowed(capsys, monkeypatch):
    text = _help_text(capsys, monkeypatch)
    for flag, *_ in ALL_OPTS:
        h = _option_help(text, flag)
        assert "(default:" in h and "allowed:" in h, (flag, h)
    assert "default: 0.5 for Bernoulli masks, 1/p for categorical; allowed: (0, 1]" in _option_help(text, "--xi")
    assert "allowed: integer >= 1" in _option_help(text, "--p")
    assert "allowed: integer >= 1" in _option_help(text, "--tau")
    assert "allowed: fixed, lambda_max, theory" in _option_help(text, "--eta-rule")
    assert "(default:" in _option_help(text, "--rounds")


def _documented_default(flag):
    for f, block, key, *_ in ALL_OPTS:
        if f == flag:
            return option_default(block, key)
    raise KeyError(flag)


def test_cli_documented_defaults_are_the_effective_ones():
    """Every '(default: X)' in ``maskedntk run --help`` must be what a run without the option uses."""
    cell = parse_cell(cell_from_args(build_parser().parse_args(["run"])))
    wrong = []
    for flag, block, key, *_ in ALL_OPTS:
        default = option_default(block, key)
        if (block, key) == ("train", "xi"):
            assert cell.spec.xi == 0.5 and default.startswith("0.5 for Bernoulli")
            continue
        if block == "data":
            if key not in cell.data:  # options of other data sources (builtin, file)
                continue
            actual = cell.data[key]
        elif block == "train":
            actual = cell.train.get("preset") if key == "preset" else getattr(cell.spec, key)
        elif block == "eta":
            actual = getattr(cell.eta, key)
        else:
            actual = getattr(cell.metrics, key)
        if actual != default:
            wrong.append(f"{flag}: help says {default!r}, a run uses {actual!r}")
    assert not wrong, "; ".join(wrong)
    assert _documented_default("--n") == cell.data["n"]


def test_parse_cell_ignores_keys_of_another_data_source():
    """A config can switch data.source on top of defaults written for another source."""
    parsed = parse_cell({"data": {"source": "builtin", "family": "teacher", "d": 128}, "seeds": 1})
    assert parsed.data == {"source": "builtin", "C": 2.0, "name": "diabetes", "n": None}


def test_cli_claims_reads_a_tables_folder(tmp_path, capsys):
    """`maskedntk claims DIR` tests the claims on a run's tables and prints the Markdown."""
    rc = main(["claims", str(tmp_path)])
    assert rc == 2 and "no experiment folder" in capsys.readouterr().err
    out = tmp_path / "heatmap_bernoulli"
    main([*TINY_ARGS, "--out", str(out)])
    capsys.readouterr()
    import pandas as pd

    pd.read_parquet(out / "trajectories.parquet").iloc[0:0].assign(step=0, L_surrogate=0.0).to_parquet(
        out / "trace.parquet"
    )
    assert main(["claims", str(tmp_path), "--boot", "100"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# The paper's claims, tested") and "`xi_lowers_error`" in text
    assert "not run" in text  # the experiments this folder lacks
