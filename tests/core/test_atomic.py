"""core.atomic: a write either replaces the target whole or leaves it as it was."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from maskedntk.core.atomic import atomic_path, write_frame, write_json, write_text


def test_failed_write_keeps_the_previous_content_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a tab")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_write_replaces_and_creates_folders(tmp_path):
    target = tmp_path / "a" / "b" / "note.txt"
    write_text(target, "one")
    write_text(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["note.txt"]


def test_written_file_has_the_umask_permissions_not_mkstemp_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "f", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o644


def test_json_converts_numpy_and_sorts_keys(tmp_path):
    write_json(tmp_path / "m.json", {"b": np.float64(0.5), "a": np.arange(3), "c": tmp_path})
    text = (tmp_path / "m.json").read_text()
    assert json.loads(text) == {"a": [0, 1, 2], "b": 0.5, "c": str(tmp_path)}
    assert text.index('"a"') < text.index('"b"')
    with pytest.raises(TypeError, match="cannot write set as JSON"):
        write_json(tmp_path / "bad.json", {"s": {1, 2}})
    assert not (tmp_path / "bad.json").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_frame_round_trips(tmp_path, suffix):
    df = pd.DataFrame({"seed": [0, 1], "loss": [0.25, 1e-30]})
    write_frame(tmp_path / f"t{suffix}", df)
    back = pd.read_csv(tmp_path / f"t{suffix}") if suffix == ".csv" else pd.read_parquet(tmp_path / f"t{suffix}")
    pd.testing.assert_frame_equal(back, df)


def test_frame_refuses_an_unknown_format_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"t\.xlsx.*must be \.csv or \.parquet"):
        write_frame(tmp_path / "t.xlsx", pd.DataFrame({"a": [1]}))
    assert not any(tmp_path.iterdir())
