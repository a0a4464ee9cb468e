"""Draw the book's conceptual diagrams as SVG files (`make figures`).

    python scripts/make_figures.py [OUT_DIR] [--no-check]

OUT_DIR defaults to book/_static/figures/, where the committed copies live (the book
builds without running this script). tests/test_figures.py regenerates every diagram
into a scratch folder and checks that the committed files are byte-for-byte the same,
so a diagram cannot drift from this code: after changing it, run `make figures` and
commit the SVGs.

The SVG is written as text, not through Matplotlib, so the output depends on nothing
but this file. Every diagram

* sits on its own light, rounded panel, so it reads the same on the book's light and
  dark pages, in Jupyter and on GitHub;
* uses the Okabe-Ito colours (``shared.plotting.OKABE_ITO``), safe for the common
  colour-vision deficiencies, and never relies on colour alone (every part is labelled);
* names things as the book does: ``B, T, C``, ``d_model``, ``n_heads``, ``d_head``,
  ``context_length``, ``vocab_size`` and the attribute names of ``shared.model``;
* uses fonts found everywhere (DejaVu Sans, else Verdana, Arial or any sans-serif).

Before writing, each diagram checks its own layout: no two labels overlap, every label
stays on the panel, and coloured text keeps a contrast of at least 4.5 (WCAG AA) against
it. The check measures text with DejaVu Sans's metrics (through Matplotlib); a diagram
that fails it raises ``LayoutError`` (``--no-check`` writes it anyway, to look at).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from shared.checks import reference_merge_pair

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "book" / "_static" / "figures"

# Okabe & Ito (2008); the same list as shared.plotting.OKABE_ITO (tests check it).
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
INK = "#1a1a1a"  # text
MUTED = "#555555"  # secondary text
LINE = "#444444"  # arrows
PANEL, PANEL_EDGE = "#fbfbf9", "#c9c9c9"
GREY_FILL, GREY_EDGE = "#e4e4e4", "#9a9a9a"
SANS = "'DejaVu Sans', Verdana, Arial, Helvetica, sans-serif"
MONO = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"



def book_vocab_size() -> int:
    """The book model's number of outputs (Chapter 7's compact vocabulary, <unk> included)."""
    from shared.book import load_book_data

    return len(load_book_data()[0])

def shade(colour: str, amount: float) -> str:
    """``colour`` mixed with black: ``amount`` 0 is the colour, 1 black."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c * (1 - amount)):02x}" for c in rgb)


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21; text wants at least 4.5)."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted([luminance(fg), luminance(bg)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# Text in a hue: the Okabe-Ito colour darkened until it reads as text on the panel.
BLUE_TEXT, ORANGE_TEXT, GREEN_TEXT, VERMILLION_TEXT = (
    BLUE, shade(ORANGE, 0.4), shade(GREEN, 0.25), shade(VERMILLION, 0.2))
SHAPE_TEXT = "#20456b"  # tensor shapes


class LayoutError(ValueError):
    """A diagram's labels overlap or leave the panel."""


def tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` 0 is white, 1 the colour itself."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * amount):02x}" for c in rgb)


def num(v: float) -> str:
    """A coordinate as short, stable text (at most one decimal)."""
    v = round(v, 1)
    return str(int(v)) if v == int(v) else f"{v:.1f}"


# -- measuring text (for the layout check only; the output never depends on it) --------------
_measure_cache: dict[tuple[str, float, bool, bool], float] = {}


def text_width(s: str, size: float, mono: bool = False, bold: bool = False) -> float:
    """Width of ``s`` in px, set in DejaVu Sans (Mono) at ``size`` px."""
    key = (s, size, mono, bold)
    if key not in _measure_cache:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        prop = FontProperties(family="DejaVu Sans Mono" if mono else "DejaVu Sans",
                              weight="bold" if bold else "normal", size=size)
        width, _, _ = TextToPath().get_text_width_height_descent(s, prop, ismath=False)
        _measure_cache[key] = width
    return _measure_cache[key]


@dataclass
class Label:
    """Where a label's text lies: the four corners of its (possibly rotated) box."""

    text: str
    corners: list[tuple[float, float]]
    fill: str = INK

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The upright bounding box: x0, y0, x1, y1."""
        xs, ys = [p[0] for p in self.corners], [p[1] for p in self.corners]
        return min(xs), min(ys), max(xs), max(ys)

    def overlaps(self, other: Label, tolerance: float = 0.5) -> bool:
        """Whether the two boxes intersect (separating-axis test for convex shapes)."""
        for quad in (self.corners, other.corners):
            for i in range(4):
                (x0, y0), (x1, y1) = quad[i], quad[(i + 1) % 4]
                nx, ny = y1 - y0, x0 - x1  # normal of this edge
                norm = math.hypot(nx, ny)
                a = [(px * nx + py * ny) / norm for px, py in self.corners]
                b = [(px * nx + py * ny) / norm for px, py in other.corners]
                if max(a) <= min(b) + tolerance or max(b) <= min(a) + tolerance:
                    return False
        return True


@dataclass
class Svg:
    """A small SVG canvas: shapes and labels in px, a title and a description."""

    width: int
    height: int
    title: str
    desc: str
    parts: list[str] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rect(1, 1, self.width - 2, self.height - 2, fill=PANEL, stroke=PANEL_EDGE, rx=14)

    # shapes
    def rect(self, x: float, y: float, w: float, h: float, *, fill: str = "none",
             stroke: str = "none", width: float = 1.0, rx: float = 0, dash: str | None = None) -> None:
        extra = f' rx="{num(rx)}"' if rx else ""
        extra += f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{num(width)}"{extra}/>')

    def circle(self, cx: float, cy: float, r: float, *, fill: str, stroke: str, width: float = 1.5) -> None:
        self.parts.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}" fill="{fill}" '
                          f'stroke="{stroke}" stroke-width="{num(width)}"/>')

    def plus(self, cx: float, cy: float, r: float = 11, colour: str = LINE) -> None:
        """The circled plus of a residual addition."""
        self.circle(cx, cy, r, fill="#ffffff", stroke=colour, width=1.8)
        d = r * 0.55
        self.polyline([(cx - d, cy), (cx + d, cy)], colour=colour, width=1.8)
        self.polyline([(cx, cy - d), (cx, cy + d)], colour=colour, width=1.8)

    def polyline(self, points: Sequence[tuple[float, float]], *, colour: str = LINE,
                 width: float = 1.6, dash: str | None = None) -> None:
        pts = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                          f'stroke-width="{num(width)}" stroke-linejoin="round"{extra}/>')

    def arrow(self, points: Sequence[tuple[float, float]], *, colour: str = LINE,
              width: float = 1.6, head: float = 8.0, dash: str | None = None) -> None:
        """A line through ``points`` with an arrowhead at the last point."""
        (x0, y0), (x1, y1) = points[-2], points[-1]
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        bx, by = x1 - ux * head, y1 - uy * head  # base of the head
        self.polyline([*points[:-1], (bx + ux, by + uy)], colour=colour, width=width, dash=dash)
        half = head * 0.5
        tri = [(x1, y1), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
        pts = " ".join(f"{num(x)},{num(y)}" for x, y in tri)
        self.parts.append(f'<polygon points="{pts}" fill="{colour}"/>')

    # text
    def text(self, x: float, y: float, s: str, *, size: float = 13, anchor: str = "middle",
             mono: bool = False, bold: bool = False, italic: bool = False, fill: str = INK,
             rotate: float = 0.0, check: bool = True) -> None:
        """One line of text; ``y`` is the baseline. Recorded for the layout check."""
        attrs = [f'x="{num(x)}"', f'y="{num(y)}"', f'font-size="{num(size)}"']
        if mono:
            attrs.append(f'font-family="{MONO}"')
        if anchor != "start":
            attrs.append(f'text-anchor="{anchor}"')
        if bold:
            attrs.append('font-weight="bold"')
        if italic:
            attrs.append('font-style="italic"')
        if fill != INK:
            attrs.append(f'fill="{fill}"')
        if rotate:
            attrs.append(f'transform="rotate({num(rotate)} {num(x)} {num(y)})"')
        self.parts.append(f"<text {' '.join(attrs)}>{escape(s)}</text>")
        if not check:
            return
        w = text_width(s, size, mono, bold)
        x0 = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
        y0, y1 = y - 0.76 * size, y + 0.24 * size
        corners = [(x0, y0), (x0 + w, y0), (x0 + w, y1), (x0, y1)]
        if rotate:  # rotated around (x, y), as SVG does
            a = math.radians(rotate)
            corners = [(x + (px - x) * math.cos(a) - (py - y) * math.sin(a),
                        y + (px - x) * math.sin(a) + (py - y) * math.cos(a)) for px, py in corners]
        self.labels.append(Label(s, corners, fill))

    def lines(self, x: float, y: float, rows: Sequence[str], *, leading: float = 17, **kw) -> None:
        """Several lines of text, the first baseline at ``y``."""
        for i, row in enumerate(rows):
            self.text(x, y + i * leading, row, **kw)

    def box(self, x: float, y: float, w: float, h: float, rows: Sequence[tuple[str, dict]], *,
            colour: str, fill_amount: float = 0.2, rx: float = 7) -> None:
        """A rounded box in a tint of ``colour`` with centred lines of text."""
        self.rect(x, y, w, h, fill=tint(colour, fill_amount), stroke=colour, width=1.6, rx=rx)
        sizes = [kw.get("size", 13) for _, kw in rows]
        gap = 4
        total = sum(sizes) + gap * (len(rows) - 1)
        base = y + (h - total) / 2
        for (s, kw), size in zip(rows, sizes, strict=True):
            base += size
            self.text(x + w / 2, base - 0.12 * size, s, **kw)
            base += gap

    # output
    def check_layout(self) -> None:
        """Raise LayoutError if two labels overlap, one leaves the panel or is too faint."""
        margin, problems = 2.0, []
        for lab in self.labels:
            x0, y0, x1, y1 = lab.box
            if x0 < margin or y0 < margin or x1 > self.width - margin or y1 > self.height - margin:
                problems.append(f"label {lab.text!r} leaves the panel: {lab.box}")
            if contrast(lab.fill, PANEL) < 4.5:
                problems.append(f"label {lab.text!r}: colour {lab.fill} has contrast "
                                f"{contrast(lab.fill, PANEL):.2f} < 4.5 on the panel")
        for i, a in enumerate(self.labels):
            for b in self.labels[i + 1:]:
                if a.overlaps(b):
                    problems.append(f"labels {a.text!r} and {b.text!r} overlap")
        if problems:
            raise LayoutError(f"{self.title}:\n  " + "\n  ".join(problems))

    def render(self, name: str) -> str:
        """The SVG document; ``name`` is the function that drew it (named in a comment)."""
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" role="img" xml:space="preserve" font-family="{SANS}" '
                f'fill="{INK}">')
        return "\n".join([
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<!-- Drawn by scripts/make_figures.py ({name}); do not edit: run `make figures`. -->",
            head,
            f"<title>{escape(self.title)}</title>",
            f"<desc>{escape(self.desc)}</desc>",
            *self.parts,
            "</svg>",
            "",
        ])


def shape(s: Svg, x: float, y: float, text: str, anchor: str = "start", **kw) -> None:
    """A tensor shape label, in the code font."""
    s.text(x, y, text, size=12.5, mono=True, anchor=anchor, fill=kw.pop("fill", SHAPE_TEXT), **kw)


# == 1. The whole GPT =====================================================================
def gpt_data_flow() -> Svg:
    s = Svg(800, 905, "The GPT data flow, with tensor shapes",
            "Token ids of shape (B, T) go through the token embedding to (B, T, C); the position "
            "vectors (T, C) are added; n_layers Transformer blocks keep the shape (B, T, C), each "
            "adding multi-head attention and a feed-forward network to the residual stream after a "
            "layer norm; a final layer norm and a linear head give logits of shape (B, T, vocab_size).")
    cx, bw = 215, 236  # the main column: centre and box width
    left = cx - bw / 2
    s.text(24, 38, "GPT: from token ids to next-token scores", size=17, bold=True, anchor="start")
    s.text(24, 60, "B: batch size  ·  T: tokens per sequence (≤ context_length)  ·  C = d_model",
           size=12.5, anchor="start", fill=MUTED)

    s.box(left, 80, bw, 44, [("token ids  idx", {"bold": True})], colour=BLACK, fill_amount=0.06)
    s.arrow([(cx, 124), (cx, 156)])
    shape(s, cx + 10, 145, "(B, T)")
    s.box(left, 156, bw, 50, [("token embedding", {"bold": True}),
                              ("tok_emb: vocab_size × d_model", {"size": 11.5, "mono": True})],
          colour=SKY, fill_amount=0.3)
    s.arrow([(cx, 206), (cx, 237)])
    shape(s, cx + 10, 226, "(B, T, C)")
    s.plus(cx, 249)
    # positions, from the right
    px = 470
    s.box(px, 224, 250, 50, [("positions", {"bold": True}),
                             ("sinusoidal table or pos_emb", {"size": 11.5, "mono": True})],
          colour=SKY, fill_amount=0.3)
    s.arrow([(px, 249), (cx + 12, 249)])
    shape(s, 300, 242, "(T, C)")
    s.text(300, 270, "same for every sequence", size=11.5, anchor="start", fill=MUTED)
    s.arrow([(cx, 260), (cx, 292)])
    shape(s, cx + 10, 281, "(B, T, C)")
    s.box(left + 48, 292, bw - 96, 30, [("dropout", {"size": 12.5})], colour=BLACK, fill_amount=0.06)

    # the stack of blocks
    top, bottom = 345, 650
    s.rect(40, top, 720, bottom - top, fill=tint(VERMILLION, 0.05), stroke=VERMILLION, width=1.4,
           rx=12, dash="7 5")
    s.text(56, top + 24, "Block", size=14, bold=True, anchor="start")
    s.text(56, top + 42, "repeated n_layers times", size=11.5, anchor="start", fill=MUTED)
    s.text(56, top + 58, "(model.blocks)", size=11.5, anchor="start", fill=MUTED, mono=True)
    s.arrow([(cx, 322), (cx, top + 1)])
    shape(s, cx + 10, 337, "(B, T, C)")
    # residual stream: a thick line through the block, sublayers branch off to the right
    stream = tint(VERMILLION, 0.85)
    plus1, plus2 = 505, 630
    s.polyline([(cx, top + 1), (cx, bottom - 1)], colour=stream, width=4)
    s.text(cx - 12, 470, "residual stream", size=12, anchor="middle", fill=VERMILLION_TEXT, bold=True,
           rotate=-90)
    sx, sw = 300, 200  # sublayer column
    scx = sx + sw / 2
    # attention sublayer
    s.polyline([(cx, 368), (scx, 368)], colour=LINE)
    s.arrow([(scx, 368), (scx, 382)])
    s.box(sx, 382, sw, 34, [("LayerNorm  ln1", {"size": 12.5})], colour=PURPLE, fill_amount=0.22)
    s.arrow([(scx, 416), (scx, 434)])
    s.box(sx, 434, sw, 48, [("multi-head attention", {"bold": True, "size": 12.5}),
                            ("attn", {"size": 11.5, "mono": True})], colour=BLUE, fill_amount=0.18)
    s.arrow([(scx, 482), (scx, plus1), (cx + 11, plus1)])
    s.plus(cx, plus1, colour=VERMILLION)
    s.text(sx + sw + 14, 452, "q, k, v: (B, n_heads, T, d_head)", size=11.5, mono=True,
           anchor="start", fill=BLUE_TEXT)
    s.text(sx + sw + 14, 470, "tokens exchange information", size=11.5, anchor="start", fill=MUTED)
    shape(s, scx + 8, 499, "(B, T, C)")
    # feed-forward sublayer
    s.polyline([(cx, 528), (scx, 528)], colour=LINE)
    s.arrow([(scx, 528), (scx, 542)])
    s.box(sx, 542, sw, 34, [("LayerNorm  ln2", {"size": 12.5})], colour=PURPLE, fill_amount=0.22)
    s.arrow([(scx, 576), (scx, 592)])
    s.box(sx, 592, sw, 30, [("feed-forward  ffn", {"bold": True, "size": 12.5})],
          colour=GREEN, fill_amount=0.18)
    s.arrow([(scx, 622), (scx, plus2), (cx + 11, plus2)])
    s.plus(cx, plus2, colour=VERMILLION)
    s.text(sx + sw + 14, 603, "hidden layer: (B, T, 4·C)", size=11.5, mono=True, anchor="start",
           fill=GREEN_TEXT)
    s.text(sx + sw + 14, 620, "each token on its own", size=11.5, anchor="start", fill=MUTED)
    s.text(56, 545, "every arrow", size=11.5, anchor="start", fill=MUTED)
    s.text(56, 560, "in the block:", size=11.5, anchor="start", fill=MUTED)
    shape(s, 56, 577, "(B, T, C)")

    # output stage
    s.arrow([(cx, plus2 + 11), (cx, 686)])
    shape(s, cx + 10, 673, "(B, T, C)")
    s.box(left, 686, bw, 36, [("final LayerNorm  ln_f", {"size": 12.5})], colour=PURPLE,
          fill_amount=0.22)
    s.arrow([(cx, 722), (cx, 754)])
    shape(s, cx + 10, 743, "(B, T, C)")
    s.box(left, 754, bw, 50, [("linear head", {"bold": True}),
                              ("head: d_model → vocab_size", {"size": 11.5, "mono": True})],
          colour=ORANGE, fill_amount=0.25)
    s.arrow([(cx, 804), (cx, 838)])
    shape(s, cx + 10, 826, "(B, T, vocab_size)")
    s.box(left, 838, bw, 44, [("logits", {"bold": True}),
                              ("a score for every possible next token", {"size": 11.5})],
          colour=BLACK, fill_amount=0.06)

    # the sizes used in the book
    tx, ty = 420, 690
    s.text(tx, ty, "Sizes in the book", size=13, bold=True, anchor="start")
    cols = [tx + 140, tx + 215, tx + 300]
    for c, head in zip(cols, ["Ch. 6", "Ch. 7", "GPT-2"], strict=True):
        s.text(c, ty + 22, head, size=11.5, bold=True, anchor="end")
    rows = [("C = d_model", "64", "64", "768"), ("n_heads", "4", "4", "12"),
            ("d_head", "16", "16", "64"), ("n_layers", "8", "2", "12"),
            ("context_length", "16", "16", "1,024"), ("vocab_size", "50,257", f"{book_vocab_size():,}", "50,257")]
    for i, (name, *vals) in enumerate(rows):
        y = ty + 42 + i * 18
        s.text(tx, y, name, size=11.5, mono=True, anchor="start")
        for c, v in zip(cols, vals, strict=True):
            s.text(c, y, v, size=11.5, anchor="end")
    s.polyline([(tx, ty + 28), (tx + 300, ty + 28)], colour=GREY_EDGE, width=1)
    s.text(tx, ty + 42 + len(rows) * 18 + 10, "Ch. 6: GPTConfig()  ·  Ch. 7: the trained book model",
           size=11.5, anchor="start", fill=MUTED)
    return s


# == 2. Queries, keys and values ===========================================================
def matrix(s: Svg, x: float, y: float, rows: int, cols: int, cw: float, ch: float, colour: str,
           values: Sequence[Sequence[float]] | None = None, amount: float = 0.35) -> None:
    """A grid of cells; ``values`` in [0, 1] set each cell's shade."""
    for r in range(rows):
        for c in range(cols):
            a = amount if values is None else 0.08 + 0.7 * values[r][c]
            s.rect(x + c * cw, y + r * ch, cw, ch, fill=tint(colour, a), stroke="#ffffff", width=1.2)
    s.rect(x, y, cols * cw, rows * ch, stroke=colour, width=1.4)


def queries_keys_values() -> Svg:
    s = Svg(800, 500, "Queries, keys and values in one attention head",
            "Each token's vector x (d_model channels) is mapped by three learned matrices to a "
            "query, a key and a value of d_head channels. Queries times keys, divided by the square "
            "root of d_head, give a T by T table of scores; a softmax along each row turns them into "
            "weights that sum to 1; the weights mix the values into one output vector per token.")
    tokens = ["Building", " rapport", " is", " a"]
    T = len(tokens)
    s.text(24, 38, "One attention head: queries, keys and values", size=17, bold=True, anchor="start")
    s.text(24, 60, "Chapter 4's sentence, first T = 4 tokens; shapes for a batch of B sequences",
           size=12.5, anchor="start", fill=MUTED)
    # x
    xx, xy, ch = 104, 190, 22
    matrix(s, xx, xy, T, 8, 12, ch, SKY, amount=0.4)
    for i, t in enumerate(tokens):
        s.text(xx - 8, xy + i * ch + 15, t.strip(), size=12, anchor="end")
    s.text(xx + 48, xy - 10, "x", size=15, bold=True)
    shape(s, xx + 48, xy + T * ch + 20, "(B, T, d_model)", anchor="middle")
    s.text(xx + 48, xy + T * ch + 37, "d_model = 64", size=11.5, fill=MUTED)
    # q, k, v
    mx, cw = 330, 14
    blocks = [("q", "query: what token t looks for", BLUE, 92),
              ("k", "key: what token s offers", ORANGE, 210),
              ("v", "value: what token s hands over", GREEN, 348)]
    for name, _, colour, y in blocks:
        matrix(s, mx, y, T, 4, cw, ch, colour, amount=0.4)
        s.text(mx + 2 * cw, y - 8, name, size=15, bold=True, fill=INK)
        s.arrow([(xx + 96 + 6, xy + T * ch / 2), (mx - 8, y + T * ch / 2)], colour=colour, width=1.8)
    # labels on the three projection arrows
    s.text(232, 168, "x @ W_q", size=12, mono=True, fill=BLUE_TEXT)
    s.text(262, 218, "x @ W_k", size=12, mono=True, fill=ORANGE_TEXT)
    s.text(228, 336, "x @ W_v", size=12, mono=True, fill=GREEN_TEXT)
    s.text(150, 360, "each W: d_model × d_head", size=11.5, fill=MUTED)
    shape(s, mx + 28, 466, "(B, T, d_head)", anchor="middle")
    s.text(mx + 28, 483, "d_head = 16", size=11.5, fill=MUTED)
    # scores
    sx, sy, scw, sch = 470, 120, 28, 24
    scores = [[0.9, 0.3, 0.1, 0.4], [0.6, 0.8, 0.2, 0.1], [0.2, 0.5, 0.7, 0.3], [0.4, 0.1, 0.6, 0.9]]
    matrix(s, sx, sy, T, T, scw, sch, VERMILLION, values=scores)
    s.text(sx + 2 * scw, sy - 30, "scores", size=14, bold=True)
    s.text(sx + 2 * scw, sy - 12, "q @ kᵀ / √d_head", size=12, mono=True)
    shape(s, sx + 2 * scw, sy + T * sch + 18, "(B, T, T)", anchor="middle")
    s.text(sx - 6, sy + T * sch + 36, "rows: queries, columns: keys", size=11.5, anchor="start",
           fill=MUTED)
    s.arrow([(mx + 4 * cw + 6, 92 + T * ch / 2), (sx - 8, sy + 30)], colour=BLUE, width=1.8)
    s.arrow([(mx + 4 * cw + 6, 210 + T * ch / 2), (sx - 8, sy + 70)], colour=ORANGE, width=1.8)
    # weights
    wx = 650
    weights = [[0.46, 0.2, 0.14, 0.2], [0.3, 0.43, 0.15, 0.12], [0.17, 0.27, 0.37, 0.19],
               [0.2, 0.14, 0.25, 0.41]]
    matrix(s, wx, sy, T, T, scw, sch, BLUE, values=[[w * 1.3 for w in r] for r in weights])
    for r in range(T):
        for c in range(T):
            s.text(wx + c * scw + scw / 2, sy + r * sch + 16, f"{weights[r][c]:.2f}"[1:], size=10.5,
                   check=False)
    s.text(wx + 2 * scw, sy - 30, "weights", size=14, bold=True)
    s.text(wx + 2 * scw, sy - 12, "each row sums to 1", size=11.5, fill=MUTED)
    s.arrow([(sx + T * scw + 6, sy + 48), (wx - 8, sy + 48)])
    s.text((sx + T * scw + wx) / 2, sy + 40, "softmax", size=11.5, mono=True)
    shape(s, wx + 2 * scw, sy + T * sch + 18, "(B, T, T)", anchor="middle")
    # output
    ox, oy = 664, 348
    matrix(s, ox, oy, T, 4, cw, ch, GREEN, amount=0.6)
    s.text(ox + 2 * cw, oy - 8, "out", size=15, bold=True)
    s.arrow([(wx + 2 * scw, sy + T * sch + 26), (wx + 2 * scw, oy - 26)])
    s.arrow([(mx + 4 * cw + 6, 348 + T * ch / 2), (ox - 8, oy + T * ch / 2)], colour=GREEN, width=1.8)
    s.text(540, 383, "weights @ v", size=12, mono=True)
    s.text(540, 422, "each output row is a weighted", size=11.5, fill=MUTED)
    s.text(540, 437, "mix of the value rows", size=11.5, fill=MUTED)
    shape(s, ox + 28, 466, "(B, T, d_head)", anchor="middle")
    # legend
    for i, (_, meaning, colour, _) in enumerate(blocks):
        y = 430 + i * 20
        s.rect(24, y - 11, 12, 12, fill=tint(colour, 0.4), stroke=colour, width=1.2)
        s.text(44, y, meaning, size=11.5, anchor="start")
    return s


# == 3. The causal mask ====================================================================
def causal_mask() -> Svg:
    tokens = ["Building", " rapport", " is", " a", " fundamental"]
    T = len(tokens)
    scores = [[0.8, 1.4, -0.3, 0.5, 1.1], [0.2, -0.4, 0.9, 1.3, -0.6], [-0.5, 0.3, -0.8, 0.2, 0.7],
              [0.6, -0.2, 0.4, 0.9, -1.0], [0.1, 0.7, -0.6, 0.3, 0.5]]
    weights = []
    for t, row in enumerate(scores):
        e = [math.exp(v) if s_ <= t else 0.0 for s_, v in enumerate(row)]
        weights.append([v / sum(e) for v in e])
    s = Svg(800, 400, "The causal mask",
            "Three T by T tables for the tokens 'Building rapport is a fundamental', queries as rows "
            "and keys as columns. The scores fill the whole table. The mask replaces every score "
            "above the diagonal (a key later than its query) with minus infinity. After the softmax "
            "those entries are exactly 0 and each row's weights, shared among the keys up to and "
            "including the query's own position, sum to 1.")
    s.text(24, 34, "The causal mask: query t may attend to key s only if s ≤ t", size=16,
           bold=True, anchor="start")
    cw, ch = 36, 28
    gy = 150
    grids = [(108, "scores"), (338, "masked scores"), (568, "weights")]
    for gx, title in grids:
        s.text(gx + T * cw / 2, 66, title, size=14, bold=True)
        for i, t in enumerate(tokens):
            s.text(gx + i * cw + cw / 2 + 4, gy - 8, t.strip(), size=11.5, anchor="start", rotate=-50)
    for i, t in enumerate(tokens):
        s.text(grids[0][0] - 8, gy + i * ch + 19, t.strip(), size=12, anchor="end")
    s.text(20, gy - 40, "key (column) →", size=11.5, anchor="start", fill=MUTED)
    s.text(20, gy - 14, "query (row) ↓", size=11.5, anchor="start", fill=MUTED)
    for g, (gx, _) in enumerate(grids):
        for r in range(T):
            for c in range(T):
                x, y = gx + c * cw, gy + r * ch
                if g > 0 and c > r:  # a key after its query: masked
                    fill, text, colour = GREY_FILL, "−∞" if g == 1 else "0", MUTED
                elif g < 2:  # a score
                    fill, text, colour = tint(VERMILLION, 0.12 + 0.25 * (scores[r][c] + 1)), \
                        f"{scores[r][c]:.1f}", INK
                else:  # a weight
                    w = weights[r][c]
                    fill, text, colour = tint(BLUE, 0.08 + 0.62 * w), f"{w:.2f}", INK
                s.rect(x, y, cw, ch, fill=fill, stroke="#ffffff", width=1.5)
                s.text(x + cw / 2, y + 18.5, text.replace("-", "−"), size=11.5, fill=colour, check=False)
        s.rect(gx, gy, T * cw, T * ch, stroke=GREY_EDGE, width=1.2)
        if g:  # a staircase along the diagonal: allowed keys below it, masked ones above
            stairs = [(gx + cw * k, gy + ch * r) for r in range(T) for k in (r, r + 1)]
            s.polyline(stairs, colour=INK, width=1.6)
    for gx, label in [(grids[0][0] + T * cw, "mask"), (grids[1][0] + T * cw, "softmax")]:
        s.arrow([(gx + 10, gy + T * ch / 2), (gx + 50, gy + T * ch / 2)])
        s.text(gx + 30, gy + T * ch / 2 - 8, label, size=11.5, mono=True)
    notes = [(grids[0][0], ["every query against every key:", "position t would see t + 1"]),
             (grids[1][0], ["keys after the query (s > t)", "are set to −∞"]),
             (grids[2][0], ["exactly 0 above the diagonal;", "each row still sums to 1"])]
    for gx, rows in notes:
        s.lines(gx + T * cw / 2, gy + T * ch + 26, rows, size=11.5, leading=16)
    s.text(24, 382, "mask = torch.tril(torch.ones(T, T)): True on and below the diagonal;"
           "  scores.masked_fill(~mask, -inf)", size=11.5, mono=True, anchor="start", fill=MUTED)
    return s


# == 4. The residual stream, pre-norm and post-norm ========================================
def residual_pre_post_norm() -> Svg:
    s = Svg(800, 600, "The residual stream: post-norm against pre-norm",
            "Two Transformer blocks side by side, input at the top. Post-norm, the original "
            "Transformer: each sublayer's output is added to x and the sum then goes through a "
            "layer norm, so the residual path passes through two layer norms per block. Pre-norm, "
            "GPT-2 and this book: each sublayer reads a layer-normalised copy of x and adds its "
            "output back, so the residual stream is a plain sum from the embeddings to the final "
            "layer norm.")
    stream = VERMILLION

    def panel(x0: float, pre: bool) -> None:
        cx = x0 + 110  # the residual stream
        bx = cx + 70  # sublayer boxes
        bw = 150
        title = "pre-norm (GPT-2, this book)" if pre else "post-norm (original Transformer)"
        s.text(x0 + 175, 40, title, size=15, bold=True)
        s.text(cx, 76, "x", size=14, bold=True, mono=True)
        shape(s, cx + 12, 76, "(B, T, C)")
        y = 86
        s.polyline([(cx, y), (cx, 104)], colour=stream, width=4)
        sublayers = [("multi-head", "attention", BLUE, "ln1"), ("feed-forward", "network", GREEN, "ln2")]
        for i, (name1, name2, colour, ln) in enumerate(sublayers):
            top = 104 + i * 170
            # branch out, (ln), sublayer, back into the plus
            s.polyline([(cx, top + 14), (bx + bw / 2, top + 14)], colour=LINE)
            yb = top + 14
            if pre:
                s.arrow([(bx + bw / 2, yb), (bx + bw / 2, yb + 14)])
                s.box(bx, yb + 14, bw, 30, [(f"LayerNorm  {ln}", {"size": 12})], colour=PURPLE,
                      fill_amount=0.22)
                yb += 44
            s.arrow([(bx + bw / 2, yb), (bx + bw / 2, yb + 16)])
            s.box(bx, yb + 16, bw, 44, [(name1, {"bold": True, "size": 12.5}),
                                        (name2, {"bold": True, "size": 12.5})],
                  colour=colour, fill_amount=0.18)
            yp = yb + 80
            s.arrow([(bx + bw / 2, yb + 60), (bx + bw / 2, yp), (cx + 11, yp)])
            s.polyline([(cx, top), (cx, yp - 11)], colour=stream, width=4)
            s.plus(cx, yp, colour=stream)
            nxt = 104 + (i + 1) * 170
            if pre:
                s.polyline([(cx, yp + 11), (cx, nxt)], colour=stream, width=4)
            else:
                s.polyline([(cx, yp + 11), (cx, yp + 24)], colour=stream, width=4)
                s.box(cx - 62, yp + 24, 124, 30, [(f"LayerNorm  {ln}", {"size": 12})],
                      colour=PURPLE, fill_amount=0.22)
                s.polyline([(cx, yp + 54), (cx, nxt)], colour=stream, width=4)
        end = 104 + 2 * 170
        if pre:
            s.arrow([(cx, end), (cx, end + 20)], colour=stream, width=4, head=11)
            s.text(cx + 14, end + 8, "next block, then", size=11.5, anchor="start", fill=MUTED)
            s.text(cx + 14, end + 22, "final LayerNorm ln_f", size=11.5, anchor="start", fill=MUTED)
            s.text(cx - 14, 250, "residual stream", size=12, bold=True, fill=VERMILLION_TEXT, rotate=-90)
        else:
            s.arrow([(cx, end), (cx, end + 20)], colour=stream, width=4, head=11)
            s.text(cx + 14, end + 12, "next block", size=11.5, anchor="start", fill=MUTED)
            s.text(cx - 16, 150, "residual path", size=12, bold=True, fill=VERMILLION_TEXT, rotate=-90)
        if pre:
            formulas = ["x = x + attn(ln1(x))", "x = x + ffn(ln2(x))"]
            notes = ["The stream is only ever added to: a plain sum",
                     "from the embeddings to ln_f, so the gradient",
                     "reaches the first layer directly."]
        else:
            formulas = ["x = ln1(x + attn(x))", "x = ln2(x + ffn(x))"]
            notes = ["Every sum is normalised: the residual path",
                     "passes through two layer norms per block;",
                     "deep stacks need a careful learning-rate warm-up."]
        s.lines(x0 + 24, 506, formulas, size=12.5, mono=True, anchor="start", leading=18)
        s.lines(x0 + 24, 552, notes, size=11.5, anchor="start", leading=15, fill=MUTED)

    panel(10, pre=False)
    panel(405, pre=True)
    s.polyline([(400, 24), (400, 576)], colour=PANEL_EDGE, width=1.2)
    return s


# == 5. The KV cache =======================================================================
def kv_cache() -> Svg:
    s = Svg(800, 470, "The KV cache during generation",
            "Three calls of the model. The prefill runs the 4-token prompt at once, computing a query, "
            "key and value for each position and storing the keys and values. Each following step "
            "feeds one new token: it computes one query, one key and one value, appends the key and "
            "value to the cache, and the query attends over every cached key, so the cache grows by "
            "one position per step.")
    s.text(24, 36, "The KV cache: compute each key and value once, then reuse it", size=16,
           bold=True, anchor="start")
    s.text(24, 58, "one cache per block; keys and values of shape (B, n_heads, length, d_head)",
           size=12, anchor="start", fill=MUTED)
    tokens = ["The", " key", " to", " a", " successful", " sale"]
    cx0, cw = 232, 62
    rows = [("prefill", "the prompt in one pass", "idx: (B, 4)", 4, 0),
            ("step 1", "one new token", "idx: (B, 1)", 5, 4),
            ("step 2", "one new token", "idx: (B, 1)", 6, 5)]
    for i, t in enumerate(tokens):
        s.text(cx0 + i * cw + cw / 2, 90, t.strip(), size=11.5, bold=True)
        s.text(cx0 + i * cw + cw / 2, 106, f"position {i}", size=11, fill=MUTED)
    for r, (name, what, idx, length, first_new) in enumerate(rows):
        y = 126 + r * 100
        s.rect(16, y - 6, 768, 92, fill=tint(BLACK, 0.03) if r % 2 == 0 else "none", rx=8)
        s.text(28, y + 18, name, size=14, bold=True, anchor="start")
        s.text(28, y + 36, what, size=11.5, anchor="start", fill=MUTED)
        shape(s, 28, y + 54, idx)
        s.text(cx0 - 10, y + 30, "q", size=12, bold=True, mono=True, anchor="end", fill=BLUE_TEXT)
        s.text(cx0 - 10, y + 52, "k", size=12, bold=True, mono=True, anchor="end", fill=ORANGE_TEXT)
        s.text(cx0 - 10, y + 74, "v", size=12, bold=True, mono=True, anchor="end", fill=GREEN_TEXT)
        for i in range(length):
            x = cx0 + i * cw + 5
            new = i >= first_new
            if new:  # the query exists only for positions computed in this call
                s.rect(x, y + 15, cw - 10, 20, fill=tint(BLUE, 0.35), stroke=BLUE, width=1.4, rx=4)
                s.text(x + (cw - 10) / 2, y + 29, f"q{i}", size=11.5, mono=True)
            for j, (colour, letter) in enumerate([(ORANGE, "k"), (GREEN, "v")]):
                yy = y + 38 + j * 22
                if new:
                    s.rect(x, yy, cw - 10, 20, fill=tint(colour, 0.45), stroke=colour, width=2, rx=4)
                else:
                    s.rect(x, yy, cw - 10, 20, fill=tint(colour, 0.12), stroke=colour, width=1,
                           rx=4, dash="3 2")
                s.text(x + (cw - 10) / 2, yy + 14, f"{letter}{i}", size=11.5, mono=True,
                       fill=INK if new else MUTED)
        right = cx0 + 6 * cw + 14
        if r == 0:
            notes = ["4 queries, causal mask", "stores 4 keys and values", "cache.length = 4"]
        else:
            notes = [f"q{first_new} attends over k0 … k{first_new}",
                     f"appends k{first_new}, v{first_new}", f"cache.length = {length}"]
        s.lines(right, y + 22, notes, size=11.5, anchor="start", leading=18)
    # legend
    ly = 440
    s.rect(28, ly - 12, 26, 16, fill=tint(ORANGE, 0.45), stroke=ORANGE, width=2, rx=4)
    s.text(62, ly, "computed in this call", size=11.5, anchor="start")
    s.rect(230, ly - 12, 26, 16, fill=tint(ORANGE, 0.12), stroke=ORANGE, width=1, rx=4, dash="3 2")
    s.text(264, ly, "read from the cache", size=11.5, anchor="start")
    s.text(420, ly, "without a cache, every step recomputes k, v of all positions", size=11.5, anchor="start",
           fill=MUTED)
    return s


# == 6. Byte-pair merges ===================================================================
TOY = "a seller sells; sellers sell, and selling sells."  # Chapter 1's toy text


def bpe_merges(text: str, n: int) -> list[tuple[tuple[str, str], int, list[list[str]]]]:
    """Chapter 1's miniature BPE: the words, then ``n`` merges of the most frequent pair.

    Returns ``(pair, count, words after the merge)`` per step; ties go to the pair seen first.
    """
    words = [list(w) for w in re.findall(r" ?\w+| ?[^\w\s]+|\s+", text)]
    steps = []
    for _ in range(n):
        counts: Counter[tuple[str, str]] = Counter()
        for w in words:
            counts.update(zip(w, w[1:], strict=False))
        pair, count = max(counts.items(), key=lambda kv: kv[1])
        words = [reference_merge_pair(w, pair) for w in words]
        steps.append((pair, count, words))
    return steps


def byte_pair_merges() -> Svg:
    n = 7
    steps = bpe_merges(TOY, n)
    start = [list(w) for w in re.findall(r" ?\w+| ?[^\w\s]+|\s+", TOY)]
    shown = [4, 2]  # " sellers" and " sells"
    rh = 38
    s = Svg(800, 150 + (n + 1) * rh, "Byte-pair merges on Chapter 1's toy text",
            "The text 'a seller sells; sellers sell, and selling sells.' starts as 48 single "
            "characters. Each step merges the most frequent pair of neighbouring symbols into a new "
            "one: space and s, then ' s' and e, ' se' and l, ' sel' and l, ' sell' and e, ' selle' "
            "and r, ' sell' and s. The word ' sellers' shrinks from 8 symbols to 2, ' sells' to 1, "
            "and the whole text from 48 symbols to 18.")
    s.text(24, 36, "Byte-pair encoding: merge the most frequent pair, again and again", size=16,
           bold=True, anchor="start")
    s.text(24, 58, f"Chapter 1's toy text: \u201c{TOY}\u201d   (␣ is a space)", size=12,
           anchor="start", fill=MUTED)
    cols = {"step": 28, "merge": 82, "w1": 262, "w2": 520, "n": 772}
    hy = 92
    s.text(cols["step"], hy, "step", size=12, bold=True, anchor="start")
    s.text(cols["merge"], hy, "merged pair (count)", size=12, bold=True, anchor="start")
    s.text(cols["w1"], hy, "the word ␣sellers", size=12, bold=True, anchor="start")
    s.text(cols["w2"], hy, "the word ␣sells", size=12, bold=True, anchor="start")
    s.text(cols["n"], hy, "symbols in text", size=12, bold=True, anchor="end")
    s.polyline([(24, hy + 9), (776, hy + 9)], colour=GREY_EDGE, width=1)

    def show(piece: str) -> str:
        return piece.replace(" ", "␣")

    def symbols(x: float, y: float, word: list[str], new: str | None) -> None:
        for piece in word:
            w = 12 + 8.2 * len(piece)
            hit = piece == new
            colour = ORANGE if hit else SKY
            s.rect(x, y, w, 24, fill=tint(colour, 0.45 if hit else 0.2), stroke=colour,
                   width=2 if hit else 1.2, rx=5)
            s.text(x + w / 2, y + 16.5, show(piece), size=13.5, mono=True)
            x += w + 4

    rows = [("0", "single characters", start, None, len(TOY))]
    for i, (pair, count, words) in enumerate(steps, start=1):
        label = f"{show(pair[0])} + {show(pair[1])}  ({count}×)"
        rows.append((str(i), label, words, pair[0] + pair[1], sum(len(w) for w in words)))
    for r, (step, label, words, new, total) in enumerate(rows):
        y = hy + 18 + r * rh
        if r % 2 == 0:
            s.rect(20, y - 5, 760, rh, fill=tint(BLACK, 0.035), rx=5)
        s.text(cols["step"] + 10, y + 17, step, size=12.5)
        s.text(cols["merge"], y + 17, label, size=12.5, mono=new is not None, anchor="start")
        symbols(cols["w1"], y, words[shown[0]], new)
        symbols(cols["w2"], y, words[shown[1]], new)
        s.text(cols["n"] - 10, y + 17, str(total), size=12.5, anchor="end")
    yl = hy + 18 + len(rows) * rh + 18
    s.rect(28, yl - 12, 26, 16, fill=tint(ORANGE, 0.45), stroke=ORANGE, width=2, rx=4)
    s.text(62, yl, "the symbol this step creates: a new entry in the vocabulary", size=11.5,
           anchor="start")
    return s


# == 7. Data parallelism ===================================================================
def data_parallel() -> Svg:
    s = Svg(800, 520, "Data parallelism on two ranks",
            "A global batch of 16 windows is split between two ranks: rank 0 takes windows 0, 2, 4 and "
            "so on, rank 1 windows 1, 3, 5 and so on, 8 each. Each rank holds a full copy of the model and "
            "computes the gradient of its own 8 windows, g0 and g1. An all-reduce gives every rank the mean "
            "(g0 + g1) / 2, which is the gradient of the whole batch, so both ranks apply the same AdamW "
            "update and their copies stay identical. Rank 0 alone writes the checkpoint.")
    s.text(24, 36, "Data parallelism: a full copy per rank, a share of each batch", size=16, bold=True,
           anchor="start")
    s.text(24, 58, "two ranks (processes); DistributedSampler's split; gradients averaged by an all-reduce",
           size=12, anchor="start", fill=MUTED)
    s.box(250, 76, 300, 46, [("global batch: 16 windows", {"bold": True}),
                             ("(B, T) = (16, 16), the same on every rank", {"size": 11.5, "fill": MUTED})],
          colour=GREY_EDGE, fill_amount=0.25)
    cols = [(60, "rank 0", "windows 0, 2, 4, ..., 14", "g0", BLUE), (440, "rank 1", "windows 1, 3, 5, ..., 15",
                                                                      "g1", ORANGE)]
    for x, name, share, grad, colour in cols:
        cx = x + 150
        s.arrow([(400, 122), (400, 134), (cx, 134), (cx, 150)])
        s.box(x, 150, 300, 46, [(f"{name}: {share}", {"bold": True}),
                                ("(8, 16): its half of the batch", {"size": 11.5, "mono": True,
                                                                     "fill": SHAPE_TEXT})],
              colour=colour, fill_amount=0.15)
        s.arrow([(cx, 196), (cx, 214)])
        s.box(x, 214, 300, 56, [("a full copy of the GPT", {"bold": True}),
                                ("forward, loss, backward", {"size": 11.5}),
                                (f"gradient {grad} of its 8 windows", {"size": 11.5})],
              colour=colour, fill_amount=0.3)
        s.arrow([(cx, 270), (cx, 300)])
        s.arrow([(cx, 346), (cx, 372)])
        s.box(x, 372, 300, 46, [("AdamW step with g", {"bold": True}),
                                ("the same update on both ranks", {"size": 11.5})],
              colour=colour, fill_amount=0.15)
    s.box(60, 300, 680, 46, [("all-reduce: every rank receives g = (g0 + g1) / 2", {"bold": True}),
                             ("the mean of the halves' gradients = the gradient of the whole batch",
                              {"size": 11.5})],
          colour=GREEN, fill_amount=0.25)
    s.arrow([(210, 418), (210, 440)])
    s.box(60, 440, 300, 46, [("rank 0 writes the checkpoint", {"bold": True}),
                             ("atomically: a temporary file, then rename", {"size": 11.5})],
          colour=GREY_EDGE, fill_amount=0.25)
    s.lines(440, 456, ["rank 1 writes nothing: its weights are", "identical to rank 0's"], size=11.5,
            anchor="start", fill=MUTED)
    s.text(400, 508, "with W ranks: windows r, r + W, r + 2W, ...; g = (g0 + ... + g(W-1)) / W",
           size=11.5, fill=MUTED)
    return s


# == writing ===============================================================================
FIGURES: dict[str, Callable[[], Svg]] = {
    "gpt_data_flow": gpt_data_flow,
    "queries_keys_values": queries_keys_values,
    "causal_mask": causal_mask,
    "residual_pre_post_norm": residual_pre_post_norm,
    "kv_cache": kv_cache,
    "byte_pair_merges": byte_pair_merges,
    "data_parallel": data_parallel,
}


def render_all(check: bool = True) -> dict[str, str]:
    """Every diagram's SVG text, by file name. Raises LayoutError on a bad layout."""
    out = {}
    for name, draw in FIGURES.items():
        svg = draw()
        if check:
            svg.check_layout()
        out[f"{name}.svg"] = svg.render(name)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=OUT_DIR,
                        help="where to write the SVG files (default: book/_static/figures)")
    parser.add_argument("--no-check", action="store_true",
                        help="write even if labels overlap (to look at a layout being changed)")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for file, text in render_all(check=not args.no_check).items():
        (args.out_dir / file).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {args.out_dir / file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
