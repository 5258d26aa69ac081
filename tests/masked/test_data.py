"""Tests of maskedntk.studies.masked.data: synthetic sets, user files, the built-in set, and the data checks."""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest

from maskedntk.studies.masked import data
from maskedntk.studies.masked.data import (
    Dataset,
    check_dataset,
    load_builtin,
    load_npz,
    load_user_data,
    make_synthetic,
    save_npz,
)


@pytest.mark.parametrize("family", data.FAMILIES)
@pytest.mark.parametrize("C", [2.0, 3.0])
def test_make_synthetic_meets_assumptions(family, C):
    n, d = 60, 7
    ds = make_synthetic(family, n, d, seed=3, C=C)
    assert isinstance(ds, Dataset)
    assert ds.X.shape == (n, d) and ds.y.shape == (n, 1)
    assert ds.n == n and ds.d == d and ds.n_outputs == 1
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(ds.X, axis=1), 1.0, rtol=0, atol=1e-12)
    assert abs(ds.y.mean()) < 1e-12
    assert abs(np.abs(ds.y).max() - (C - 1.0)) < 1e-12
    assert ds.meta["family"] == family and ds.meta["n"] == n and ds.meta["d"] == d
    assert ds.meta["C"] == C and ds.meta["seed"] == 3
    # labels are not degenerate (some spread, not all +-max)
    assert np.std(ds.y) > 0.05 * (C - 1)
    # no two rows parallel
    cos = ds.X @ ds.X.T
    np.fill_diagonal(cos, 0)
    assert cos.max() < 1 - 1e-10


@pytest.mark.parametrize("family", data.FAMILIES)
def test_make_synthetic_deterministic_per_seed(family):
    a = make_synthetic(family, 30, 5, seed=11)
    b = make_synthetic(family, 30, 5, seed=11)
    c = make_synthetic(family, 30, 5, seed=12)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.meta == b.meta
    assert not np.array_equal(a.X, c.X)
    assert not np.array_equal(a.y, c.y)


@pytest.mark.parametrize("family", data.FAMILIES)
def test_make_synthetic_multi_output(family):
    ds = make_synthetic(family, 40, 6, seed=0, C=3.0, n_outputs=3)
    assert ds.y.shape == (40, 3) and ds.n_outputs == 3
    np.testing.assert_allclose(ds.y.mean(axis=0), 0.0, atol=1e-12)  # every column centred
    assert abs(np.abs(ds.y).max() - 2.0) < 1e-12
    # the columns are different labels, not copies
    assert not np.allclose(ds.y[:, 0], ds.y[:, 1])


def test_make_synthetic_rejects_bad_arguments():
    with pytest.raises(ValueError, match="family"):
        make_synthetic("gaussian", 10, 3, 0)
    with pytest.raises(ValueError, match="C"):
        make_synthetic("teacher", 10, 3, 0, C=1.0)
    with pytest.raises(ValueError, match="n_outputs"):
        make_synthetic("teacher", 10, 3, 0, n_outputs=0)


def test_save_load_npz_round_trip(tmp_path):
    ds = make_synthetic("smooth", 25, 4, seed=5, C=3.0, n_outputs=2)
    path = tmp_path / "sub" / "ds.npz"
    save_npz(ds, path)
    back = load_npz(path)
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.y, ds.y)
    for key in ("family", "n", "d", "seed", "C", "n_outputs"):
        assert back.meta[key] == ds.meta[key], key
    assert back.meta == ds.meta
    # no temporary file left beside it
    assert sorted(p.name for p in path.parent.iterdir()) == ["ds.npz"]


def _raw_data(seed=0, n=12, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * 5.0 + 0.5  # norms far from 1
    y = rng.standard_normal(n) * 7.0 + 2.0
    return X, y


def test_load_user_data_npz(tmp_path):
    X, y = _raw_data()
    path = tmp_path / "raw.npz"
    np.savez(path, X=X, y=y)
    ds = load_user_data(path, C=2.0)
    np.testing.assert_allclose(np.linalg.norm(ds.X, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(ds.X, X / np.linalg.norm(X, axis=1, keepdims=True), rtol=1e-14)
    assert ds.y.shape == (12, 1)
    assert abs(np.abs(ds.y).max() - 1.0) < 1e-12
    # not centred by default: y is a positive multiple of the raw labels
    np.testing.assert_allclose(ds.y[:, 0], y / np.abs(y).max(), rtol=1e-13)
    changes = " | ".join(ds.meta["changes"])
    assert "unit norm" in changes
    assert "scaled" in changes and "labels" in changes
    assert ds.meta["source"] == "user" and ds.meta["n"] == 12 and ds.meta["d"] == 4


def test_load_user_data_center(tmp_path):
    X, y = _raw_data(1)
    path = tmp_path / "raw.npz"
    np.savez(path, X=X, y=y)
    ds = load_user_data(path, C=3.0, center=True)
    assert abs(ds.y.mean()) < 1e-12
    assert abs(np.abs(ds.y).max() - 2.0) < 1e-12
    assert any("centred" in c for c in ds.meta["changes"])


def test_load_user_data_already_normalised_reports_nothing(tmp_path):
    ds0 = make_synthetic("teacher", 20, 5, seed=0)  # unit rows, max|y| = 1
    path = tmp_path / "clean.npz"
    np.savez(path, X=ds0.X, y=ds0.y)
    ds = load_user_data(path, C=2.0)
    assert ds.meta["changes"] == []
    np.testing.assert_array_equal(ds.X, ds0.X)
    np.testing.assert_allclose(ds.y, ds0.y, rtol=1e-15)


def test_load_user_data_csv_default_last_column(tmp_path):
    X, y = _raw_data(2)
    df = pd.DataFrame(X, columns=["a", "b", "c", "e"])
    df["target"] = y
    path = tmp_path / "raw.csv"
    df.to_csv(path, index=False)
    ds = load_user_data(path)
    assert ds.X.shape == (12, 4) and ds.y.shape == (12, 1)
    np.testing.assert_allclose(ds.X, X / np.linalg.norm(X, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(ds.y[:, 0], y / np.abs(y).max(), rtol=1e-12)
    changes = " | ".join(ds.meta["changes"])
    assert "unit norm" in changes and "scaled" in changes


def test_load_user_data_csv_label_columns(tmp_path):
    X, y = _raw_data(3, d=5)
    df = pd.DataFrame(X, columns=list("abcde"))
    path = tmp_path / "raw.csv"
    df.to_csv(path, index=False)
    ds = load_user_data(path, label_columns=["b"])
    assert ds.X.shape == (12, 4) and ds.y.shape == (12, 1)
    Xf = X[:, [0, 2, 3, 4]]
    np.testing.assert_allclose(ds.X, Xf / np.linalg.norm(Xf, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(ds.y[:, 0], X[:, 1] / np.abs(X[:, 1]).max(), rtol=1e-12)
    two = load_user_data(path, label_columns=["a", "e"], C=3.0)
    assert two.X.shape == (12, 3) and two.y.shape == (12, 2)
    assert abs(np.abs(two.y).max() - 2.0) < 1e-12
    with pytest.raises(ValueError, match="zz"):
        load_user_data(path, label_columns=["zz"])


def test_load_user_data_csv_non_numeric_column(tmp_path):
    X, y = _raw_data(4, d=3)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["colour"] = ["red", "blue"] * 6
    df["y"] = y
    path = tmp_path / "raw.csv"
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match="colour"):
        load_user_data(path)


def test_load_user_data_bad_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_user_data(tmp_path / "nope.npz")
    p = tmp_path / "data.txt"
    p.write_text("1,2\n")
    with pytest.raises(ValueError, match="npz or .csv"):
        load_user_data(p)
    q = tmp_path / "noy.npz"
    np.savez(q, X=np.eye(3))
    with pytest.raises(ValueError, match="'y'"):
        load_user_data(q)


# ----------------------------------------------------------------------------------------------
# bad data
# ----------------------------------------------------------------------------------------------


def test_parallel_rows_rejected(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 4))
    X[4] = 3.0 * X[1]
    y = rng.standard_normal(6)
    with pytest.raises(ValueError, match="parallel") as err:
        check_dataset(X, y)
    assert "lambda0" in str(err.value)
    assert "1" in str(err.value) and "4" in str(err.value)  # names the rows
    path = tmp_path / "par.npz"
    np.savez(path, X=X, y=y)
    with pytest.raises(ValueError, match="parallel"):
        load_user_data(path)


def test_antiparallel_rows_allowed():
    # x and -x are not parallel in the theory's sense: H_inf stays positive definite
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3))
    X[3] = -2.0 * X[0]
    Xc, _ = check_dataset(X, rng.standard_normal(5))
    assert Xc.shape == (5, 3)


def test_nan_rejected_with_position():
    X = np.ones((4, 3)) + np.eye(4, 3)
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN|finite") as err:
        check_dataset(X, np.arange(4.0))
    assert "X[2, 1]" in str(err.value)
    X = np.eye(4, 3) + 0.1
    y = np.arange(4.0)
    y[3] = np.inf
    with pytest.raises(ValueError, match=r"NaN|finite") as err:
        check_dataset(X, y)
    assert "y[3, 0]" in str(err.value)


def test_mismatched_shapes_rejected():
    with pytest.raises(ValueError, match="shape"):
        check_dataset(np.eye(4), np.arange(5.0))
    with pytest.raises(ValueError, match="shape"):
        check_dataset(np.arange(4.0), np.arange(4.0))  # X must be 2-d


def test_zero_row_rejected():
    X = np.eye(4)
    X[2] = 0.0
    with pytest.raises(ValueError, match="zero") as err:
        check_dataset(X, np.arange(4.0))
    assert "2" in str(err.value)


def test_constant_labels_rejected(tmp_path):
    path = tmp_path / "const.npz"
    np.savez(path, X=np.eye(3) + 0.1, y=np.ones(3))
    with pytest.raises(ValueError, match="constant"):
        load_user_data(path, center=True)


# ----------------------------------------------------------------------------------------------
# built-in data
# ----------------------------------------------------------------------------------------------


def test_load_builtin_diabetes_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("load_builtin tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    ds = load_builtin("diabetes")
    assert ds.n == 442 and ds.d == 10 and ds.y.shape == (442, 1)
    np.testing.assert_allclose(np.linalg.norm(ds.X, axis=1), 1.0, atol=1e-12)
    assert abs(np.abs(ds.y).max() - 1.0) < 1e-12
    assert ds.y.min() > 0  # not centred: disease progression is positive
    assert ds.meta["source"] == "builtin" and ds.meta["name"] == "diabetes"
    assert any("unit norm" in c for c in ds.meta["changes"])
    sub = load_builtin("diabetes", n=50, C=3.0)
    assert sub.n == 50
    np.testing.assert_allclose(sub.X, ds.X[:50], rtol=1e-15)
    assert abs(np.abs(sub.y).max() - 2.0) < 1e-12
    with pytest.raises(ValueError, match="dataset"):
        load_builtin("boston")
    with pytest.raises(ValueError, match="n"):
        load_builtin("diabetes", n=1000)
