"""From logits to the next token (Chapter 8), in ``shared.generation``'s order: ÷ temperature,
softmax, top-k, top-p, then one draw. The bars are computed by ``next_token_probs`` itself."""

from __future__ import annotations

from scripts.figures.palette import BLUE, GREY_EDGE, GREY_FILL, INK, MUTED, ORANGE, SKY, VERMILLION, tint
from scripts.figures.strings import translator
from scripts.figures.svg import Svg

#: A made-up example: six candidate tokens and their logits, and the settings applied.
WORDS = ["sale", "deal", "client", "price", "offer", "idea"]
LOGITS = [2.0, 1.6, 1.1, 0.4, -0.2, -1.0]
TEMPERATURE, TOP_K, TOP_P = 0.8, 4, 0.8


def stages() -> list[list[float]]:
    """The bars of each panel: the logits, the logits ÷ temperature, then the distribution after
    softmax, after top-k and after top-p (each from ``shared.generation.next_token_probs``)."""
    import torch

    from shared.generation import next_token_probs

    logits = torch.tensor([LOGITS])
    scaled = [v / TEMPERATURE for v in LOGITS]
    probs = [next_token_probs(logits, TEMPERATURE, *extra)[0].tolist()
             for extra in [(None, None), (TOP_K, None), (TOP_K, TOP_P)]]
    return [list(LOGITS), scaled, *probs]


def sampling_pipeline(language: str = "en") -> Svg:
    """Six panels left to right, each a small bar chart over the same six candidate tokens."""
    _ = translator(language)
    bars = stages()
    sampled = 1  # the example's draw: not always the most likely token
    s = Svg(800, 470, _("The sampling pipeline, from logits to one token"),
            _("Six panels over the same six candidate tokens. The logits are divided by the temperature; "
              "a softmax turns them into probabilities; top-k keeps the k most likely tokens and "
              "renormalises; top-p keeps the smallest set of most likely tokens whose probability reaches "
              "p and renormalises; one token is drawn from what is left and appended to the sequence. "
              "greedy=True skips all of this and takes the largest logit."), language)
    s.text(24, 36, _("From logits to the next token: the order of shared.generation"), size=16, bold=True,
           anchor="start")
    s.text(24, 58, _("a made-up example over six candidate tokens: temperature {temperature}, "
                     "top_k {k}, top_p {p}", temperature=TEMPERATURE, k=TOP_K, p=TOP_P),
           size=12, anchor="start", fill=MUTED)
    panels = [("logits", _("the last position's"), _("scores, any sign")),
              (_("÷ temperature"), f"logits / {TEMPERATURE}", _("sharper below 1")),
              ("softmax", _("probabilities, sum 1"), None),
              ("top-k", _("keep {k} most likely", k=TOP_K), _("renormalise")),
              ("top-p", _("fewest with mass"), _("≥ {p}; renormalise", p=TOP_P)),
              (_("sample"), "torch.multinomial", _("one id"))]
    pw, gap, x0 = 118, 8.4, 24
    top, base_h = 86, 120  # the panel's top, the bar area's height
    for p, (name, what, extra) in enumerate(panels):
        x = x0 + p * (pw + gap)
        s.rect(x, top, pw, 290, fill=tint(SKY, 0.08), stroke=GREY_EDGE, width=1, rx=8)
        s.text(x + pw / 2, top + 22, name, size=12.5, bold=True)
        s.text(x + pw / 2, top + 40, what, size=10.5, mono=p in (1, 5), fill=INK if p in (1, 5) else MUTED)
        if extra:
            s.text(x + pw / 2, top + 55, extra, size=10.5, fill=MUTED)
        if p < len(panels) - 1:
            s.arrow([(x + pw + 1, top + 150), (x + pw + gap - 1, top + 150)], head=6, width=1.4)
        values = bars[min(p, len(bars) - 1)]
        signed = p < 2
        scale = max(abs(v) for v in values) if signed else 1.0
        zero = top + 70 + (base_h * 0.62 if signed else base_h)  # the baseline of the bars
        height = base_h * (0.62 if signed else 1.0)
        bw = 14
        for i, v in enumerate(values):
            bx = x + 10 + i * (bw + 3.6)
            h = abs(v) / scale * height * (0.95 if signed else 1.0)
            if p == 5:
                colour = VERMILLION if i == sampled else (BLUE if v > 0 else GREY_FILL)
            else:
                colour = (ORANGE if signed else BLUE) if (v > 0 or signed) else GREY_FILL
            if v == 0 and not signed:
                s.rect(bx, zero - 2, bw, 2, fill=GREY_EDGE)
            else:
                s.rect(bx, zero - h if v >= 0 else zero, bw, max(h, 1), fill=tint(colour, 0.75),
                       stroke=colour, width=1)
            s.text(bx + bw / 2 + 3, zero + (54 if signed else 8) + 4, WORDS[i], size=9.5, anchor="end",
                   rotate=-60, fill=INK if v != 0 or signed else MUTED)
        s.polyline([(x + 6, zero), (x + pw - 6, zero)], colour=GREY_EDGE, width=1)
        if not signed:
            kept = sum(1 for v in values if v > 0)
            label = _("{kept} of {n} left", kept=kept, n=len(values)) if p in (3, 4) else (
                _("sum = 1") if p == 2 else "")
            if p == 5:
                label = _("e.g. “{word}”", word=WORDS[sampled])
            s.text(x + pw / 2, top + 274, label, size=10.5, fill=MUTED if p < 5 else INK, bold=p == 5)
    notes = _("Tokens set to zero (grey) can no longer be drawn; the draw appends its id to the sequence,\n"
              "the next step's input. greedy=True skips all of this: the argmax of the logits. The book model's\n"
              "<unk> output is set to −∞ before any of it (generate(..., suppress=(vocab.unk_id,))).").split("\n")
    s.lines(24, 408, notes, size=11.5, anchor="start", leading=17, fill=MUTED)
    return s
