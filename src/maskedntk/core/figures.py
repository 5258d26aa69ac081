"""The shared look of every study's figures: one matplotlib style file, colour-blind-safe colours
(seaborn's ``colorblind`` palette), two-column paper sizes, and saving to PDF + PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .atomic import atomic_path  # noqa: E402

STYLE = Path(__file__).with_name("paper.mplstyle")
#: figure widths in inches for a two-column paper
ONE_COLUMN = 3.35
TWO_COLUMNS = 6.9
PNG_DPI = 300


def apply_style() -> None:
    """Activate the paper style (call before creating figures)."""
    plt.style.use(str(STYLE))


def palette(n: int) -> list:
    """n colour-blind-safe colours (seaborn 'colorblind'; cycles beyond 10)."""
    import seaborn as sns

    return sns.color_palette("colorblind", n)


def sequential_cmap(name: str = "rocket_r"):
    """A perceptually uniform sequential colour map for heatmaps."""
    import seaborn as sns

    return sns.color_palette(name, as_cmap=True)


def save(fig, pdf, png, *, name: str) -> None:
    """Write ``fig`` as PDF and PNG (300 dpi), atomically, and close it.

    ``name`` (the rendering module, ``__name__``) is stored as the files' Title metadata, so
    a figure file says which code drew it."""
    for path, kw in ((pdf, {}), (png, {"dpi": PNG_DPI})):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), metadata={"Title": name}, **kw)
    plt.close(fig)
