"""The book's figure style: white background, sized for a page, colourblind-safe.

Sequential data (attention weights, embeddings) uses ``viridis``/``cividis``;
signed data uses the diverging ``RdBu_r`` centred on zero; lines use the
Okabe-Ito palette, which stays distinguishable with the common colour-vision
deficiencies. Figures have a white background so they stay readable when the
book's theme is switched to dark mode.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["OKABE_ITO", "use_book_style", "heatmap", "attention_heatmap", "token_labels"]

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

PAGE_WIDTH = 7.0  # inches: fits the book's text column at 100 dpi


def use_book_style() -> None:
    """Apply the book's Matplotlib defaults (call once at the top of a chapter)."""
    mpl.rcParams.update({
        "figure.figsize": (PAGE_WIDTH, 3.6),
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "axes.titlesize": 11,
        "image.cmap": "viridis",
        "figure.constrained_layout.use": True,
    })


def token_labels(tokens: Sequence[str]) -> list[str]:
    """Make token strings readable as tick labels: show spaces and newlines."""
    return [t.replace("\n", "\\n").replace(" ", "␣") for t in tokens]


def heatmap(ax, values, *, xlabels=None, ylabels=None, cmap="viridis", center=None,
            colorbar=True, vmin=None, vmax=None, xlabel=None, ylabel=None, title=None):
    """Draw a matrix on ``ax`` with optional tick labels and a colour bar.

    ``center=0`` switches to a diverging colour map symmetric around zero.
    Returns the image, so callers can update it.
    """
    values = np.asarray(values, dtype=float)
    if center is not None:
        span = np.nanmax(np.abs(values - center)) or 1.0
        vmin, vmax, cmap = center - span, center + span, "RdBu_r"
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    ax.grid(False)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), token_labels(xlabels), rotation=90)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), token_labels(ylabels))
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.85)
    return im


def attention_heatmap(ax, weights, tokens: Sequence[str], *, title=None, colorbar=True, vmax=1.0):
    """Attention weights ``(T, T)``: rows are queries (the token looking), columns are
    keys (the tokens looked at), both labelled with their token strings."""
    return heatmap(ax, weights, xlabels=tokens, ylabels=tokens, cmap="viridis", vmin=0.0,
                   vmax=vmax, xlabel="key (attended to)", ylabel="query (attending)",
                   title=title, colorbar=colorbar)
