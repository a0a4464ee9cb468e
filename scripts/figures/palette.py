"""Colours and fonts of the diagrams: the Okabe-Ito palette, and darker shades of it for text."""

from __future__ import annotations

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
# The Chinese drawings: a CJK face first (its Latin letters are narrower than DejaVu's, so the
# layout check, which measures Latin text in DejaVu Sans, stays on the safe side).
CJK_SANS = ("'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', "
            "'WenQuanYi Micro Hei', 'DejaVu Sans', sans-serif")


def shade(colour: str, amount: float) -> str:
    """``colour`` mixed with black: ``amount`` 0 is the colour, 1 black."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c * (1 - amount)):02x}" for c in rgb)


def tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` 0 is white, 1 the colour itself."""
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * amount):02x}" for c in rgb)


# Text in a hue: the Okabe-Ito colour darkened until it reads as text on the panel.
BLUE_TEXT, ORANGE_TEXT, GREEN_TEXT, VERMILLION_TEXT = (
    BLUE, shade(ORANGE, 0.4), shade(GREEN, 0.25), shade(VERMILLION, 0.2))
PURPLE_TEXT = shade(PURPLE, 0.45)
SHAPE_TEXT = "#20456b"  # tensor shapes
