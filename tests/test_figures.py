"""The book's diagrams (book/_static/figures/*.svg) are exactly what scripts/figures draws.

The SVG files are committed so that the book builds without running the package; these
tests regenerate them into a scratch folder and compare bytes, so a committed diagram
cannot drift from its code. When one fails: run `make figures` and commit the SVGs.
Every diagram is drawn in English (NAME.svg) and in Chinese (zh_CN/NAME.svg), whose
words come from scripts/figures/strings.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scripts.figures import build, palette, strings
from scripts.figures.build import FIGURES, OUT_DIR
from scripts.figures.byte_pair_merges import TOY, bpe_merges
from scripts.figures.checks import LayoutError, contrast, text_width
from scripts.figures.palette import PANEL
from scripts.figures.svg import Svg

SVG_NS = "{http://www.w3.org/2000/svg}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
COMMITTED = sorted(OUT_DIR.glob("*.svg"))
COMMITTED_ZH = sorted((OUT_DIR / "zh_CN").glob("*.svg"))
CJK_FONT_STACK = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei'"


def test_committed_figures_are_what_the_script_draws(tmp_path: Path) -> None:
    assert build.main([str(tmp_path)]) == 0
    for folder, committed in [("", COMMITTED), ("zh_CN", COMMITTED_ZH)]:
        drawn = sorted(p.name for p in (tmp_path / folder).glob("*.svg"))
        assert drawn == sorted(f"{name}.svg" for name in FIGURES)
        assert [p.name for p in committed] == drawn, (
            f"{OUT_DIR / folder} holds {[p.name for p in committed]}, the script draws {drawn}: "
            "run `make figures` (and delete any file the script no longer draws)")
        stale = [name for name in drawn
                 if (tmp_path / folder / name).read_bytes() != (OUT_DIR / folder / name).read_bytes()]
        assert not stale, f"{folder or 'English'}: {stale} differ from what scripts/figures draws: run `make figures`"


def test_every_diagram_has_a_chinese_drawing_in_chinese_fonts() -> None:
    """zh_CN/NAME.svg (what the Chinese book shows instead of NAME.svg) exists for every diagram,
    is marked as Chinese, names a CJK font stack and labels in Chinese characters."""
    assert [p.name for p in COMMITTED_ZH] == [p.name for p in COMMITTED]
    for path in COMMITTED_ZH:
        root = ET.parse(path).getroot()
        assert root.get(XML_LANG) == "zh-CN", path.name
        assert root.get("font-family").startswith(CJK_FONT_STACK) and "sans-serif" in root.get("font-family")
        texts = [el.text or "" for el in root.iter(f"{SVG_NS}text")]
        chinese = [t for t in texts if any("\u4e00" <= ch <= "\u9fff" for ch in t)]
        assert len(chinese) >= 5, f"{path.name}: only {chinese} in Chinese"
        title = root.find(f"{SVG_NS}title").text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title), f"{path.name}: title {title!r}"
        english = ET.parse(OUT_DIR / path.name).getroot()
        assert (root.get("width"), root.get("height")) == (english.get("width"), english.get("height"))


def test_string_table_has_no_stale_entries() -> None:
    """Every Chinese string is still drawn (an English text changed without its key would leave one
    behind; a missing one fails the drawing itself with a KeyError)."""
    build.render_all(check=False)
    assert not set(strings.ZH_CN) - strings.USED["zh_CN"], "unused entries in scripts/figures/strings.py"
    assert strings.t("position {i}", "en", i=3) == "position 3"
    assert strings.t("position {i}", "zh_CN", i=3) == "位置 3"
    with pytest.raises(KeyError, match="no zh_CN text"):
        strings.t("a string nobody translated", "zh_CN")


def test_cjk_text_is_measured_one_em_per_character() -> None:
    """In a Chinese drawing a CJK character and full-width punctuation are 1 em wide; so is an
    ambiguous-width sign such as → (CJK fonts draw it full-width), but not in the code font."""
    assert text_width("注意力分数", 14, cjk=True) == 5 * 14
    assert text_width("（列）：", 12, cjk=True) == 4 * 12
    assert text_width("键 →", 10, cjk=True) == 20 + text_width(" ", 10)
    assert text_width("→", 10, mono=True, cjk=True) == text_width("→", 10, mono=True)
    assert text_width("d_model", 12, cjk=True) == text_width("d_model", 12)
    svg = Svg(300, 100, "test", "a test canvas", "zh_CN")  # two Chinese labels that would overlap
    svg.text(100, 50, "多头注意力")
    svg.text(150, 50, "前馈网络")
    with pytest.raises(LayoutError, match="overlap"):
        svg.check_layout()
    svg = Svg(300, 100, "test", "a test canvas", "zh_CN")  # a long Chinese title off the panel
    svg.text(24, 30, "因果掩码：查询只能关注不晚于自身位置的键", size=16, anchor="start")
    with pytest.raises(LayoutError, match="leaves the panel"):
        svg.check_layout()


def test_drawing_twice_gives_the_same_bytes() -> None:
    assert build.render_all() == build.render_all()


def test_palette_is_the_books_okabe_ito() -> None:
    from shared.plotting import OKABE_ITO

    ours = [palette.BLUE, palette.ORANGE, palette.GREEN, palette.VERMILLION,
            palette.PURPLE, palette.SKY, palette.YELLOW, palette.BLACK]
    assert sorted(ours) == sorted(OKABE_ITO)


@pytest.mark.parametrize("path", COMMITTED + COMMITTED_ZH,
                         ids=[str(p.relative_to(OUT_DIR)) for p in COMMITTED + COMMITTED_ZH])
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
    svg.text(150, 50, "too pale", fill=palette.YELLOW)
    with pytest.raises(LayoutError, match="contrast"):
        svg.check_layout()
    svg = Svg(300, 100, "test", "a test canvas")  # rotated labels side by side do not overlap
    for i, word in enumerate(["Building", "rapport", "is"]):
        svg.text(100 + 30 * i, 80, word, anchor="start", rotate=-50)
    svg.check_layout()


def test_layout_check_catches_labels_on_circles_and_lines() -> None:
    svg = Svg(300, 200, "test", "a test canvas")  # a rotated label whose end sits on a residual plus
    svg.plus(110, 150)
    svg.text(100, 100, "residual stream", size=12, bold=True, rotate=-90)
    with pytest.raises(LayoutError, match="touches the circle"):
        svg.check_layout()
    svg = Svg(300, 200, "test", "a test canvas")  # the same label, moved clear of it
    svg.plus(110, 150)
    svg.text(100, 70, "residual stream", size=12, bold=True, rotate=-90)
    svg.check_layout()
    svg = Svg(300, 200, "test", "a test canvas")  # an arrow drawn through a label
    svg.text(150, 100, "softmax")
    svg.arrow([(100, 96), (200, 96)])
    with pytest.raises(LayoutError, match="crossed by the line"):
        svg.check_layout()
    svg = Svg(300, 200, "test", "a test canvas")  # the label just above the arrow is fine
    svg.text(150, 90, "softmax")
    svg.arrow([(100, 96), (200, 96)])
    svg.check_layout()


PACKAGE = Path(build.__file__).parent
LAYERS = {"palette": 0, "strings": 0, "checks": 1, "svg": 2, "build": 4, "__main__": 5}  # else a diagram (3)


def test_package_modules_are_small_and_import_only_lower_layers() -> None:
    """One module per diagram on shared helpers; no module over 350 lines (but the string table,
    which is data) and no import circle (each module imports only modules of a lower layer:
    palette and strings, checks, svg, diagrams, build)."""
    import ast

    modules = sorted(p for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert {p.stem for p in modules} >= set(FIGURES), "each diagram lives in a module of its own name"
    for path in modules:
        source = path.read_text(encoding="utf-8")
        assert path.stem == "strings" or len(source.splitlines()) < 350, f"{path.name} is too long: split it"
        layer = LAYERS.get(path.stem, 3)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scripts.figures."):
                other = node.module.rsplit(".", 1)[1]
                assert LAYERS.get(other, 3) < layer, f"{path.name} imports {other}: a circle in the making"


def test_size_table_reads_the_configurations() -> None:
    """gpt_data_flow's table: the shapes, the kind of positions and the tied head of each model."""
    from scripts.figures.gpt_data_flow import size_table

    rows = {name: vals for name, *vals in size_table()}
    assert rows["C = d_model"] == ["64", "64", "768"]
    assert rows["pos_embedding"] == ["sinusoidal", "learned", "learned"]
    assert rows["tie_weights"] == ["no", "yes", "yes"]


def test_byte_pair_merges_match_chapter_1() -> None:
    """The diagram's merges are the ones Chapter 1's table shows."""
    steps = bpe_merges(TOY, 7)
    assert [pair for pair, _, _ in steps] == [
        (" ", "s"), (" s", "e"), (" se", "l"), (" sel", "l"), (" sell", "e"), (" selle", "r"),
        (" sell", "s")]
    assert [sum(len(w) for w in words) for _, _, words in steps] == [42, 36, 30, 24, 22, 20, 18]
    assert "".join(piece for w in steps[-1][2] for piece in w) == TOY


def test_sampling_pipeline_bars_follow_shared_generation() -> None:
    """Softmax before the filters; top-k keeps k tokens, top-p the fewest whose mass reaches p."""
    from scripts.figures import sampling_pipeline as sp

    logits, scaled, probs, after_k, after_p = sp.stages()
    assert scaled == [v / sp.TEMPERATURE for v in logits]
    assert abs(sum(probs) - 1) < 1e-6 and abs(sum(after_k) - 1) < 1e-6 and abs(sum(after_p) - 1) < 1e-6
    assert sum(v > 0 for v in after_k) == sp.TOP_K
    kept = sum(v > 0 for v in after_p)
    assert sum(sorted(after_k, reverse=True)[:kept]) >= sp.TOP_P > sum(sorted(after_k, reverse=True)[:kept - 1])


def test_unk_vocabulary_counts_add_up() -> None:
    from scripts.figures.unk_vocabulary import vocabulary_counts
    from shared.book import load_book_data

    n = vocabulary_counts()
    assert n["rows"] + n["n_unk"] == n["all"] == 50_257 and n["outputs"] == n["rows"] + 1
    assert n["rare"] + n["unseen"] == n["n_unk"] == load_book_data()[0].n_unk_ids


def test_gpt2_weight_map_transposes_exactly_the_conv1d_matrices() -> None:
    from scripts.figures.gpt2_weight_map import weight_rows

    rows, d_model, n_layers = weight_rows()
    transposed = sorted(theirs for theirs, _, t, _, _ in rows if t)
    assert transposed == ["h.N.attn.c_attn.weight", "h.N.attn.c_proj.weight", "h.N.mlp.c_fc.weight",
                          "h.N.mlp.c_proj.weight"]
    assert all(tshape == oshape[::-1] for _, _, t, tshape, oshape in rows if t)
    assert ("h.N.attn.c_attn.weight", "blocks.N.attn.qkv.weight", True, (d_model, 3 * d_model),
            (3 * d_model, d_model)) in rows


def test_kv_cache_restart_is_generates_rule() -> None:
    """The diagram's restart keeps context_length // 2 tokens, as shared.generation.generate does."""
    import inspect

    from scripts.figures.kv_cache import window
    from shared import generation

    length, keep = window()
    assert keep == length // 2
    assert "max(1, L // 2)" in inspect.getsource(generation.generate)
