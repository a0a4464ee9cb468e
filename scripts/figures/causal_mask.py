"""The causal mask: scores, masked scores and weights for five tokens (Chapter 5)."""

from __future__ import annotations

import math

from scripts.figures.palette import BLUE, GREY_EDGE, GREY_FILL, INK, MUTED, VERMILLION, tint
from scripts.figures.strings import translator
from scripts.figures.svg import Svg


def causal_mask(language: str = "en") -> Svg:
    """Scores, masked scores and weights side by side, with the staircase of the mask."""
    _ = translator(language)
    tokens = ["Building", " rapport", " is", " a", " fundamental"]
    T = len(tokens)
    scores = [[0.8, 1.4, -0.3, 0.5, 1.1], [0.2, -0.4, 0.9, 1.3, -0.6], [-0.5, 0.3, -0.8, 0.2, 0.7],
              [0.6, -0.2, 0.4, 0.9, -1.0], [0.1, 0.7, -0.6, 0.3, 0.5]]
    weights = []
    for t, row in enumerate(scores):
        e = [math.exp(v) if s_ <= t else 0.0 for s_, v in enumerate(row)]
        weights.append([v / sum(e) for v in e])
    s = Svg(800, 400, _("The causal mask"),
            _("Three T by T tables for the tokens 'Building rapport is a fundamental', queries as rows "
              "and keys as columns. The scores fill the whole table. The mask replaces every score "
              "above the diagonal (a key later than its query) with minus infinity. After the softmax "
              "those entries are exactly 0 and each row's weights, shared among the keys up to and "
              "including the query's own position, sum to 1."), language)
    s.text(24, 34, _("The causal mask: query t may attend to key s only if s ≤ t"), size=16,
           bold=True, anchor="start")
    cw, ch = 36, 28
    gy = 150
    grids = [(108, _("scores")), (338, _("masked scores")), (568, _("weights"))]
    for gx, title in grids:
        s.text(gx + T * cw / 2, 66, title, size=14, bold=True)
        for i, t in enumerate(tokens):
            s.text(gx + i * cw + cw / 2 + 4, gy - 8, t.strip(), size=11.5, anchor="start", rotate=-50)
    for i, t in enumerate(tokens):
        s.text(grids[0][0] - 8, gy + i * ch + 19, t.strip(), size=12, anchor="end")
    s.text(20, gy - 40, _("key (column) →"), size=11.5, anchor="start", fill=MUTED)
    s.text(20, gy - 14, _("query (row) ↓"), size=11.5, anchor="start", fill=MUTED)
    for g, (gx, _title) in enumerate(grids):
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
    notes = [(grids[0][0], _("every query against every key:\nposition t would see t + 1")),
             (grids[1][0], _("keys after the query (s > t)\nare set to −∞")),
             (grids[2][0], _("exactly 0 above the diagonal;\neach row still sums to 1"))]
    for gx, rows in notes:
        s.lines(gx + T * cw / 2, gy + T * ch + 26, rows.split("\n"), size=11.5, leading=16)
    s.text(24, 382, _("mask = torch.tril(torch.ones(T, T)): True on and below the diagonal;"
                      "  scores.masked_fill(~mask, -inf)"), size=11.5, mono=True, anchor="start", fill=MUTED)
    return s
