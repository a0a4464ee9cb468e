"""Splitting queries, keys and values into heads and joining the heads back (Chapter 6), as
``shared.model.MultiHeadAttention`` does it, with the shape after every step. The sizes are
read from ``GPTConfig()``."""

from __future__ import annotations

from scripts.figures.palette import (
    BLUE,
    GREEN,
    GREY_EDGE,
    INK,
    LINE,
    MUTED,
    ORANGE,
    PURPLE,
    SHAPE_TEXT,
    VERMILLION,
    tint,
)
from scripts.figures.strings import translator
from scripts.figures.svg import Svg, shape

HEAD_COLOURS = [BLUE, ORANGE, GREEN, PURPLE]


def book_sizes() -> tuple[int, int, int, int]:
    """``d_model``, ``n_heads``, ``d_head`` and ``context_length`` of the book's ``GPTConfig()``."""
    from shared.model import GPTConfig

    cfg = GPTConfig()
    return cfg.d_model, cfg.n_heads, cfg.d_head, cfg.context_length


def channel_bar(s: Svg, x: float, y: float, n_heads: int, d_head: int, px: float, h: float = 22,
                labels: bool = True) -> None:
    """One token's channels, coloured by the head they belong to."""
    for i in range(n_heads):
        colour = HEAD_COLOURS[i % len(HEAD_COLOURS)]
        s.rect(x + i * d_head * px, y, d_head * px, h, fill=tint(colour, 0.35), stroke=colour, width=1.2)
        if labels:
            s.text(x + (i + 0.5) * d_head * px, y + h / 2 + 4, f"h{i}", size=11, bold=True)


def head_tables(s: Svg, x: float, y: float, n_heads: int, causal: bool, label: str = "head {i}") -> None:
    """``n_heads`` small (T, d_head) tables side by side (with a causal triangle: attention), each
    named by ``label`` (a template of the head's number ``i``)."""
    w, h, gap = 44, 40, 12
    for i in range(n_heads):
        colour = HEAD_COLOURS[i % len(HEAD_COLOURS)]
        xi = x + i * (w + gap)
        s.rect(xi, y, w, h, fill=tint(colour, 0.3), stroke=colour, width=1.2)
        if causal:
            s.polygon([(xi + 4, y + 4), (xi + 4, y + h - 4), (xi + w - 4, y + h - 4)], fill=tint(colour, 0.75))
        else:
            for r in range(1, 4):
                s.polyline([(xi, y + r * h / 4), (xi + w, y + r * h / 4)], colour="#ffffff", width=1.2)
        s.text(xi + w / 2, y + h + 13, label.format(i=i), size=10.5, fill=MUTED)


def multi_head_split(language: str = "en") -> Svg:
    """Seven rows: the step, its code, a sketch of one token's channels, and the shape after it."""
    _ = translator(language)
    C, H, D, T = book_sizes()
    s = Svg(800, 640, _("Splitting into heads and joining them back"), _(
            "The input x of shape (B, T, C) is projected to queries, keys and values, each (B, T, C). "
            "view cuts each token's C = {C} channels into n_heads = {H} groups of d_head = {D}: "
            "(B, T, n_heads, d_head). transpose(1, 2) puts the heads before the tokens: (B, n_heads, T, "
            "d_head), so each head attends on its own channels. After attention, transpose(1, 2) and "
            "view(B, T, C) lay the heads side by side again, and the output projection proj mixes them "
            "into (B, T, C).", C=C, H=H, D=D), language)
    s.text(24, 36, _("Multi-head attention: split into heads, attend, join back"), size=16, bold=True,
           anchor="start")
    s.text(24, 58, _("C = d_model = n_heads × d_head;  the book's GPTConfig(): {C} = {H} × {D},  "
                     "T ≤ context_length = {T}", C=C, H=H, D=D, T=T), size=12, anchor="start", fill=MUTED)
    px = 3.5  # px per channel
    sx = 345  # the sketches' left edge
    rows = [(_("input"), [_("x  (after ln1)")], "(B, T, C)", f"(B, {T}, {C})"),
            (_("queries, keys, values"), ["q, k, v = self.qkv(x)", ".split(C, dim=2)"],
             "q, k, v: (B, T, C)", _("each (B, {T}, {C})", T=T, C=C)),
            (_("split into heads"), ["q.view(B, T, n_heads, d_head)"], "(B, T, n_heads, d_head)",
             f"(B, {T}, {H}, {D})"),
            (_("heads before tokens"), [".transpose(1, 2)"], "(B, n_heads, T, d_head)", f"(B, {H}, {T}, {D})"),
            (_("attention, per head"), ["F.scaled_dot_product_attention(", "q, k, v, is_causal=True)"],
             "(B, n_heads, T, d_head)", _("y: each head on its own")),
            (_("join the heads"), ["y.transpose(1, 2)", ".contiguous().view(B, T, C)"], "(B, T, C)",
             _("(B, {T}, {C}): concatenated", T=T, C=C)),
            (_("output projection"), ["self.proj(y)  # W^O, C → C"], "(B, T, C)", _("mixes the heads"))]
    top, pitch = 84, 76
    for r, (name, code, shp, note) in enumerate(rows):
        y = top + r * pitch
        if r % 2 == 0:
            s.rect(16, y - 4, 768, pitch - 4, fill=tint(INK, 0.03), rx=8)
        s.text(28, y + 16, name, size=13, bold=True, anchor="start")
        s.lines(28, y + 34, code, size=11, mono=True, anchor="start", leading=15)
        shape(s, 600, y + 24, shp)
        s.text(600, y + 42, note, size=11.5, anchor="start", fill=MUTED if r not in (0, 2, 3) else SHAPE_TEXT)
        ys = y + 8  # the sketch's top
        if r in (0, 5):
            channel_bar(s, sx, ys + 10, H, D, px)
            label = _("one token's {C} channels", C=C) if r == 0 else _("the heads side by side")
            s.text(sx + C * px / 2, ys + 46, label, size=10.5, fill=MUTED)
        elif r == 1:
            for j, letter in enumerate("qkv"):
                xj = sx + j * 78
                channel_bar(s, xj, ys + 10, H, D, 1.1, labels=False)
                s.text(xj + C * 1.1 / 2, ys + 46, letter, size=12, bold=True, mono=True)
        elif r == 2:
            for i in range(H):
                colour = HEAD_COLOURS[i % len(HEAD_COLOURS)]
                s.rect(sx + 30, ys + i * 13, D * px, 11, fill=tint(colour, 0.35), stroke=colour, width=1.1)
                s.text(sx + 24, ys + i * 13 + 10, f"h{i}", size=10, anchor="end", fill=INK)
            s.text(sx + 30 + D * px + 10, ys + 30, _("{H} rows of {D} per token", H=H, D=D), size=10.5, anchor="start",
                   fill=MUTED)
        elif r in (3, 4):
            head_tables(s, sx + 6, ys, H, causal=r == 4, label=_("head {i}"))
        else:
            s.rect(sx, ys + 10, C * px, 22, fill=tint(VERMILLION, 0.25), stroke=VERMILLION, width=1.2)
            s.text(sx + C * px / 2, ys + 25, _("every channel mixes all heads"), size=10.5)
    for r in range(len(rows) - 1):  # drawn over the rows' backgrounds
        y = top + r * pitch
        s.arrow([(sx + C * px / 2, y + pitch - 16), (sx + C * px / 2, y + pitch + 6)], head=6, width=1.4)
    s.polyline([(sx - 12, top - 2), (sx - 12, top + len(rows) * pitch - 10)], colour=GREY_EDGE, width=1)
    s.polyline([(590, top - 2), (590, top + len(rows) * pitch - 10)], colour=GREY_EDGE, width=1)
    s.text(sx + 150, 626, _("no numbers move in view and transpose: only how they are indexed"), size=11.5,
           fill=LINE)
    return s
