"""Slider figures that work both in Jupyter and in the static book.

A chapter displays one of these objects as the last expression of a cell. It then
carries two renderings of itself:

* in Jupyter or Colab, a live view: ipywidgets sliders and selectors that recompute
  the figure in Python (``application/vnd.jupyter.widget-view+json``);
* in the HTML book, which has no kernel, a self-contained ``text/html`` version:
  the figure precomputed for every combination of slider values (PNG frames, or for
  :class:`shared.explorer.NextTokenExplorer` the logits themselves) and a few lines of
  inline JavaScript that swap frames or recompute the bars when a slider moves. It loads
  nothing from the network and several of them can share one page.

``_config.yml`` tells the book to prefer the HTML version
(``nb_mime_priority_overrides``). Both renderings are deterministic, so re-running
a chapter stores the same bytes and nbval can compare stored outputs: element ids
and the ipywidgets model id come from a hash of the content, and the frames are
palette PNGs without metadata (:func:`shared.plotting.figure_png`).
``tests/sanitize.cfg`` replaces the PNG payloads before comparing.

* :class:`SliderFigure`       ``draw(**params) -> Figure`` over a small grid of values

:mod:`shared.explorer` builds its next-token explorer on the same helpers.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import math
import numbers
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt

from .plotting import figure_png

__all__ = ["HTML_VERSION", "MAX_FRAMES", "SliderFigure"]

# Bump whenever the HTML these classes write changes: stored chapter outputs made by an
# older version must be re-executed (tests/test_widgets.py names them).
HTML_VERSION = 3
MAX_FRAMES = 24  # frames of one SliderFigure: each one is a PNG stored in the page
FRAME_DPI = 72  # PNG frames stay light: a 7-inch figure is 504 pixels wide (the chapters total <= 2 MB)
LIVE_DPI = 100  # the live Jupyter view redraws one figure at a time, at the page's dpi

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _script_json(obj: Any) -> str:
    """JSON that is safe inside an inline <script> element."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text.replace("</", "<\\/")


def _content_id(prefix: str, *parts: Any) -> str:
    """A deterministic element id derived from the content (no random ids)."""
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:12]
    return f"{prefix}-{digest}"


_displayed: Counter[str] = Counter()  # content id -> live views made so far in this process


def _model_id(content_id: str) -> str:
    """The ipywidgets model id of a live view: 32 hex digits like the random ids
    ipywidgets makes, but derived from the content and from how many views of the
    same content this process has made before. A fresh kernel running a chapter
    from the top therefore gives the same ids every time, while a cell run twice in
    one kernel still gets a new, unique id (the front end keys its models by id)."""
    _displayed[content_id] += 1
    return hashlib.sha256(f"{content_id}#{_displayed[content_id]}".encode()).hexdigest()[:32]


def _format_value(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def _check_sliders(sliders: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Validate a slider spec: name -> non-empty list of numbers (a slider) or
    strings (a selector). Raise ``ValueError``/``TypeError`` with a clear message."""
    if not isinstance(sliders, Mapping) or not sliders:
        raise ValueError("sliders must be a non-empty dict: name -> list of values")
    checked: dict[str, list[Any]] = {}
    for name, values in sliders.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"slider name {name!r} must be a valid Python identifier "
                             "(it is passed to draw() as a keyword argument)")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise TypeError(f"slider {name!r}: values must be a list, got {type(values).__name__}")
        values = list(values)
        if not values:
            raise ValueError(f"slider {name!r} has no values")
        all_numbers = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
        all_strings = all(isinstance(v, str) for v in values)
        if not (all_numbers or all_strings):
            raise TypeError(f"slider {name!r}: values must be all numbers (a slider) or all "
                            f"strings (a selector), got {values!r}")
        if all_numbers and not all(math.isfinite(v) for v in values):
            raise ValueError(f"slider {name!r}: values must be finite numbers, got {values!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"slider {name!r} has repeated values: {values!r}")
        if all_numbers and sorted(values) != values:
            raise ValueError(f"slider {name!r}: numeric values must be in increasing order, "
                             f"got {values!r}")
        checked[name] = values
    n_frames = 1
    for values in checked.values():
        n_frames *= len(values)
    if n_frames > MAX_FRAMES:
        sizes = " x ".join(str(len(v)) for v in checked.values())
        raise ValueError(f"{sizes} = {n_frames} frames is too many for one figure "
                         f"(at most {MAX_FRAMES}): use fewer values per slider")
    return checked


def _check_alt(alt: Any) -> str:
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must be a non-empty description of the figure (for screen readers)")
    return alt.strip()


def _check_caption(caption: Any) -> str | None:
    if caption is not None and not isinstance(caption, str):
        raise TypeError(f"caption must be None or a string, got {type(caption).__name__}")
    return caption


class SliderFigure:
    """A Matplotlib figure with sliders, live in Jupyter and precomputed in the book.

    ``draw(**params)`` returns a new ``matplotlib.figure.Figure`` for one setting;
    ``sliders`` maps each parameter name to its values, in order: numbers give a
    slider, strings a selector. The figure starts at the first value of each.
    The static book stores one PNG frame per combination, so keep the product of
    the list lengths small (at most ``MAX_FRAMES``) and the figures small.

    >>> SliderFigure(draw, {"d_model": [16, 32, 64], "scale": ["yes", "no"]},
    ...              alt="Attention weights as d_model grows")        # doctest: +SKIP
    """

    def __init__(self, draw: Callable[..., Any], sliders: Mapping[str, Sequence[Any]], *,
                 alt: str, caption: str | None = None) -> None:
        if not callable(draw):
            raise TypeError("draw must be a function draw(**params) -> matplotlib Figure")
        self.draw = draw
        self.sliders = _check_sliders(sliders)
        self.alt = _check_alt(alt)
        self.caption = _check_caption(caption)
        self._frames: list[str] | None = None
        self.labels = [[_format_value(v) for v in values] for values in self.sliders.values()]
        # The id depends on the text only, not on the pixels (which nbval does not compare).
        self.content_id = _content_id("tfs-sf", self.alt, self.caption, list(self.sliders),
                                      self.labels)

    # -- the grid of settings -------------------------------------------------------
    @property
    def combinations(self) -> list[dict[str, Any]]:
        """Every setting, in frame order: the last slider varies fastest."""
        names = list(self.sliders)
        return [dict(zip(names, values, strict=True)) for values in itertools.product(*self.sliders.values())]

    def frame_index(self, **params: Any) -> int:
        """The frame shown for a setting (the same rule as the page's JavaScript)."""
        index = 0
        for name, values in self.sliders.items():
            index = index * len(values) + values.index(params[name])
        return index

    def _render(self, params: Mapping[str, Any], dpi: int = FRAME_DPI) -> bytes:
        """Draw one setting and return it as an optimised (palette) PNG."""
        fig = self.draw(**params)
        if not hasattr(fig, "savefig"):
            raise TypeError(f"draw(**{dict(params)!r}) returned {type(fig).__name__}, "
                            "not a matplotlib Figure")
        try:
            return figure_png(fig, dpi=dpi)
        finally:
            plt.close(fig)

    @property
    def frames(self) -> list[str]:
        """The PNG frames as data URIs, one per combination (computed once)."""
        if self._frames is None:
            self._frames = ["data:image/png;base64," + base64.b64encode(self._render(p)).decode()
                            for p in self.combinations]
        return self._frames

    # -- renderings -----------------------------------------------------------------
    def to_html(self) -> str:
        """The self-contained static version: frames, controls and inline JavaScript."""
        frames, labels = self.frames, self.labels
        controls = []
        for i, (name, values) in enumerate(self.sliders.items()):
            if isinstance(values[0], str):
                options = "".join(f'<option value="{j}">{html.escape(v)}</option>'
                                  for j, v in enumerate(values))
                control = (f'<select data-tfs-control="{i}" aria-label="{html.escape(name)}">'
                           f"{options}</select>")
            else:
                control = (f'<input type="range" data-tfs-control="{i}" min="0" '
                           f'max="{len(values) - 1}" step="1" value="0" '
                           f'aria-label="{html.escape(name)}" style="vertical-align:middle">')
            # A slider shows its value beside it; a selector shows it in itself.
            value = "" if isinstance(values[0], str) else f" <output>{html.escape(labels[i][0])}</output>"
            controls.append(
                f'<label style="margin-right:1.5em;white-space:nowrap"><code>{html.escape(name)}'
                f"</code> {control}{value}</label>")
        caption = (f'<figcaption style="font-size:0.9em">{html.escape(self.caption)}</figcaption>'
                   if self.caption else "")
        # Each frame is stored once: the first is the <img>'s own source, so the data
        # holds null in its place and the script fills it in.
        data = {"sizes": [len(v) for v in self.sliders.values()], "labels": labels,
                "frames": [None] + frames[1:]}
        return (
            f'<div class="tfs-widget tfs-slider-figure" id="{self.content_id}" '
            f'data-tfs-version="{HTML_VERSION}" '
            f'data-frames="{len(frames)}">\n'
            f'<figure style="margin:0"><img class="tfs-frame" src="{frames[0]}" '
            f'alt="{html.escape(self.alt)}" style="max-width:100%;height:auto">{caption}</figure>\n'
            f'<div class="tfs-controls">{"".join(controls)}</div>\n'
            f'<script type="application/json" class="tfs-data">{_script_json(data)}</script>\n'
            f"<script>{_SLIDER_JS}</script>\n</div>"
        )

    def _widget(self, model_id: str | None = None):
        """The live ipywidgets view: controls plus an Image widget that is redrawn in
        Python. (An Image rather than an Output widget: setting its value sends no
        display message, so the cell's stored outputs stay the same under nbval.)
        ``model_id`` names the outer box (``None``: a random id)."""
        import ipywidgets as widgets

        controls = {}
        for name, values in self.sliders.items():
            if isinstance(values[0], str):
                controls[name] = widgets.Dropdown(options=values, value=values[0], description=name)
            else:
                controls[name] = widgets.SelectionSlider(
                    options=[(_format_value(v), v) for v in values], value=values[0],
                    description=name, continuous_update=False)
        image = widgets.Image(format="png")

        def redraw(_change=None):
            image.value = self._render({name: c.value for name, c in controls.items()}, dpi=LIVE_DPI)

        for control in controls.values():
            control.observe(redraw, names="value")
        redraw()
        parts = [widgets.HBox(list(controls.values())), image]
        if self.caption:
            parts.append(widgets.HTML(f"<em>{html.escape(self.caption)}</em>"))
        return widgets.VBox(parts, model_id=model_id)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {len(v)}" for name, v in self.sliders.items())
        return f"<SliderFigure {self.alt!r} ({sizes}; {len(self.combinations)} frames)>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return _bundle(self, self._widget)


def _bundle(obj: Any, make_widget: Callable[[str], Any]) -> dict[str, Any]:
    """text/plain + text/html (the static book) + the ipywidgets view (Jupyter),
    whose model id is derived from the content (:func:`_model_id`)."""
    bundle = {"text/plain": repr(obj), "text/html": obj.to_html()}
    try:
        view = make_widget(_model_id(obj.content_id))._repr_mimebundle_()
    except ImportError:  # no ipywidgets: the HTML version still works
        return bundle
    if view and WIDGET_VIEW in view:
        bundle[WIDGET_VIEW] = view[WIDGET_VIEW]
    return bundle


# The page's JavaScript. Each <script> finds its own widget through
# document.currentScript, so ids never need to be unique and nothing is global.
_SLIDER_JS = """(function () {
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector("script.tfs-data").textContent);
  var img = root.querySelector("img.tfs-frame");
  data.frames[0] = img.getAttribute("src");  // stored once, as the image's source
  var controls = root.querySelectorAll("[data-tfs-control]");
  function update() {
    var index = 0;
    controls.forEach(function (c, i) {
      var pos = c.tagName === "SELECT" ? c.selectedIndex : parseInt(c.value, 10);
      index = index * data.sizes[i] + pos;
      var output = c.parentElement.querySelector("output");
      if (output) output.textContent = data.labels[i][pos];
    });
    img.src = data.frames[index];
  }
  controls.forEach(function (c) {
    c.addEventListener("input", update);
    c.addEventListener("change", update);
  });
  update();
})();"""
