"""Unit tests for shared.plotting: the optimised PNGs the book stores."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from shared.plotting import attention_heatmap, figure_png, optimise_png, use_book_style  # noqa: E402


def book_figure() -> plt.Figure:
    """A figure like the book's: an attention heatmap with token labels beside lines."""
    with plt.rc_context():
        use_book_style()
        fig, (left, right) = plt.subplots(1, 2)
        weights = np.tril(np.random.default_rng(0).random((8, 8)))
        weights /= weights.sum(axis=1, keepdims=True)
        attention_heatmap(left, weights, [f" token{i}" for i in range(8)])
        for k in range(4):
            right.plot(np.sin(np.linspace(0, 6, 100) + k), label=f"line {k}")
        right.legend()
        right.set_xlabel("step")
        right.set_ylabel("value")
    return fig


@pytest.fixture(scope="module")
def original() -> bytes:
    fig = book_figure()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def test_optimised_png_is_a_smaller_palette_image_that_looks_the_same(original):
    optimised = optimise_png(original)
    image = Image.open(io.BytesIO(optimised))
    assert image.mode == "P" and len(image.getcolors(256)) <= 256
    assert len(optimised) < len(original) / 2
    before, after = pixels(original), pixels(optimised)
    assert before.shape == after.shape
    difference = np.abs(before - after)
    assert difference.max() <= 16 and difference.mean() < 1  # out of 255
    white = (before == 255).all(axis=-1)
    assert white.mean() > 0.3 and (after[white] == 255).all()  # the page stays white


def test_optimised_png_is_deterministic_and_has_no_metadata(original):
    assert optimise_png(original) == optimise_png(original)
    assert not Image.open(io.BytesIO(optimise_png(original))).text
    first, second = book_figure(), book_figure()
    png = figure_png(first, dpi=50)
    assert png == figure_png(second, dpi=50)
    assert Image.open(io.BytesIO(png)).width == round(7.0 * 50)  # PAGE_WIDTH inches at 50 dpi
    plt.close(first)
    plt.close(second)


def test_transparent_pixels_become_white():
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    rgba.putpixel((1, 1), (0, 114, 178, 255))
    buffer = io.BytesIO()
    rgba.save(buffer, format="png")
    after = pixels(optimise_png(buffer.getvalue()))
    assert tuple(after[0, 0]) == (255, 255, 255) and tuple(after[1, 1]) == (0, 114, 178)
