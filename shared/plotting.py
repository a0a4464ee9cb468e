"""The book's figure style: white background, sized for a page, colourblind-safe.

Sequential data (attention weights, embeddings) uses ``viridis``/``cividis``;
signed data uses the diverging ``RdBu_r`` centred on zero; lines use the
Okabe-Ito palette, which stays distinguishable with the common colour-vision
deficiencies. Figures have a white background so they stay readable when the
book's theme is switched to dark mode.

Every PNG the book stores (a figure shown with ``plt.show()`` once
:func:`use_book_style` has run, and each frame of a slider figure) goes through
:func:`optimise_png`: an adaptive palette of 256 colours, which is almost three
times smaller than Matplotlib's full-colour PNG and looks the same (plots and
heatmaps have few colours), and no timestamp or version text, so re-running a
chapter stores the same bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["OKABE_ITO", "use_book_style", "heatmap", "attention_heatmap", "token_labels",
           "optimise_png", "figure_png"]

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
    _store_figures_as_optimised_png()


def optimise_png(png: bytes, colors: int = 256) -> bytes:
    """Re-encode a PNG with an adaptive palette of at most ``colors`` colours.

    The palette is chosen by Pillow's maximum-coverage method without dithering: on
    the book's figures no pixel moves by more than a few levels out of 255, and
    white stays white. Transparent pixels are laid on white first. The result has
    no metadata (no timestamp, no software version), so the same pixels always
    give the same bytes.
    """
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            rgb = Image.new("RGB", rgba.size, "white")
            rgb.paste(rgba, mask=rgba.getchannel("A"))
        else:
            rgb = image.convert("RGB")
    palette = rgb.quantize(colors=colors, method=Image.Quantize.MAXCOVERAGE,
                           dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def figure_png(fig: Figure, **savefig_kwargs: Any) -> bytes:
    """The figure as an optimised PNG (:func:`optimise_png`); the keyword arguments
    go to ``fig.savefig`` (``dpi``, ``bbox_inches``, ...)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **savefig_kwargs)
    return optimise_png(buffer.getvalue())


def _inline_png(fig: Figure) -> str | None:
    """IPython's PNG for a figure (the same size and cropping as the inline
    backend's), optimised, as base64 text."""
    from IPython.core.pylabtools import print_figure

    png = print_figure(fig, fmt="png")
    return None if png is None else base64.b64encode(optimise_png(png)).decode("ascii")


def _store_figures_as_optimised_png() -> None:
    """Inside IPython (Jupyter, nbclient, Colab), make a displayed figure's
    ``image/png`` output an optimised PNG. Outside IPython, do nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    if "matplotlib_inline" in mpl.get_backend():
        # Load the inline backend now, as the first figure would: when it loads, it
        # registers its own PNG formatter, which would otherwise replace ours.
        import matplotlib_inline.backend_inline  # noqa: F401
    shell.display_formatter.formatters["image/png"].for_type(Figure, _inline_png)


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
