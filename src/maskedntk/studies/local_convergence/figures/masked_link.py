"""The link to the masked-neuron study: the masked algorithm (maskedntk.studies.masked:
Bernoulli(xi) masks, p subnetworks, ReLU network with fixed +-1 output weights) trained on
x ~ N(0, I_d), y = f*(x) of this study's teacher; relative training and test error after K
rounds against the width m (median over seeds, IQR), with the error at the start."""

from __future__ import annotations

from matplotlib.ticker import NullFormatter, ScalarFormatter

from maskedntk.core import figures as F

from .common import band, load, new, save


def render(inputs, pdf, png, cfg):
    df = load(inputs, "runs")
    df = df[~df["diverged"]]
    pal = F.palette(4)
    fig, (ax,) = new(1, height=2.7)
    band(ax, "m", df, "train_error0", "0.6", "start (round 0)", marker="^")
    band(ax, "m", df, "train_error", pal[0], f"training error, round {int(df['rounds'].max())}")
    band(ax, "m", df, "test_error", pal[1], "test error (fresh Gaussian x)", marker="s")
    ax.set(xscale="log", yscale="log", xlabel="hidden neurons m (masked algorithm)")
    ax.set_ylabel(r"$\|y - \xi f\|^2 / \|y\|^2$ (median, IQR)")
    ax.set_xticks(sorted(df["m"].unique()))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    n = int(df["n"].iloc[0])
    ax.set_title(f"Masked algorithm on this study's teacher (n = {n})", fontsize=7)
    ax.legend(fontsize=6)
    save(fig, pdf, png, __name__)
