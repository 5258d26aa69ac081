"""Every number formatter of the package, so a value reads the same in each figure and table.

* :func:`format_value`: a grid value for a label (0.5, 10, 1000; no trailing zeros);
* :func:`fmt_compact`: at most four characters, for heatmap cells and colour-bar ticks;
* :func:`fmt_value`: three significant digits, for labels and notes;
* :func:`sci`: mathtext scientific notation for figure text (``$1.2{\\times}10^{10}$``);
* :func:`fmt_p` and :func:`p_eq`: a p-value for a table and for a note.
"""

from __future__ import annotations

import math

import numpy as np


def format_value(v: float) -> str:
    """A grid value for a label: 0.5, 10, 1000 (no trailing zeros)."""
    return f"{float(v):g}"


def fmt_compact(v: float) -> str:
    """At most four characters where possible: '0', '0.35', '2.1', '35', '3e-2', '1e10'."""
    if v is None or not np.isfinite(v):
        return ""
    if v == 0:
        return "0"
    a = abs(v)
    if a < 0.1 and abs(float(f"{v:.0e}")) >= 0.1:  # 0.096 reads 0.1, not 1e-1
        v, a = float(f"{v:.0e}"), 0.1
    if 0.1 <= a < 10:
        s = f"{v:.2g}"
        return "1" if s in ("1", "1.0") else s
    if 10 <= a < 100:
        return f"{v:.0f}"
    mant, exp = f"{v:.0e}".split("e")
    return f"{mant}e{int(exp)}"


def fmt_value(v: float) -> str:
    """Three significant digits, or scientific when large or small (for labels and notes)."""
    if v is None or not np.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    return f"{v:.3g}"


def sci(value: float, digits: int = 1) -> str:
    r"""``value`` in mathtext scientific notation, e.g. ``$1.2{\times}10^{10}$``; plain
    decimals between 0.01 and 1000; 'NaN' and '0' as such."""
    if value is None or not np.isfinite(value):
        return "NaN"
    if value == 0:
        return "$0$"
    e = int(math.floor(math.log10(abs(value))))
    if -2 <= e <= 2:
        return f"${value:.{max(digits - e, 0)}f}$"
    mant = value / 10**e
    if round(abs(mant), digits) >= 10:
        mant, e = mant / 10, e + 1
    return rf"${mant:.{digits}f}{{\times}}10^{{{e}}}$"


def fmt_p(p: float) -> str:
    """A p-value for a table: two significant digits, '< 1e-4' below 1e-4, 'n/a' for NaN."""
    if not math.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else "< 1e-4"


def p_eq(p: float) -> str:
    """'p = 0.016', 'p < 1e-4' or 'p n/a' for a note."""
    txt = fmt_p(p)
    return f"p {txt}" if txt.startswith("<") or txt == "n/a" else f"p = {txt}"
