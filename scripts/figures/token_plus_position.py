"""Token vector plus position vector is the first block's input (Chapter 3), and the two kinds of
position vectors: the fixed sinusoidal table and learned rows. The sinusoidal cells are computed
by ``shared.model.sinusoidal_positions``."""

from __future__ import annotations

from scripts.figures.palette import (
    BLUE,
    GREY_EDGE,
    INK,
    MUTED,
    ORANGE,
    PURPLE,
    SHAPE_TEXT,
    SKY,
    tint,
)
from scripts.figures.strings import translator
from scripts.figures.svg import Svg, shape

TOKENS = ["Building", " rapport", " is", " a"]  # Chapter 4's sentence, first T = 4 tokens
COLS = 8  # channels drawn (of d_model)


def sinusoid_cells(rows: int) -> list[list[float]]:
    """The first ``COLS`` channels of the book's sinusoidal table for positions 0 .. rows - 1, in [0, 1]."""
    from shared.model import GPTConfig, sinusoidal_positions

    cfg = GPTConfig()
    table = sinusoidal_positions(cfg.context_length, cfg.d_model)
    return [[(float(v) + 1) / 2 for v in table[r, :COLS]] for r in range(rows)]


def grid(s: Svg, x: float, y: float, values: list[list[float]], colour: str, cw: float = 16,
         ch: float = 20) -> None:
    """Cells shaded by ``values`` in [0, 1]."""
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            s.rect(x + c * cw, y + r * ch, cw, ch, fill=tint(colour, 0.1 + 0.75 * v), stroke="#ffffff", width=1)
    s.rect(x, y, len(values[0]) * cw, len(values) * ch, stroke=GREY_EDGE, width=1.2)


def token_plus_position(language: str = "en") -> Svg:
    """Top: tok_emb(idx) + positions = x. Bottom: sinusoidal against learned positions."""
    _ = translator(language)
    T = len(TOKENS)
    s = Svg(800, 520, _("Token vectors plus position vectors"),
            _("For each of the T tokens, the token's vector from the embedding table and the vector of its "
              "position are added; the sum, of shape (B, T, C), is the first block's input. The same T position "
              "vectors are added to every sequence of the batch. The position vectors come either from the fixed "
              "sinusoidal table, with no parameters and a value for any position, or from a learned table "
              "pos_emb with one trained row per position up to context_length."), language)
    s.text(24, 36, _("The first block's input: token vector + position vector"), size=16, bold=True, anchor="start")
    s.text(24, 58, _("x = self.tok_emb(idx) + self.positions(0, T, idx.device), then dropout  (shared.model.GPT)"),
           size=12, anchor="start", mono=True, fill=MUTED)
    cw, ch, y = 16, 20, 100
    # pseudo-random token rows: a fixed pattern, only the shading of a picture
    tok = [[((r * 7 + c * 5) % 11) / 10 for c in range(COLS)] for r in range(T)]
    pos = sinusoid_cells(T)
    tx = 120
    for r, t in enumerate(TOKENS):
        s.text(tx - 8, y + r * ch + 14, t.strip(), size=11.5, anchor="end")
    grid(s, tx, y, tok, SKY)
    s.text(tx + COLS * cw / 2, y - 10, _("token vectors"), size=12, bold=True)
    shape(s, tx + COLS * cw / 2, y + T * ch + 18, "(B, T, C)", anchor="middle")
    s.text(tx + COLS * cw / 2, y + T * ch + 34, "tok_emb(idx)", size=11, mono=True, fill=MUTED)
    s.text(tx + COLS * cw + 22, y + T * ch / 2 + 7, "+", size=22, bold=True)
    px = tx + COLS * cw + 44
    for r in range(T):
        s.text(px + COLS * cw + 8, y + r * ch + 14, _("position {i}", i=r), size=11, anchor="start", fill=MUTED)
    grid(s, px, y, pos, PURPLE)
    s.text(px + COLS * cw / 2, y - 10, _("position vectors"), size=12, bold=True)
    shape(s, px + COLS * cw / 2, y + T * ch + 18, "(T, C)", anchor="middle")
    s.text(px + COLS * cw / 2, y + T * ch + 34, _("the same for every sequence"), size=11, fill=MUTED)
    ex = px + COLS * cw + 78
    s.text(ex, y + T * ch / 2 + 7, "=", size=22, bold=True)
    sx = ex + 24
    mixed = [[(a + b) / 2 for a, b in zip(rt, rp, strict=True)] for rt, rp in zip(tok, pos, strict=True)]
    grid(s, sx, y, mixed, BLUE)
    s.text(sx + COLS * cw / 2, y - 10, "x", size=13, bold=True, mono=True)
    shape(s, sx + COLS * cw / 2, y + T * ch + 18, "(B, T, C)", anchor="middle")
    s.text(sx + COLS * cw / 2, y + T * ch + 34, _("into the first block"), size=11, fill=MUTED)
    s.arrow([(sx + COLS * cw + 10, y + T * ch / 2), (sx + COLS * cw + 60, y + T * ch / 2)], colour=INK)
    s.text(sx + COLS * cw + 70, y + T * ch / 2 + 5, _("blocks"), size=12, anchor="start")
    s.text(24, y + T * ch + 66, _("{n} of the C = d_model channels drawn; the position cells are the book's "
                                  "sinusoidal table", n=COLS), size=11, anchor="start", fill=MUTED)
    # two kinds of position vectors
    y = 290
    s.polyline([(24, y - 20), (776, y - 20)], colour=GREY_EDGE, width=1)
    panels = [(24, _("sinusoidal (Chapter 3)"), PURPLE,
               _("a fixed formula: sin and cos of\nposition × frequency, pair by pair\n"
                 "no parameters; defined at any position\nGPTConfig() default: pos_table buffer")),
              (408, _("learned (GPT-2, Chapter 7's model)"), ORANGE,
               _("pos_emb = nn.Embedding(context_length,\nd_model): one trained row per position\n"
                 "context_length × d_model parameters;\nno row beyond context_length − 1"))]
    for x, title, colour, rows in panels:
        s.rect(x, y, 368, 150, fill=tint(colour, 0.08), stroke=colour, width=1.4, rx=8)
        s.text(x + 14, y + 24, title, size=13.5, bold=True, anchor="start")
        s.lines(x + 14, y + 50, rows.split("\n"), size=11.5, anchor="start", leading=18)
        s.text(x + 14, y + 134, "pos_embedding=\"sinusoidal\"" if colour == PURPLE else
               "pos_embedding=\"learned\"", size=11.5, mono=True, anchor="start", fill=SHAPE_TEXT)
    s.lines(24, y + 184, _("Both give a (T, C) table that is added the same way. Chapter 7 trains with learned "
                           "positions:\nthey start as small as the token rows, where the sinusoids would drown the "
                           "tokens at first.").split("\n"), size=11.5, anchor="start", leading=17, fill=MUTED)
    return s
