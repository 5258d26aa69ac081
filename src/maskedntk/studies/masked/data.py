"""Regression data that meets the assumptions of the theory (docs/masked/mathematics.md sec. 1).

The theorems need ||x_i||_2 = 1, |y_i| <= C - 1 and no two x_i parallel (so lambda0 > 0).
Synthetic sets draw x_i uniformly on the unit sphere of R^d; user data and the built-in real
set are normalised to that form, and every change made is reported in ``meta['changes']``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from maskedntk.core.atomic import atomic_path
from maskedntk.core.validate import check_choice, check_float, check_int

from .rng import data_generator

FAMILIES = ("teacher", "random", "smooth")
BUILTIN = ("diabetes", "digits")
#: cosine above which two rows count as parallel (lambda0 would be 0 up to rounding)
PARALLEL_COS = 1.0 - 1e-10


@dataclass
class Dataset:
    """X (n x d, unit rows), y (n x d_out) and a JSON-serialisable ``meta`` dict."""

    X: np.ndarray
    y: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.y.shape[1]


def check_dataset(X, y) -> tuple[np.ndarray, np.ndarray]:
    """Validate shapes and finiteness and the no-parallel-rows assumption; return float64 copies.

    y may be a vector (n,) or a matrix (n, d_out); it is returned as (n, d_out).
    Raises ValueError naming what is wrong.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X has shape {X.shape}: must be a 2-d array (n x d) with n, d >= 1")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != X.shape[0] or y.shape[1] < 1:
        raise ValueError(
            f"y has shape {y.shape}: must have one row per row of X, i.e. ({X.shape[0]},) or ({X.shape[0]}, d_out)"
        )
    for name, arr in (("X", X), ("y", y)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"{name}[{i}, {j}] = {arr[i, j]}: all entries must be finite (no NaN or inf)")
    norms = np.linalg.norm(X, axis=1)
    if np.any(norms == 0):
        raise ValueError(f"X row {int(np.argmin(norms))} is zero: every x_i needs a direction (||x_i|| > 0)")
    U = X / norms[:, None]
    cos = U @ U.T
    np.fill_diagonal(cos, -np.inf)
    i, j = np.unravel_index(np.argmax(cos), cos.shape)
    if X.shape[0] > 1 and cos[i, j] > PARALLEL_COS:
        raise ValueError(
            f"X rows {min(i, j)} and {max(i, j)} are parallel (cosine {cos[i, j]:.12f}): the theory "
            "needs no two x_i parallel, otherwise lambda0 = 0"
        )
    return X, y


def scale_labels(y: np.ndarray, C: float, center: bool) -> tuple[np.ndarray, float, np.ndarray]:
    """Centre (optionally) and scale y so that max|y_i| = C - 1.

    Returns (scaled y, the factor applied, the offset subtracted).
    """
    C = check_float("C", C, 1.0, lo_open=True)
    offset = y.mean(axis=0) if center else np.zeros(y.shape[1])
    yc = y - offset
    peak = np.abs(yc).max()
    if peak == 0:
        raise ValueError("y is constant: labels need some variation to be scaled to max|y| = C - 1")
    factor = (C - 1.0) / peak
    return yc * factor, float(factor), offset


def unit_sphere(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """n points uniform on the unit sphere of R^d (normalised Gaussians)."""
    g = rng.standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def make_synthetic(
    family: str,
    n: int,
    d: int,
    seed: int,
    C: float = 2.0,
    *,
    teacher_width: int = 50,
    n_outputs: int = 1,
) -> Dataset:
    """A synthetic regression set: x_i uniform on the unit sphere of R^d and labels of a family.

    Families
    --------
    teacher : y = (1/sqrt(m_t)) sum_s b_s relu(<v_s, x>), a random one-hidden-layer ReLU
        teacher of width m_t = ``teacher_width`` (v_s ~ N(0, I_d), b_s uniform on {-1, +1}).
    random : y_i i.i.d. uniform on [-1, 1] (pure memorisation).
    smooth : y = sin(3 <u, x>) + cos(2 <v, x>) for random unit vectors u, v.

    Labels are centred and scaled so that max|y_i| = C - 1 (C > 1; default 2, so max|y| = 1).
    Everything is drawn from the data generator of ``seed``.
    """
    check_choice("family", family, FAMILIES)
    n = check_int("n", n, 1)
    d = check_int("d", d, 2)
    n_outputs = check_int("n_outputs", n_outputs, 1)
    teacher_width = check_int("teacher_width", teacher_width, 1)
    rng = data_generator(seed)
    X = unit_sphere(rng, n, d)
    if family == "teacher":
        V = rng.standard_normal((teacher_width, d))
        b = rng.choice([-1.0, 1.0], size=(teacher_width, n_outputs))
        y = np.maximum(X @ V.T, 0.0) @ b / np.sqrt(teacher_width)
    elif family == "random":
        y = rng.uniform(-1.0, 1.0, size=(n, n_outputs))
    else:
        U = unit_sphere(rng, 2 * n_outputs, d)
        y = np.sin(3.0 * X @ U[:n_outputs].T) + np.cos(2.0 * X @ U[n_outputs:].T)
    X, y = check_dataset(X, y)
    y, factor, _ = scale_labels(y, C, center=True)
    meta = {
        "source": "synthetic",
        "family": family,
        "n": n,
        "d": d,
        "seed": int(seed),
        "C": float(C),
        "n_outputs": n_outputs,
        "teacher_width": teacher_width if family == "teacher" else None,
        "changes": [f"labels centred and scaled by {factor:.6g} to max|y| = {C - 1:g}"],
    }
    return Dataset(X, y, meta)


def _normalise(X: np.ndarray, y: np.ndarray, C: float, center: bool, changes: list[str]) -> tuple:
    X, y = check_dataset(X, y)
    norms = np.linalg.norm(X, axis=1)
    off = np.abs(norms - 1.0) > 1e-12
    if off.any():
        changes.append(
            f"{int(off.sum())} of {len(norms)} rows scaled to unit norm (norms were "
            f"{norms.min():.4g} .. {norms.max():.4g})"
        )
        X = X / norms[:, None]
    y, factor, offset = scale_labels(y, C, center)
    if center:
        changes.append(f"labels centred (subtracted mean {np.round(offset, 6).tolist()})")
    if abs(factor - 1.0) > 1e-12:
        changes.append(f"labels scaled by {factor:.6g} to max|y| = {C - 1:g}")
    return X, y


def load_user_data(path, *, label_columns=None, C: float = 2.0, center: bool = False) -> Dataset:
    """Load a user's data set from ``.npz`` (arrays ``X`` and ``y``) or ``.csv``.

    For CSV, ``label_columns`` names the label column(s) (default: the last column); every
    other column is a feature.  Rows are scaled to unit norm and labels to max|y| = C - 1
    (centred first if ``center``); ``meta['changes']`` lists what was changed.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"data file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            missing = {"X", "y"} - set(z.files)
            if missing:
                raise ValueError(f"{path}: .npz data needs arrays 'X' and 'y'; missing {sorted(missing)}")
            X, y = z["X"], z["y"]
    elif suffix == ".csv":
        import pandas as pd

        df = pd.read_csv(path)
        cols = [df.columns[-1]] if label_columns is None else list(np.atleast_1d(label_columns))
        unknown = [c for c in cols if c not in df.columns]
        if unknown:
            raise ValueError(f"label_columns = {unknown}: not columns of {path}; columns are {list(df.columns)}")
        nonnum = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
        if nonnum:
            raise ValueError(f"{path}: columns {nonnum} are not numeric; all features and labels must be numbers")
        X = df.drop(columns=cols).to_numpy(np.float64)
        y = df[cols].to_numpy(np.float64)
    else:
        raise ValueError(f"data file {str(path)!r}: format must be .npz or .csv")
    changes: list[str] = []
    X, y = _normalise(np.asarray(X, np.float64), np.asarray(y, np.float64), C, center, changes)
    meta = {
        "source": "user",
        "path": str(path),
        "n": X.shape[0],
        "d": X.shape[1],
        "C": float(C),
        "n_outputs": y.shape[1],
        "changes": changes,
    }
    return Dataset(X, y, meta)


def load_builtin(name: str, C: float = 2.0, n: int | None = None) -> Dataset:
    """A real data set that ships inside an installed package (nothing is downloaded).

    ``diabetes``: scikit-learn's diabetes data (n = 442, d = 10), preprocessed as the paper
    does: rows scaled to unit norm, labels (disease progression, all positive) scaled to
    max|y| = C - 1 without centring.
    ``digits``: scikit-learn's handwritten digits (n = 1797 8x8 images, d = 64, 10 classes),
    the shape of the paper's TMLR set-up (10 one-hot outputs): rows (pixel intensities) scaled
    to unit norm, labels one-hot (d_out = 10) scaled to max|y| = C - 1, not centred.
    ``n`` keeps the first n rows (the digits cycle through the classes, so any n >= 10 holds
    every class).
    """
    check_choice("dataset", name, BUILTIN)
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
    else:
        from sklearn.datasets import load_digits

        X, labels = load_digits(return_X_y=True)
        y = np.eye(10)[labels]
    if n is not None:
        n = check_int("n", n, 1, X.shape[0])
        X, y = X[:n], y[:n]
    changes: list[str] = []
    X, y = _normalise(X, y, C, False, changes)
    if name == "digits":
        changes.insert(0, "labels one-hot encoded (10 classes)")
    meta = {
        "source": "builtin",
        "name": name,
        "n": X.shape[0],
        "d": X.shape[1],
        "C": float(C),
        "n_outputs": y.shape[1],
        "changes": changes,
    }
    return Dataset(X, y, meta)


def save_npz(ds: Dataset, path) -> None:
    """Write X, y and the metadata (as JSON) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, X=ds.X, y=ds.y, meta=np.array(json.dumps(ds.meta)))


def load_npz(path) -> Dataset:
    """Read a data set written by :func:`save_npz` (validated again on load)."""
    with np.load(path, allow_pickle=False) as z:
        X, y = check_dataset(z["X"], z["y"])
        meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    return Dataset(X, y, meta)
