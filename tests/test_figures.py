"""The book's diagrams (book/_static/figures/*.svg) are exactly what scripts/make_figures.py draws.

The SVG files are committed so that the book builds without running the script; these
tests regenerate them into a scratch folder and compare bytes, so a committed diagram
cannot drift from its code. When one fails: run `make figures` and commit the SVGs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scripts import make_figures
from scripts.make_figures import FIGURES, OUT_DIR, PANEL, LayoutError, Svg, contrast

SVG_NS = "{http://www.w3.org/2000/svg}"
COMMITTED = sorted(OUT_DIR.glob("*.svg"))


def test_committed_figures_are_what_the_script_draws(tmp_path: Path) -> None:
    assert make_figures.main([str(tmp_path)]) == 0
    drawn = sorted(p.name for p in tmp_path.glob("*.svg"))
    assert drawn == sorted(f"{name}.svg" for name in FIGURES)
    assert [p.name for p in COMMITTED] == drawn, (
        f"{OUT_DIR} holds {[p.name for p in COMMITTED]}, the script draws {drawn}: "
        "run `make figures` (and delete any file the script no longer draws)")
    stale = [name for name in drawn if (tmp_path / name).read_bytes() != (OUT_DIR / name).read_bytes()]
    assert not stale, f"{stale} differ from what scripts/make_figures.py draws: run `make figures`"


def test_drawing_twice_gives_the_same_bytes() -> None:
    assert make_figures.render_all() == make_figures.render_all()


def test_palette_is_the_books_okabe_ito() -> None:
    from shared.plotting import OKABE_ITO

    ours = [make_figures.BLUE, make_figures.ORANGE, make_figures.GREEN, make_figures.VERMILLION,
            make_figures.PURPLE, make_figures.SKY, make_figures.YELLOW, make_figures.BLACK]
    assert sorted(ours) == sorted(OKABE_ITO)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_figure_is_a_self_contained_accessible_svg(path: Path) -> None:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    width, height = int(root.get("width")), int(root.get("height"))
    assert root.get("viewBox") == f"0 0 {width} {height}"
    assert 600 <= width <= 820 and height <= 950, "sized for the book's text column"
    title, desc = root.find(f"{SVG_NS}title"), root.find(f"{SVG_NS}desc")
    assert title is not None and title.text and desc is not None and len(desc.text) > 80
    # Its own light panel, first thing drawn and as large as the image: readable in dark mode.
    panel = root.find(f"{SVG_NS}rect")
    assert panel.get("fill") == PANEL and contrast(PANEL, "#ffffff") < 1.1
    assert float(panel.get("width")) >= width - 2 and float(panel.get("height")) >= height - 2
    # Nothing loaded from elsewhere: no images, links, scripts or web fonts.
    text = path.read_text(encoding="utf-8")
    for forbidden in ("<image", "href=", "<script", "@import", "url("):
        assert forbidden not in text, f"{path.name} contains {forbidden!r}"
    assert len(list(root.iter(f"{SVG_NS}text"))) >= 5, "labels are SVG text"


def test_layout_check_catches_overlapping_and_faint_labels() -> None:
    svg = Svg(300, 100, "test", "a test canvas")
    svg.text(100, 50, "multi-head attention")
    svg.text(110, 55, "feed-forward")
    with pytest.raises(LayoutError, match="overlap"):
        svg.check_layout()
    svg = Svg(300, 100, "test", "a test canvas")
    svg.text(290, 50, "off the edge", anchor="start")
    with pytest.raises(LayoutError, match="leaves the panel"):
        svg.check_layout()
    svg = Svg(300, 100, "test", "a test canvas")
    svg.text(150, 50, "too pale", fill=make_figures.YELLOW)
    with pytest.raises(LayoutError, match="contrast"):
        svg.check_layout()
    svg = Svg(300, 100, "test", "a test canvas")  # rotated labels side by side do not overlap
    for i, word in enumerate(["Building", "rapport", "is"]):
        svg.text(100 + 30 * i, 80, word, anchor="start", rotate=-50)
    svg.check_layout()


def test_byte_pair_merges_match_chapter_1() -> None:
    """The diagram's merges are the ones Chapter 1's table shows."""
    steps = make_figures.bpe_merges(make_figures.TOY, 7)
    assert [pair for pair, _, _ in steps] == [
        (" ", "s"), (" s", "e"), (" se", "l"), (" sel", "l"), (" sell", "e"), (" selle", "r"),
        (" sell", "s")]
    assert [sum(len(w) for w in words) for _, _, words in steps] == [42, 36, 30, 24, 22, 20, 18]
    assert "".join(piece for w in steps[-1][2] for piece in w) == make_figures.TOY
