"""One attention head: queries, keys and values, scores and weights (Chapter 4)."""

from __future__ import annotations

from scripts.figures.palette import (
    BLUE,
    BLUE_TEXT,
    GREEN,
    GREEN_TEXT,
    INK,
    MUTED,
    ORANGE,
    ORANGE_TEXT,
    SKY,
    VERMILLION,
    tint,
)
from scripts.figures.strings import translator
from scripts.figures.svg import Svg, matrix, shape


def queries_keys_values(language: str = "en") -> Svg:
    """Four tokens' x projected to q, k, v; scores, softmax weights, and the weighted values."""
    _ = translator(language)
    s = Svg(800, 500, _("Queries, keys and values in one attention head"),
            _("Each token's vector x (d_model channels) is mapped by three learned matrices to a "
              "query, a key and a value of d_head channels. Queries times keys, divided by the square "
              "root of d_head, give a T by T table of scores; a softmax along each row turns them into "
              "weights that sum to 1; the weights mix the values into one output vector per token."), language)
    tokens = ["Building", " rapport", " is", " a"]
    T = len(tokens)
    s.text(24, 38, _("One attention head: queries, keys and values"), size=17, bold=True, anchor="start")
    s.text(24, 60, _("Chapter 4's sentence, first T = 4 tokens; shapes for a batch of B sequences"),
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
    blocks = [("q", _("query: what token t looks for"), BLUE, 92),
              ("k", _("key: what token s offers"), ORANGE, 210),
              ("v", _("value: what token s hands over"), GREEN, 348)]
    for name, _meaning, colour, y in blocks:
        matrix(s, mx, y, T, 4, cw, ch, colour, amount=0.4)
        s.text(mx + 2 * cw, y - 8, name, size=15, bold=True, fill=INK)
        s.arrow([(xx + 96 + 6, xy + T * ch / 2), (mx - 8, y + T * ch / 2)], colour=colour, width=1.8)
    # labels on the three projection arrows
    s.text(232, 168, "x @ W_q", size=12, mono=True, fill=BLUE_TEXT)
    s.text(262, 218, "x @ W_k", size=12, mono=True, fill=ORANGE_TEXT)
    s.text(228, 336, "x @ W_v", size=12, mono=True, fill=GREEN_TEXT)
    s.text(150, 360, _("each W: d_model × d_head"), size=11.5, fill=MUTED)
    shape(s, mx + 28, 466, "(B, T, d_head)", anchor="middle")
    s.text(mx + 28, 483, "d_head = 16", size=11.5, fill=MUTED)
    # scores
    sx, sy, scw, sch = 470, 120, 28, 24
    scores = [[0.9, 0.3, 0.1, 0.4], [0.6, 0.8, 0.2, 0.1], [0.2, 0.5, 0.7, 0.3], [0.4, 0.1, 0.6, 0.9]]
    matrix(s, sx, sy, T, T, scw, sch, VERMILLION, values=scores)
    s.text(sx + 2 * scw, sy - 30, _("scores"), size=14, bold=True)
    s.text(sx + 2 * scw, sy - 12, "q @ kᵀ / √d_head", size=12, mono=True)
    shape(s, sx + 2 * scw, sy + T * sch + 18, "(B, T, T)", anchor="middle")
    s.text(sx - 6, sy + T * sch + 36, _("rows: queries, columns: keys"), size=11.5, anchor="start",
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
    s.text(wx + 2 * scw, sy - 30, _("weights"), size=14, bold=True)
    s.text(wx + 2 * scw, sy - 12, _("each row sums to 1"), size=11.5, fill=MUTED)
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
    s.text(540, 422, _("each output row is a weighted"), size=11.5, fill=MUTED)
    s.text(540, 437, _("mix of the value rows"), size=11.5, fill=MUTED)
    shape(s, ox + 28, 466, "(B, T, d_head)", anchor="middle")
    # legend
    for i, (_name, meaning, colour, _y) in enumerate(blocks):
        y = 430 + i * 20
        s.rect(24, y - 11, 12, 12, fill=tint(colour, 0.4), stroke=colour, width=1.2)
        s.text(44, y, meaning, size=11.5, anchor="start")
    return s
