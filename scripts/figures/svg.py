"""The canvas every diagram draws on (:class:`Svg`) and small drawing helpers shared by diagrams.

Shapes and labels are in px. Each label, each circle and each straight piece of a line
is recorded as it is drawn, for :func:`scripts.figures.checks.check_layout`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from scripts.figures.checks import Label, Point, check_layout, is_wide, label_corners, text_width
from scripts.figures.palette import CJK_SANS, INK, LINE, MONO, PANEL, PANEL_EDGE, SANS, SHAPE_TEXT, tint
from scripts.figures.strings import LANGUAGE_TAGS


def num(v: float) -> str:
    """A coordinate as short, stable text (at most one decimal)."""
    v = round(v, 1)
    return str(int(v)) if v == int(v) else f"{v:.1f}"


@dataclass
class Svg:
    """A small SVG canvas: shapes and labels in px, a title and a description, in ``language``
    (``"en"`` or ``"zh_CN"``: the Chinese drawing's fonts and the way its text is measured)."""

    width: int
    height: int
    title: str
    desc: str
    language: str = "en"
    parts: list[str] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    circles: list[tuple[float, float, float]] = field(default_factory=list)
    segments: list[tuple[Point, Point]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rect(1, 1, self.width - 2, self.height - 2, fill=PANEL, stroke=PANEL_EDGE, rx=14)

    # shapes
    def rect(self, x: float, y: float, w: float, h: float, *, fill: str = "none",
             stroke: str = "none", width: float = 1.0, rx: float = 0, dash: str | None = None) -> None:
        """A rectangle (a container: labels may sit inside it)."""
        extra = f' rx="{num(rx)}"' if rx else ""
        extra += f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{num(width)}"{extra}/>')

    def circle(self, cx: float, cy: float, r: float, *, fill: str, stroke: str, width: float = 1.5) -> None:
        """A circle; labels keep clear of it."""
        self.parts.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}" fill="{fill}" '
                          f'stroke="{stroke}" stroke-width="{num(width)}"/>')
        self.circles.append((cx, cy, r + width / 2))

    def polygon(self, points: Sequence[tuple[float, float]], *, fill: str) -> None:
        """A filled polygon without an outline (a container, like a rectangle)."""
        pts = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        self.parts.append(f'<polygon points="{pts}" fill="{fill}"/>')

    def plus(self, cx: float, cy: float, r: float = 11, colour: str = LINE) -> None:
        """The circled plus of a residual addition."""
        self.circle(cx, cy, r, fill="#ffffff", stroke=colour, width=1.8)
        d = r * 0.55
        self.polyline([(cx - d, cy), (cx + d, cy)], colour=colour, width=1.8)
        self.polyline([(cx, cy - d), (cx, cy + d)], colour=colour, width=1.8)

    def polyline(self, points: Sequence[tuple[float, float]], *, colour: str = LINE,
                 width: float = 1.6, dash: str | None = None, check: bool = True) -> None:
        """Straight pieces through ``points``; with ``check``, no label may lie across them."""
        pts = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                          f'stroke-width="{num(width)}" stroke-linejoin="round"{extra}/>')
        if check:
            self.segments += list(zip(points, points[1:], strict=False))

    def arrow(self, points: Sequence[tuple[float, float]], *, colour: str = LINE,
              width: float = 1.6, head: float = 8.0, dash: str | None = None, check: bool = True) -> None:
        """A line through ``points`` with an arrowhead at the last point."""
        (x0, y0), (x1, y1) = points[-2], points[-1]
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        bx, by = x1 - ux * head, y1 - uy * head  # base of the head
        self.polyline([*points[:-1], (bx + ux, by + uy)], colour=colour, width=width, dash=dash, check=check)
        half = head * 0.5
        tri = [(x1, y1), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
        pts = " ".join(f"{num(x)},{num(y)}" for x, y in tri)
        self.parts.append(f'<polygon points="{pts}" fill="{colour}"/>')
        if check:
            self.segments.append(((bx, by), (x1, y1)))

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
        if check:
            cjk = self.language != "en"
            tall = cjk and any(is_wide(ch, mono) for ch in s)
            corners = label_corners(x, y, text_width(s, size, mono, bold, cjk), size, anchor, rotate,
                                    ascent=0.88 if tall else 0.76)
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
        """Raise LayoutError if the layout breaks a rule of :mod:`scripts.figures.checks`."""
        check_layout(self.title, self.width, self.height, self.labels, self.circles, self.segments)

    def render(self, name: str) -> str:
        """The SVG document; ``name`` is the diagram (its module and function), named in a comment."""
        lang = f' xml:lang="{LANGUAGE_TAGS[self.language]}"' if self.language != "en" else ""
        font = SANS if self.language == "en" else CJK_SANS
        head = (f'<svg xmlns="http://www.w3.org/2000/svg"{lang} width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" role="img" xml:space="preserve" font-family="{font}" '
                f'fill="{INK}">')
        return "\n".join([
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<!-- Drawn by scripts/figures/{name}.py; do not edit: run `make figures`. -->",
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


def matrix(s: Svg, x: float, y: float, rows: int, cols: int, cw: float, ch: float, colour: str,
           values: Sequence[Sequence[float]] | None = None, amount: float = 0.35) -> None:
    """A grid of cells; ``values`` in [0, 1] set each cell's shade."""
    for r in range(rows):
        for c in range(cols):
            a = amount if values is None else 0.08 + 0.7 * values[r][c]
            s.rect(x + c * cw, y + r * ch, cw, ch, fill=tint(colour, a), stroke="#ffffff", width=1.2)
    s.rect(x, y, cols * cw, rows * ch, stroke=colour, width=1.4)
