"""Claims of the quadratic study: each test can pass and can fail (synthetic seed replicates)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maskedntk.studies.quadratic import claims, metrics


def _rates_table(exponent: float, n_seeds: int = 6, noise: float = 0.01) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.linspace(0.1, 25, 300)
    rows = []
    for d in (20, 40):
        for s in range(n_seeds):
            p = exponent + noise * rng.standard_normal()
            rows.append(pd.DataFrame({"d": d, "seed": s, "t": t, "loss": 3.0 * t**p, "mu": 0.2}))
    return pd.concat(rows, ignore_index=True)


def _run(test, tables, **kw):
    return test(tables, alpha=0.05, n_boot=200, rng=np.random.default_rng(0), **kw)


def test_rate_over_reproduced_and_not():
    good = _run(claims.t_rate_over, {"rates": {"over": _rates_table(-2.0)}}, tol=0.25, window=[8.0, 25.0])
    bad = _run(claims.t_rate_over, {"rates": {"over": _rates_table(-1.0)}}, tol=0.25, window=[8.0, 25.0])
    assert good["verdict"] == "reproduced" and abs(good["effect"]) < 0.05
    assert bad["verdict"] == "not reproduced" and abs(bad["effect"] - 1.0) < 0.05


def test_rate_equal_reproduced_and_not():
    t = np.linspace(0, 25, 400)
    rows = []
    for s in range(6):
        mu = 0.2 + 0.01 * s
        for d, factor in ((20, 1.0), (40, 1.0)):
            rows.append(pd.DataFrame({"d": d, "seed": s, "t": t, "loss": np.exp(-4 * mu * factor * t), "mu": mu}))
    good = pd.concat(rows, ignore_index=True)
    bad = good.assign(loss=np.exp(-2 * good["mu"] * good["t"]))
    kw = {"tol": 0.1, "window": [1e-12, 1e-3]}
    assert _run(claims.t_rate_equal, {"rates": {"equal": good}}, **kw)["verdict"] == "reproduced"
    assert _run(claims.t_rate_equal, {"rates": {"equal": bad}}, **kw)["verdict"] == "not reproduced"


def test_trend_row_directions():
    rng = np.random.default_rng(1)
    falling = np.array([[1.0, 0.5, 0.25]]) * rng.uniform(0.8, 1.2, size=(8, 3))
    seeds = np.repeat(np.arange(4), 2)  # two blocks (regimes) per seed
    kw = {"alpha": 0.05, "n_boot": 200, "rng": np.random.default_rng(0), "label": ""}
    down = claims._trend_row(falling, seeds, [20, 40, 80], **kw)
    assert down["verdict"] == "reproduced"
    assert claims._trend_row(falling[:, ::-1], seeds, [20, 40, 80], **kw)["verdict"] == "not reproduced"
    # the effect is the median over blocks of the ratio, its interval a bootstrap over the 4 seeds
    ratios = falling[:, -1] / falling[:, 0]
    assert down["effect"] == pytest.approx(np.median(ratios))
    assert ratios.min() <= down["ci_low"] <= down["effect"] <= down["ci_high"] <= ratios.max()


def test_tolerance_rows_are_seed_test_rows():
    """Units (d, seed) clustered by seed: effect = median deviation, n_units and min_p count the units."""
    dev = pd.Series([0.01, 0.02, 0.015, 0.03, 0.012, 0.018], index=pd.MultiIndex.from_product([[20, 40], [0, 1, 2]]))
    dev.index.names = ["d", "seed"]
    row = claims._series_row(dev, 0.1, "x", level="seed", alpha=0.05, n_boot=200, rng=np.random.default_rng(0))
    assert row["effect"] == pytest.approx(np.median(dev)) and row["n_units"] == 6
    assert row["min_p"] == 2.0**-6 and row["verdict"] == "reproduced"
    assert dev.min() <= row["ci_low"] <= row["ci_high"] <= dev.max()


def test_metrics_fits():
    t = np.geomspace(1, 100, 50)
    assert (
        metrics.loglog_slope(t, 5 * t**-2.0, (10, 100)) == np.float64(-2.0)
        or abs(metrics.loglog_slope(t, 5 * t**-2.0, (10, 100)) + 2) < 1e-12
    )
    assert abs(metrics.exp_rate(t, np.exp(-0.3 * t), (1e-12, 1.0)) - 0.3) < 1e-12
    run = pd.DataFrame({"seed": 0, "gamma": [0.0, 1.0, 2.0], "phi": [0.0, 1.0, 2.0]})
    lim = pd.DataFrame({"gamma": [0.0, 2.0], "phi": [0.0, 1.0]})
    assert metrics.sup_distance(run, lim, "phi")[0] == 1.0


def _gaussian_tables(slope_factor: float = 1.0, shrink: float = 0.5) -> dict:
    """Synthetic Gaussian flows: phi = spectral slope * factor * gamma + a seed offset that
    scales like shrink^(level of d) around the own limit phi_inf = -1.68 gamma."""
    rng = np.random.default_rng(2)
    g = np.linspace(0.0, 10.0, 201)
    limit_rows, flows = [], {}
    for regime in ("over", "equal", "under"):
        limit_rows.append(
            pd.DataFrame(
                {
                    "regime": regime,
                    "kind": "flow_gaussian",
                    "alpha": 0.25,
                    "alpha_star": 0.5,
                    "gamma": g,
                    "phi": -1.68 * g,
                    "late_slope": -1.68,
                }
            )
        )
        rows = []
        for i, d in enumerate((20, 40, 80)):
            for s in range(6):
                formula = -1.68 * (1 + 0.05 * rng.standard_normal() * shrink**i)
                off = rng.uniform(0.5, 1.5) * shrink**i
                phi = formula * slope_factor * g + off * np.minimum(g, 1.0)
                rows.append(pd.DataFrame({"d": d, "seed": s, "gamma": g, "phi": phi, "spectral_slope": formula}))
        flows[regime] = pd.concat(rows, ignore_index=True)
    return {"limit": pd.concat(limit_rows, ignore_index=True), "flow_gaussian": flows}


def test_gaussian_late_slope_reproduced_and_not():
    kw = {"tol": 0.02, "window": [6.0, 10.0]}
    good = _run(claims.t_gaussian_late_slope, _gaussian_tables(), **kw)
    assert good["verdict"] == "reproduced" and good["effect"] < 1e-9
    assert "Marchenko-Pastur formula -1.68" in good["note"]
    # the orthonormal slope (-4 at alpha = 1/4, alpha* = 1/2) instead of the spectral one
    bad = _run(claims.t_gaussian_late_slope, _gaussian_tables(slope_factor=4.0 / 1.68), **kw)
    assert bad["verdict"] == "not reproduced" and bad["effect"] == pytest.approx(4.0 / 1.68 - 1, rel=1e-6)


def test_gaussian_own_limit_trend_reproduced_and_not():
    kw = {"quantity": "phi", "gamma_min": 1e-3, "setup": "gaussian"}
    good = _run(claims.t_limit_trend, _gaussian_tables(), **kw)
    assert good["verdict"] == "reproduced" and good["effect"] < 0.5
    bad = _run(claims.t_limit_trend, _gaussian_tables(shrink=2.0), **kw)  # distance grows with d
    assert bad["verdict"] == "not reproduced"
