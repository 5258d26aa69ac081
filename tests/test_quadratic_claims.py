"""Claims of the quadratic study: each test can pass and can fail (synthetic seed replicates)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    assert claims._trend_row(falling, [20, 40, 80], alpha=0.05, label="")["verdict"] == "reproduced"
    assert claims._trend_row(falling[:, ::-1], [20, 40, 80], alpha=0.05, label="")["verdict"] == "not reproduced"


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
