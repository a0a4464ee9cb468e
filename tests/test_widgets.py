"""Unit tests for shared.widgets: the slider figures' two renderings (no browser here;
tests/test_browser.py drives the HTML version in chromium)."""

from __future__ import annotations

import base64
import io
import json
import re
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from shared.explorer import NextTokenExplorer  # noqa: E402
from shared.generation import next_token_probs  # noqa: E402
from shared.widgets import FRAME_DPI, LIVE_DPI, MAX_FRAMES, SliderFigure  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def draw(n, colour="C0"):
    """A tiny figure whose content depends on both parameters."""
    fig, ax = plt.subplots(figsize=(1.5, 1))
    ax.bar(range(n), range(1, n + 1), color=colour)
    ax.set_xlabel("i")
    ax.set_ylabel("value")
    return fig


@pytest.fixture
def figure():
    return SliderFigure(draw, {"n": [1, 2, 3], "colour": ["C0", "C1"]},
                        alt="Bars that grow with n", caption="Move the slider.")


def stored_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" class="tfs-data">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def first_frame(html: str) -> str:
    """The <img>'s source: the first frame, which the data does not repeat."""
    return re.search(r'<img class="tfs-frame" src="([^"]+)"', html).group(1)


def png_image(data_uri_or_bytes) -> Image.Image:
    if isinstance(data_uri_or_bytes, str):
        data_uri_or_bytes = base64.b64decode(data_uri_or_bytes.split(",", 1)[1])
    return Image.open(io.BytesIO(data_uri_or_bytes))


def colour_of(n: int, colour: str) -> tuple[int, int, int]:
    """A colour unique to each setting of n in [1, 2, 3] and colour in ["C0", "C1"]."""
    return (40 * n, 100 if colour == "C0" else 200, 50)


def draw_solid(n, colour="C0"):
    """A figure filled with the colour of its setting, so a frame names its setting."""
    fig = plt.figure(figsize=(1.5, 1))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.imshow([[colour_of(n, colour)]], aspect="auto")
    return fig


def centre_colour(frame) -> tuple[int, int, int]:
    image = png_image(frame).convert("RGB")
    return image.getpixel((image.width // 2, image.height // 2))


def test_mimebundle_has_the_three_types(figure):
    bundle = figure._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", WIDGET_VIEW}
    assert bundle["text/plain"].startswith("<SliderFigure")
    assert re.fullmatch(r"[0-9a-f]{32}", bundle[WIDGET_VIEW]["model_id"])
    assert 'alt="Bars that grow with n"' in bundle["text/html"]
    assert "Move the slider." in bundle["text/html"]


def test_html_has_one_frame_per_combination(figure):
    html = figure.to_html()
    data = stored_data(html)
    assert len(data["frames"]) == 6 and data["sizes"] == [3, 2]
    assert 'data-frames="6"' in html
    # Each frame is stored once: the first is the <img>'s source and null in the data.
    assert data["frames"][0] is None and first_frame(html) == figure.frames[0]
    assert data["frames"][1:] == figure.frames[1:]
    assert html.count("data:image/png;base64,") == 6
    assert 'data.frames[0] = img.getAttribute("src")' in html
    assert html.count('type="range"') == 1 and html.count("<select") == 1
    assert html.count("<option") == 2
    assert data["labels"] == [["1", "2", "3"], ["C0", "C1"]]
    # Visible labels show the current value, and nothing is fetched from the network.
    assert html.count("<output>") == 1  # the slider's; a selector shows its own value
    assert "http://" not in html and "https://" not in html


def test_frame_lookup_matches_slider_order():
    """Frame k shows the k-th combination, the last slider varying fastest, which is
    the rule the page's JavaScript uses (index = index * size + position)."""
    solid = SliderFigure(draw_solid, {"n": [1, 2, 3], "colour": ["C0", "C1"]}, alt="Colours")
    assert solid.combinations[:3] == [{"n": 1, "colour": "C0"}, {"n": 1, "colour": "C1"},
                                      {"n": 2, "colour": "C0"}]
    html = solid.to_html()
    frames = [first_frame(html)] + stored_data(html)["frames"][1:]
    for k, params in enumerate(solid.combinations):
        assert solid.frame_index(**params) == k
        assert centre_colour(frames[k]) == colour_of(**params)
    assert len({centre_colour(f) for f in frames}) == 6
    assert "index = index * data.sizes[i] + pos" in html


def test_frames_are_palette_pngs_at_frame_dpi(figure):
    """Frames are drawn at FRAME_DPI (a 1.5 x 1 inch figure gives 1.5 * FRAME_DPI pixels
    across) and stored as palette PNGs without metadata; the live view uses LIVE_DPI."""
    for frame in figure.frames:
        image = png_image(frame)
        assert image.mode == "P" and image.size == (round(1.5 * FRAME_DPI), FRAME_DPI)
        assert not image.text  # no "Software" or timestamp chunk
    live_image = figure._widget().children[1]
    assert png_image(live_image.value).size == (round(1.5 * LIVE_DPI), LIVE_DPI)


def test_output_is_deterministic():
    make = lambda: SliderFigure(draw, {"n": [1, 2]}, alt="Bars")  # noqa: E731
    first, second = make().to_html(), make().to_html()
    assert first == second
    ids = re.findall(r'id="([^"]+)"', first)
    assert len(ids) == 1 and re.fullmatch(r"tfs-sf-[0-9a-f]{12}", ids[0])
    explorer = lambda: NextTokenExplorer(["a", "b"], torch.tensor([1.0, 0.0]), alt="x")  # noqa: E731
    assert explorer().to_html() == explorer().to_html()


def test_widget_model_ids_are_the_same_in_every_run(monkeypatch):
    """The live views' model ids are stored in the chapters. A fresh kernel (simulated
    by a fresh count of the views made so far) gives the same ids every time, and
    within one kernel every view, even of the same figure shown again, gets its own
    id. (test_two_executions_store_the_same_bytes checks it with real kernels.)"""
    import ipywidgets

    import shared.widgets

    one = SliderFigure(draw, {"n": [1, 2]}, alt="one")
    views = [one, SliderFigure(draw, {"n": [1, 3]}, alt="two"), one,
             NextTokenExplorer(["a", "b"], torch.tensor([1.0, 0.0]), alt="next")]
    runs = []
    for _ in range(2):
        monkeypatch.setattr(shared.widgets, "_displayed", Counter())
        runs.append([view._repr_mimebundle_()[WIDGET_VIEW]["model_id"] for view in views])
        ipywidgets.Widget.close_all()  # as the end of a kernel does, so the ids are free again
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 4 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in runs[0])


@pytest.mark.parametrize("sliders, error", [
    ({}, "non-empty dict"),
    ({"n": []}, "has no values"),
    ({"n": [1, "a"]}, "all numbers"),
    ({"n": [True, False]}, "all numbers"),
    ({"n": "abc"}, "must be a list"),
    ({"n": [1, 1]}, "repeated values"),
    ({"n": [3, 1, 2]}, "increasing order"),
    ({"not valid": [1]}, "identifier"),
    ({"a": list(range(5)), "b": list(range(5))}, f"at most {MAX_FRAMES}"),
])
def test_bad_slider_specs_are_rejected(sliders, error):
    with pytest.raises((ValueError, TypeError), match=error):
        SliderFigure(draw, sliders, alt="x")


def test_alt_text_and_draw_are_required():
    with pytest.raises(ValueError, match="alt"):
        SliderFigure(draw, {"n": [1]}, alt=" ")
    with pytest.raises(TypeError, match="draw"):
        SliderFigure(None, {"n": [1]}, alt="x")
    with pytest.raises(TypeError, match="not a matplotlib Figure"):
        SliderFigure(lambda n: None, {"n": [1]}, alt="x").to_html()


def test_explorer_bundle_and_probabilities():
    tokens = [" the", " a", "\n", "."]
    logits = torch.tensor([2.0, 1.0, 0.5, -1.0])
    explorer = NextTokenExplorer(tokens, logits, alt="Next token")
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", WIDGET_VIEW}
    html = bundle["text/html"]
    assert html.count('type="range"') == 3 and html.count('class="tfs-bar"') == 4
    assert "␣the" in html and "\\n" in html  # spaces and newlines made visible
    # Python uses shared.generation.next_token_probs (the same rule as the page's script).
    for settings in [(1.0, 0, 1.0), (0.5, 2, 1.0), (1.5, 0, 0.6), (0.7, 3, 0.5)]:
        t, k, p = settings
        expected = next_token_probs(logits, t, k or None, None if p >= 1 else p)
        assert torch.allclose(explorer.probs(*settings), expected)
    initial = next_token_probs(logits)
    assert f"{float(initial[0]):.4f}" in html
    assert stored_data(html)["shown"] == [0, 1, 2, 3]


def test_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="2 tokens for 3 logits"):
        NextTokenExplorer(["a", "b"], torch.zeros(3), alt="x")
    with pytest.raises(ValueError, match="1-D"):
        NextTokenExplorer(["a"], torch.zeros(1, 1), alt="x")
    with pytest.raises(ValueError, match="finite"):
        NextTokenExplorer(["a", "b"], torch.tensor([0.0, float("inf")]), alt="x")


def test_live_views_recompute_in_python(figure):
    """The Jupyter view: moving a control redraws the figure / the bars in Python."""
    view = figure._widget()
    assert re.fullmatch(r"[0-9a-f]{32}", view.model_id)  # without one given: random
    (controls, image, _caption) = view.children
    n, colour = controls.children
    first = image.value
    n.value = 3
    assert image.value != first and image.format == "png"
    second = image.value
    colour.value = "C1"
    assert image.value not in (first, second)
    explorer = NextTokenExplorer(["a", "b", "c"], torch.tensor([1.0, 0.5, 0.0]), alt="x")
    view = explorer._widget()
    (_temperature, top_k, _top_p), bars = view.children[0].children, view.children[1]
    before = bars.value
    top_k.value = 1
    assert bars.value != before and "1.0000" in bars.value


def test_stored_chapter_outputs_use_the_current_widgets():
    """A slider figure stored in a chapter carries the HTML_VERSION of the
    shared/widgets.py that made it. If the HTML has changed since, nbval would
    report a long diff; this says plainly which chapter to re-execute."""
    from pathlib import Path

    import nbformat

    from shared.widgets import HTML_VERSION

    stale = []
    for path in sorted((Path(__file__).resolve().parent.parent / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                html = output.get("data", {}).get("text/html", "")
                if "tfs-widget" in html and f'data-tfs-version="{HTML_VERSION}"' not in html:
                    stale.append(path.name)
    assert not stale, ("made with an older shared/widgets.py; re-execute with "
                       f"`make execute NB=chapters/<name>`: {sorted(set(stale))}")


def execute_notebook(cells: list[str]) -> str:
    """Run code cells in a fresh kernel the way scripts/execute_notebooks.py does and
    return the notebook as it would be stored."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, id=f"cell-{i}") for i, source in enumerate(cells)]
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False,
                   record_timing=False, resources={"metadata": {"path": str(ROOT)}}).execute()
    return nbformat.writes(nb)


def test_two_executions_store_the_same_bytes():
    """Issue: ipywidgets model ids and PNGs made every `make execute` a diff. A figure
    shown with plt.show() after use_book_style() and a slider figure, each executed
    twice from a fresh kernel, must be stored byte for byte the same, and the figure
    as a palette PNG."""
    pytest.importorskip("nbclient")
    cells = ["import matplotlib.pyplot as plt\n"
             "from shared.plotting import use_book_style\n"
             "from shared.widgets import SliderFigure\n"
             "use_book_style()",
             "plt.plot([0, 1, 4], label='a line')\nplt.xlabel('x')\nplt.ylabel('y')\nplt.show()",
             "def draw(n):\n"
             "    fig, ax = plt.subplots(figsize=(2, 1))\n"
             "    ax.plot(range(n))\n"
             "    return fig\n"
             "SliderFigure(draw, {'n': [2, 3]}, alt='lines')"]
    first, second = execute_notebook(cells), execute_notebook(cells)
    assert first == second
    outputs = [cell["outputs"] for cell in json.loads(first)["cells"]]
    (figure,), (widget,) = outputs[1], outputs[2]
    assert png_image(base64.b64decode(figure["data"]["image/png"])).mode == "P"
    assert re.fullmatch(r"[0-9a-f]{32}", widget["data"][WIDGET_VIEW]["model_id"])
    assert 'class="tfs-widget tfs-slider-figure"' in "".join(widget["data"]["text/html"])
