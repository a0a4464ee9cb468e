"""Slider figures that work both in Jupyter and in the static book.

A chapter displays one of these objects as the last expression of a cell. It then
carries two renderings of itself:

* in Jupyter or Colab, a live view: ipywidgets sliders and selectors that recompute
  the figure in Python (``application/vnd.jupyter.widget-view+json``);
* in the HTML book, which has no kernel, a self-contained ``text/html`` version:
  the figure precomputed for every combination of slider values (PNG frames, or for
  :class:`NextTokenExplorer` the logits themselves) and a few lines of inline
  JavaScript that swap frames or recompute the bars when a slider moves. It loads
  nothing from the network and several of them can share one page.

``_config.yml`` tells the book to prefer the HTML version
(``nb_mime_priority_overrides``). The HTML is deterministic (element ids come from
a hash of the content), so nbval can compare stored outputs; ``tests/sanitize.cfg``
replaces the PNG payloads before comparing.

* :class:`SliderFigure`       ``draw(**params) -> Figure`` over a small grid of values
* :class:`NextTokenExplorer`  the next-token distribution under temperature, top-k and top-p
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import numbers
from typing import Any, Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import torch

from .generation import next_token_probs
from .plotting import token_labels

__all__ = ["HTML_VERSION", "MAX_FRAMES", "SliderFigure", "NextTokenExplorer"]

# Bump whenever the HTML these classes write changes: stored chapter outputs made by an
# older version must be re-executed (tests/test_widgets.py names them).
HTML_VERSION = 2
MAX_FRAMES = 24  # frames of one SliderFigure: each one is a PNG stored in the page
FRAME_DPI = 80  # PNG frames stay light: a 7-inch figure is 560 pixels wide

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _script_json(obj: Any) -> str:
    """JSON that is safe inside an inline <script> element."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text.replace("</", "<\\/")


def _content_id(prefix: str, *parts: Any) -> str:
    """A deterministic element id derived from the content (no random ids)."""
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:12]
    return f"{prefix}-{digest}"


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
        self.caption = caption
        self._frames: list[str] | None = None

    # -- the grid of settings -------------------------------------------------------
    @property
    def combinations(self) -> list[dict[str, Any]]:
        """Every setting, in frame order: the last slider varies fastest."""
        names = list(self.sliders)
        return [dict(zip(names, values)) for values in itertools.product(*self.sliders.values())]

    def frame_index(self, **params: Any) -> int:
        """The frame shown for a setting (the same rule as the page's JavaScript)."""
        index = 0
        for name, values in self.sliders.items():
            index = index * len(values) + values.index(params[name])
        return index

    def _render(self, params: Mapping[str, Any], dpi: int = FRAME_DPI) -> bytes:
        fig = self.draw(**params)
        if not hasattr(fig, "savefig"):
            raise TypeError(f"draw(**{dict(params)!r}) returned {type(fig).__name__}, "
                            "not a matplotlib Figure")
        buffer = io.BytesIO()
        try:
            fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        finally:
            plt.close(fig)
        return buffer.getvalue()

    @property
    def frames(self) -> list[str]:
        """The PNG frames as data URIs (computed once)."""
        if self._frames is None:
            self._frames = ["data:image/png;base64," + base64.b64encode(self._render(p)).decode()
                            for p in self.combinations]
        return self._frames

    # -- renderings -----------------------------------------------------------------
    def to_html(self) -> str:
        """The self-contained static version: frames, controls and inline JavaScript."""
        frames = self.frames
        labels = [[_format_value(v) for v in values] for values in self.sliders.values()]
        # The id depends on the text only, not on the pixels (which nbval does not compare).
        root_id = _content_id("tfs-sf", self.alt, self.caption, list(self.sliders), labels)
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
        data = {"sizes": [len(v) for v in self.sliders.values()], "labels": labels,
                "frames": frames}
        return (
            f'<div class="tfs-widget tfs-slider-figure" id="{root_id}" data-tfs-version="{HTML_VERSION}" '
            f'data-frames="{len(frames)}">\n'
            f'<figure style="margin:0"><img class="tfs-frame" src="{frames[0]}" '
            f'alt="{html.escape(self.alt)}" style="max-width:100%;height:auto">{caption}</figure>\n'
            f'<div class="tfs-controls">{"".join(controls)}</div>\n'
            f'<script type="application/json" class="tfs-data">{_script_json(data)}</script>\n'
            f"<script>{_SLIDER_JS}</script>\n</div>"
        )

    def _widget(self):
        """The live ipywidgets view: controls plus an Image widget that is redrawn in
        Python. (An Image rather than an Output widget: setting its value sends no
        display message, so the cell's stored outputs stay the same under nbval.)"""
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
            image.value = self._render({name: c.value for name, c in controls.items()}, dpi=100)

        for control in controls.values():
            control.observe(redraw, names="value")
        redraw()
        parts = [widgets.HBox(list(controls.values())), image]
        if self.caption:
            parts.append(widgets.HTML(f"<em>{html.escape(self.caption)}</em>"))
        return widgets.VBox(parts)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {len(v)}" for name, v in self.sliders.items())
        return f"<SliderFigure {self.alt!r} ({sizes}; {len(self.combinations)} frames)>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return _bundle(self, self._widget)


class NextTokenExplorer:
    """Bars of the next-token distribution with temperature, top-k and top-p sliders.

    ``tokens[i]`` is the string of the token whose logit is ``logits[i]``. The
    probabilities are those of :func:`shared.generation.next_token_probs`: computed
    in Python in Jupyter, and by the same rule in the page's JavaScript in the book
    (all the logits are stored in the page, so pass at most a few thousand). The
    logits are rounded to 4 decimals (stable stored outputs). The ``max_bars``
    tokens with the highest logits are drawn, in a fixed order.
    """

    TEMPERATURE = (0.1, 2.0, 0.05)  # min, max, step of the sliders
    TOP_P = (0.05, 1.0, 0.05)  # 1.0 keeps every token (top_p=None)

    def __init__(self, tokens: Sequence[str], logits: torch.Tensor, *, alt: str,
                 max_bars: int = 12, caption: str | None = None) -> None:
        logits = torch.as_tensor(logits).detach().float().cpu()
        if logits.dim() != 1:
            raise ValueError(f"logits must be 1-D (one score per token), got shape {tuple(logits.shape)}")
        tokens = list(tokens)
        if len(tokens) != logits.numel() or not tokens:
            raise ValueError(f"got {len(tokens)} tokens for {logits.numel()} logits: "
                             "give one token string per logit")
        if not all(isinstance(t, str) for t in tokens):
            raise TypeError("tokens must be strings")
        if not torch.isfinite(logits).all():
            raise ValueError("logits must be finite")
        self.tokens = tokens
        # Rounded to 4 decimals, in Python and in the page alike: the stored output stays
        # the same across machines, and the change to the probabilities is negligible.
        self.logits = torch.round(logits, decimals=4)
        self.alt = _check_alt(alt)
        self.caption = caption
        self.max_top_k = min(len(tokens), 20)
        order = torch.sort(logits, descending=True, stable=True).indices
        self.shown = order[:max_bars].tolist()  # indices of the tokens drawn as bars

    def probs(self, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
        """Probabilities of every token; ``top_k=0`` and ``top_p=1`` mean no filter."""
        return next_token_probs(self.logits, float(temperature), int(top_k) or None,
                                None if top_p >= 1.0 - 1e-9 else float(top_p))

    def _bars_html(self, probs: torch.Tensor) -> str:
        labels = token_labels([self.tokens[i] for i in self.shown])
        rows = []
        for label, i in zip(labels, self.shown):
            p = float(probs[i])
            rows.append(
                '<div style="display:flex;align-items:center;gap:0.5em;margin:1px 0">'
                f'<code style="flex:0 0 9em;text-align:right;overflow:hidden">{html.escape(label)}</code>'
                '<div style="flex:1 1 auto;background:#eee;height:1.1em">'
                f'<div class="tfs-bar" style="width:{100 * p:.2f}%;height:100%;background:#0072B2">'
                f'</div></div><span class="tfs-prob" style="flex:0 0 4em;font-family:monospace">'
                f"{p:.4f}</span></div>")
        return "".join(rows)

    def _captions(self) -> str:
        return (f'<div style="font-size:0.9em">{html.escape(self.caption)}</div>'
                if self.caption else "")

    def to_html(self) -> str:
        """The self-contained static version: sliders, bars and inline JavaScript."""
        logits = [round(float(x), 4) for x in self.logits]
        root_id = _content_id("tfs-nt", self.alt, self.caption, self.tokens, logits, self.shown)
        t_min, t_max, t_step = self.TEMPERATURE
        p_min, p_max, p_step = self.TOP_P
        sliders = [
            ("temperature", f'min="{t_min}" max="{t_max}" step="{t_step}" value="1"', "1"),
            ("top_k", f'min="0" max="{self.max_top_k}" step="1" value="0"', "off"),
            ("top_p", f'min="{p_min}" max="{p_max}" step="{p_step}" value="1"', "off"),
        ]
        controls = "".join(
            f'<label style="margin-right:1.5em;white-space:nowrap"><code>{name}</code> '
            f'<input type="range" data-tfs-param="{name}" {attrs} aria-label="{name}" '
            f'style="vertical-align:middle"> <output>{shown}</output></label>'
            for name, attrs, shown in sliders)
        data = {"logits": logits, "shown": self.shown}
        return (
            f'<div class="tfs-widget tfs-token-explorer" id="{root_id}" data-tfs-version="{HTML_VERSION}">\n'
            f'<div class="tfs-controls">{controls}</div>\n'
            f'<div class="tfs-bars" role="img" aria-label="{html.escape(self.alt)}" '
            f'style="max-width:40em">{self._bars_html(self.probs())}</div>{self._captions()}\n'
            f'<script type="application/json" class="tfs-data">{_script_json(data)}</script>\n'
            f"<script>{_EXPLORER_JS}</script>\n</div>"
        )

    def _widget(self):
        """The live ipywidgets view: three sliders; the bars are recomputed in Python."""
        import ipywidgets as widgets

        t_min, t_max, t_step = self.TEMPERATURE
        p_min, p_max, p_step = self.TOP_P
        temperature = widgets.FloatSlider(value=1.0, min=t_min, max=t_max, step=t_step,
                                          description="temperature")
        top_k = widgets.IntSlider(value=0, min=0, max=self.max_top_k, description="top_k (0=off)")
        top_p = widgets.FloatSlider(value=1.0, min=p_min, max=p_max, step=p_step,
                                    description="top_p")
        bars = widgets.HTML()

        def update(_change=None):
            probs = self.probs(temperature.value, top_k.value, top_p.value)
            bars.value = f'<div style="max-width:40em">{self._bars_html(probs)}</div>'

        for control in (temperature, top_k, top_p):
            control.observe(update, names="value")
        update()
        parts = [widgets.HBox([temperature, top_k, top_p]), bars]
        if self.caption:
            parts.append(widgets.HTML(self._captions()))
        return widgets.VBox(parts)

    def __repr__(self) -> str:
        return f"<NextTokenExplorer {self.alt!r} ({len(self.tokens)} tokens)>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return _bundle(self, self._widget)


def _bundle(obj: SliderFigure | NextTokenExplorer, make_widget: Callable[[], Any]) -> dict[str, Any]:
    """text/plain + text/html (the static book) + the ipywidgets view (Jupyter)."""
    bundle = {"text/plain": repr(obj), "text/html": obj.to_html()}
    try:
        view = make_widget()._repr_mimebundle_()
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

# The same rule as shared.generation.next_token_probs: softmax(logits / T), keep the
# top_k most likely tokens, renormalise, keep the smallest set of most likely tokens
# whose mass reaches top_p (a token stays while the mass before it is < top_p),
# renormalise. The page exposes it as window.tfsNextTokenProbs for the tests.
_EXPLORER_JS = """(function () {
  function nextTokenProbs(logits, temperature, topK, topP) {
    var n = logits.length, i, max = -Infinity, sum = 0;
    var probs = logits.map(function (x) { return x / temperature; });
    for (i = 0; i < n; i++) max = Math.max(max, probs[i]);
    for (i = 0; i < n; i++) { probs[i] = Math.exp(probs[i] - max); sum += probs[i]; }
    for (i = 0; i < n; i++) probs[i] /= sum;
    function order() {
      var idx = probs.map(function (_, j) { return j; });
      return idx.sort(function (a, b) { return probs[b] - probs[a] || a - b; });
    }
    function keepOnly(keep) {
      var total = 0;
      for (i = 0; i < n; i++) { if (!keep[i]) probs[i] = 0; total += probs[i]; }
      for (i = 0; i < n; i++) probs[i] /= total;
    }
    if (topK && topK < n) {
      var keepK = new Array(n).fill(false);
      order().slice(0, topK).forEach(function (j) { keepK[j] = true; });
      keepOnly(keepK);
    }
    if (topP !== null && topP < 1) {
      var keepP = new Array(n).fill(false), before = 0;
      order().forEach(function (j) { keepP[j] = before < topP; before += probs[j]; });
      keepOnly(keepP);
    }
    return probs;
  }
  window.tfsNextTokenProbs = nextTokenProbs;
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector("script.tfs-data").textContent);
  var inputs = {};
  root.querySelectorAll("[data-tfs-param]").forEach(function (el) {
    inputs[el.dataset.tfsParam] = el;
  });
  var bars = root.querySelectorAll(".tfs-bar"), texts = root.querySelectorAll(".tfs-prob");
  function update() {
    var t = parseFloat(inputs.temperature.value);
    var k = parseInt(inputs.top_k.value, 10);
    var p = parseFloat(inputs.top_p.value);
    inputs.temperature.parentElement.querySelector("output").textContent = String(t);
    inputs.top_k.parentElement.querySelector("output").textContent = k ? String(k) : "off";
    inputs.top_p.parentElement.querySelector("output").textContent = p < 1 ? String(p) : "off";
    var probs = nextTokenProbs(data.logits, t, k || null, p < 1 ? p : null);
    data.shown.forEach(function (j, row) {
      bars[row].style.width = (100 * probs[j]).toFixed(2) + "%";
      texts[row].textContent = probs[j].toFixed(4);
    });
  }
  Object.keys(inputs).forEach(function (name) {
    inputs[name].addEventListener("input", update);
  });
})();"""
