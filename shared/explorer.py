"""The next-token explorer of Chapter 8: the model's next-token distribution, with sliders.

    NextTokenExplorer(token_strings, logits, alt="...", caption="...")   # last line of a cell

It is a slider figure like those of :mod:`shared.widgets`, with the same two renderings:
in Jupyter, ipywidgets sliders for temperature, top-k and top-p that recompute the bars
with :func:`shared.generation.next_token_probs`; in the static book, the logits stored in
the page and a few lines of JavaScript that apply the same rule when a slider moves.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import torch

from .generation import next_token_probs
from .plotting import token_labels
from .widgets import HTML_VERSION, _bundle, _check_alt, _check_caption, _content_id, _script_json

__all__ = ["NextTokenExplorer"]


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
        try:
            logits = torch.as_tensor(logits).detach().float().cpu()
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"logits must be a tensor or list of numbers, got {type(logits).__name__}: {err}"
                            ) from None
        if isinstance(max_bars, bool) or not isinstance(max_bars, int) or max_bars < 1:
            raise ValueError(f"max_bars must be an integer >= 1 (how many tokens to draw), got {max_bars!r}")
        if isinstance(tokens, str) or not isinstance(tokens, Sequence):
            raise TypeError(f"tokens must be a list of token strings, one per logit, got {type(tokens).__name__}")
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
        self.caption = _check_caption(caption)
        self.max_top_k = min(len(tokens), 20)
        order = torch.sort(logits, descending=True, stable=True).indices
        self.shown = order[:max_bars].tolist()  # indices of the tokens drawn as bars
        # The id depends on the text, not on the logits: their last digit can round either
        # way on another CPU (nbval compares those numbers within a tolerance instead).
        self.content_id = _content_id("tfs-nt", self.alt, self.caption, self.tokens, self.shown)

    def probs(self, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
        """Probabilities of every token; ``top_k=0`` and ``top_p=1`` mean no filter."""
        return next_token_probs(self.logits, float(temperature), int(top_k) or None,
                                None if top_p >= 1.0 - 1e-9 else float(top_p))

    def _bars_html(self, probs: torch.Tensor) -> str:
        labels = token_labels([self.tokens[i] for i in self.shown])
        rows = []
        for label, i in zip(labels, self.shown, strict=True):
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
        logits = [round(float(x), 4) for x in self.logits]  # 4 decimals, short JSON
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
            f'<div class="tfs-widget tfs-token-explorer" id="{self.content_id}" '
            f'data-tfs-version="{HTML_VERSION}">\n'
            f'<div class="tfs-controls">{controls}</div>\n'
            f'<div class="tfs-bars" role="img" aria-label="{html.escape(self.alt)}" '
            f'style="max-width:40em">{self._bars_html(self.probs())}</div>{self._captions()}\n'
            f'<script type="application/json" class="tfs-data">{_script_json(data)}</script>\n'
            f"<script>{_EXPLORER_JS}</script>\n</div>"
        )

    def _widget(self, model_id: str | None = None):
        """The live ipywidgets view: three sliders; the bars are recomputed in Python.
        ``model_id`` names the outer box (``None``: a random id)."""
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
        return widgets.VBox(parts, model_id=model_id)

    def __repr__(self) -> str:
        return f"<NextTokenExplorer {self.alt!r} ({len(self.tokens)} tokens)>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return _bundle(self, self._widget)


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
