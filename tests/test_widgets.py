"""Unit tests for shared.widgets: the slider figures' two renderings (no browser here;
tests/test_browser.py drives the HTML version in chromium)."""

from __future__ import annotations

import base64
import io
import json
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from shared.generation import next_token_probs  # noqa: E402
from shared.widgets import MAX_FRAMES, NextTokenExplorer, SliderFigure  # noqa: E402

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


def test_mimebundle_has_the_three_types(figure):
    bundle = figure._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", WIDGET_VIEW}
    assert bundle["text/plain"].startswith("<SliderFigure")
    assert bundle[WIDGET_VIEW]["model_id"]
    assert 'alt="Bars that grow with n"' in bundle["text/html"]
    assert "Move the slider." in bundle["text/html"]


def test_html_has_one_frame_per_combination(figure):
    html = figure.to_html()
    data = stored_data(html)
    assert len(data["frames"]) == 6 and data["sizes"] == [3, 2]
    assert f'data-frames="6"' in html
    assert html.count('type="range"') == 1 and html.count("<select") == 1
    assert html.count("<option") == 2
    assert data["labels"] == [["1", "2", "3"], ["C0", "C1"]]
    # Visible labels show the current value, and nothing is fetched from the network.
    assert html.count("<output>") == 1  # the slider's; a selector shows its own value
    assert "http://" not in html and "https://" not in html


def png_of(params) -> bytes:
    fig = draw(**params)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def test_frame_lookup_matches_slider_order(figure):
    """Frame k is the k-th combination, the last slider varying fastest, which is
    the rule the page's JavaScript uses (index = index * size + position)."""
    assert figure.combinations[:3] == [{"n": 1, "colour": "C0"}, {"n": 1, "colour": "C1"},
                                       {"n": 2, "colour": "C0"}]
    frames = stored_data(figure.to_html())["frames"]
    for k, params in enumerate(figure.combinations):
        assert figure.frame_index(**params) == k
        assert base64.b64decode(frames[k].split(",", 1)[1]) == png_of(params)
    assert "index = index * data.sizes[i] + pos" in figure.to_html()


def test_output_is_deterministic():
    make = lambda: SliderFigure(draw, {"n": [1, 2]}, alt="Bars")  # noqa: E731
    first, second = make().to_html(), make().to_html()
    assert first == second
    ids = re.findall(r'id="([^"]+)"', first)
    assert len(ids) == 1 and re.fullmatch(r"tfs-sf-[0-9a-f]{12}", ids[0])
    explorer = lambda: NextTokenExplorer(["a", "b"], torch.tensor([1.0, 0.0]), alt="x")  # noqa: E731
    assert explorer().to_html() == explorer().to_html()


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
    (temperature, top_k, top_p), bars = view.children[0].children, view.children[1]
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
