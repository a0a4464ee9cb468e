"""Checking a diagram's layout before it is written: measuring text, and the rules a layout keeps.

A diagram records where every label lies (:class:`Label`), every residual ⊕ (a circle)
and every line it draws (segments). :func:`check_layout` then raises
:class:`LayoutError` if

* two labels overlap;
* a label touches a circle (the rotated "residual stream" label once sat on a ⊕);
* a label is crossed by a line or an arrow;
* a label leaves the panel, or its colour has a contrast below 4.5 (WCAG AA) on the panel.

Text is measured with DejaVu Sans's metrics (through Matplotlib); the measurements are
only used here, so the SVG written never depends on them. In a Chinese drawing (``cjk``) a
CJK character or full-width punctuation mark is 1 em wide, and so are the signs East Asian
fonts draw full-width (·, ×, →, ≤, …, curly quotes: Unicode's "ambiguous" width) unless
the text is set in the code font; such a line also stands taller (0.88 em above the baseline).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from scripts.figures.palette import INK, PANEL

Point = tuple[float, float]


class LayoutError(ValueError):
    """A diagram's labels overlap, touch a mark, are crossed by a line or leave the panel."""


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21; text wants at least 4.5)."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted([luminance(fg), luminance(bg)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


_measure_cache: dict[tuple[str, float, bool, bool], float] = {}


def _dejavu_width(s: str, size: float, mono: bool, bold: bool) -> float:
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


def is_wide(ch: str, mono: bool = False) -> bool:
    """Whether a CJK font draws ``ch`` 1 em wide (in the code font only true CJK characters)."""
    kind = unicodedata.east_asian_width(ch)
    return kind in ("W", "F") or (kind == "A" and not mono)


def text_width(s: str, size: float, mono: bool = False, bold: bool = False, cjk: bool = False) -> float:
    """Width of ``s`` in px at ``size`` px: DejaVu Sans (Mono), and with ``cjk`` (a Chinese
    drawing) 1 em for each wide character (:func:`is_wide`)."""
    if not cjk:
        return _dejavu_width(s, size, mono, bold)
    width, run = 0.0, ""
    for ch in s:
        if is_wide(ch, mono):
            width += size + (_dejavu_width(run, size, mono, bold) if run else 0.0)
            run = ""
        else:
            run += ch
    return width + (_dejavu_width(run, size, mono, bold) if run else 0.0)


def _axes(poly: Sequence[Point]) -> list[Point]:
    """The unit normals of a convex polygon's edges (and, for a segment, its direction too)."""
    found = []
    for i in range(len(poly)):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % len(poly)]
        norm = math.hypot(x1 - x0, y1 - y0)
        if norm:
            found.append(((y1 - y0) / norm, (x0 - x1) / norm))
            if len(poly) == 2:
                found.append(((x1 - x0) / norm, (y1 - y0) / norm))
    return found


def polygons_overlap(a: Sequence[Point], b: Sequence[Point], tolerance: float = 0.5) -> bool:
    """Whether two convex polygons (a segment counts as one) overlap by more than ``tolerance``
    px (the separating-axis test)."""
    for nx, ny in _axes(a) + _axes(b):
        pa = [px * nx + py * ny for px, py in a]
        pb = [px * nx + py * ny for px, py in b]
        if max(pa) <= min(pb) + tolerance or max(pb) <= min(pa) + tolerance:
            return False
    return True


def distance_to_polygon(p: Point, poly: Sequence[Point]) -> float:
    """Distance from ``p`` to a convex polygon: 0 inside it."""
    inside = all((x1 - x0) * (p[1] - y0) - (y1 - y0) * (p[0] - x0) >= 0
                 for (x0, y0), (x1, y1) in zip(poly, [*poly[1:], poly[0]], strict=True))
    inside = inside or all((x1 - x0) * (p[1] - y0) - (y1 - y0) * (p[0] - x0) <= 0
                           for (x0, y0), (x1, y1) in zip(poly, [*poly[1:], poly[0]], strict=True))
    if inside:
        return 0.0
    best = math.inf
    for (x0, y0), (x1, y1) in zip(poly, [*poly[1:], poly[0]], strict=True):
        dx, dy = x1 - x0, y1 - y0
        t = max(0.0, min(1.0, ((p[0] - x0) * dx + (p[1] - y0) * dy) / (dx * dx + dy * dy or 1.0)))
        best = min(best, math.hypot(p[0] - x0 - t * dx, p[1] - y0 - t * dy))
    return best


@dataclass
class Label:
    """Where a label's text lies: the four corners of its (possibly rotated) box."""

    text: str
    corners: list[Point]
    fill: str = INK

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The upright bounding box: x0, y0, x1, y1."""
        xs, ys = [p[0] for p in self.corners], [p[1] for p in self.corners]
        return min(xs), min(ys), max(xs), max(ys)

    def overlaps(self, other: Label, tolerance: float = 0.5) -> bool:
        """Whether the two boxes intersect."""
        return polygons_overlap(self.corners, other.corners, tolerance)


def label_corners(x: float, y: float, width: float, size: float, anchor: str,
                  rotate: float = 0.0, ascent: float = 0.76) -> list[Point]:
    """The corners of a line of text ``width`` px wide whose baseline starts (``anchor``) at
    ``(x, y)``, rotated by ``rotate`` degrees around that point, as SVG does; the text rises
    ``ascent`` em above the baseline (0.88 for CJK characters)."""
    x0 = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    y0, y1 = y - ascent * size, y + 0.24 * size
    corners = [(x0, y0), (x0 + width, y0), (x0 + width, y1), (x0, y1)]
    if rotate:
        a = math.radians(rotate)
        corners = [(x + (px - x) * math.cos(a) - (py - y) * math.sin(a),
                    y + (px - x) * math.sin(a) + (py - y) * math.cos(a)) for px, py in corners]
    return corners


def check_layout(title: str, width: float, height: float, labels: Sequence[Label],
                 circles: Sequence[tuple[float, float, float]] = (),
                 segments: Sequence[tuple[Point, Point]] = (), *, gap: float = 1.5) -> None:
    """Raise :class:`LayoutError` listing every problem of a layout (see the module's docstring).

    ``circles`` are ``(cx, cy, r)``: a label must keep ``gap`` px from each. ``segments``
    are the straight pieces of the lines drawn: none may cross a label.
    """
    margin, problems = 2.0, []
    for lab in labels:
        x0, y0, x1, y1 = lab.box
        if x0 < margin or y0 < margin or x1 > width - margin or y1 > height - margin:
            problems.append(f"label {lab.text!r} leaves the panel: {lab.box}")
        if contrast(lab.fill, PANEL) < 4.5:
            problems.append(f"label {lab.text!r}: colour {lab.fill} has contrast "
                            f"{contrast(lab.fill, PANEL):.2f} < 4.5 on the panel")
        for cx, cy, r in circles:
            if distance_to_polygon((cx, cy), lab.corners) < r + gap:
                problems.append(f"label {lab.text!r} touches the circle at ({cx:g}, {cy:g})")
        for a, b in segments:
            if polygons_overlap([a, b], lab.corners):
                problems.append(f"label {lab.text!r} is crossed by the line {a} - {b}")
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if a.overlaps(b):
                problems.append(f"labels {a.text!r} and {b.text!r} overlap")
    if problems:
        raise LayoutError(f"{title}:\n  " + "\n  ".join(problems))
