"""The embedding as a lookup and as a one-hot product, and the tied output layer that reuses its
rows as output scores (Chapter 2). A toy table of 8 tokens by 6 channels stands for
``vocab_size`` by ``d_model``."""

from __future__ import annotations

from scripts.figures.palette import BLUE, GREY_EDGE, MUTED, ORANGE, ORANGE_TEXT, SHAPE_TEXT, SKY, tint
from scripts.figures.strings import translator
from scripts.figures.svg import Svg, shape

V, D, ROW = 8, 6, 5  # toy vocabulary, toy width, the token looked up


def table(s: Svg, x: float, y: float, rows: int, cols: int, cw: float, ch: float, hot_row: int | None = None,
          hot_col: int | None = None, colour: str = SKY, hot: str = ORANGE) -> None:
    """A grid of cells, one row (or column) picked out in ``hot``."""
    for r in range(rows):
        for c in range(cols):
            picked = r == hot_row or c == hot_col
            s.rect(x + c * cw, y + r * ch, cw, ch, fill=tint(hot if picked else colour, 0.55 if picked else 0.25),
                   stroke="#ffffff", width=1.2)
    s.rect(x, y, cols * cw, rows * ch, stroke=GREY_EDGE, width=1.2)


def embedding_lookup(language: str = "en") -> Svg:
    """Top: e_v @ W_E = W_E[v]. Bottom: the tied head, h @ W_E.T = one score per row."""
    _ = translator(language)
    s = Svg(800, 590, _("The embedding lookup and the tied output layer"),
            _("Top: token id v written as a one-hot vector e_v (a 1 at place v, 0 elsewhere) times the "
              "embedding matrix W_E of shape (vocab_size, d_model) gives row v of W_E, the token's vector: the "
              "product only copies that row, so nn.Embedding simply looks it up. Bottom: with tied weights the "
              "output layer reuses W_E: the final vector h times the transpose of W_E gives one score per token, "
              "the score of token v being the dot product of h with row v."), language)
    s.text(24, 36, _("One table, used twice: embedding lookup and tied output layer"), size=16, bold=True,
           anchor="start")
    s.text(24, 58, _("a toy table: vocab_size = {V} tokens, d_model = {D} channels; token id v = {v}",
                     V=V, D=D, v=ROW), size=12, anchor="start", fill=MUTED)
    cw, ch = 22, 22
    # top: one-hot times W_E
    y = 112
    s.text(24, y - 14, _("In: the token embedding, tok_emb(idx)"), size=13.5, bold=True, anchor="start")
    ox = 40
    for c in range(V):
        one = c == ROW
        s.rect(ox + c * cw, y + ROW * ch, cw, ch, fill=tint(ORANGE, 0.55) if one else tint(GREY_EDGE, 0.15),
               stroke="#ffffff", width=1.2)
        s.text(ox + c * cw + cw / 2, y + ROW * ch + 15, "1" if one else "0", size=11.5, mono=True, check=False)
        s.text(ox + c * cw + cw / 2, y + ROW * ch - 6, str(c), size=9.5, fill=MUTED)
    s.rect(ox, y + ROW * ch, V * cw, ch, stroke=GREY_EDGE, width=1.2)
    s.text(ox + V * cw / 2, y + (ROW + 1) * ch + 18, _("one-hot e_v"), size=12, bold=True)
    shape(s, ox + V * cw / 2, y + (ROW + 1) * ch + 34, "(1, vocab_size)", anchor="middle")
    s.text(ox + V * cw + 18, y + (ROW + 0.5) * ch + 6, "@", size=18, bold=True)
    wx = ox + V * cw + 40
    table(s, wx, y, V, D, cw, ch, hot_row=ROW)
    for r in range(V):
        s.text(wx - 6, y + r * ch + 15, str(r), size=9.5, anchor="end", fill=ORANGE_TEXT if r == ROW else MUTED)
    s.text(wx + D * cw / 2, y + V * ch + 18, "W_E = tok_emb.weight", size=12, bold=True)
    shape(s, wx + D * cw / 2, y + V * ch + 34, "(vocab_size, d_model)", anchor="middle")
    ex = wx + D * cw + 26
    s.text(ex, y + (ROW + 0.5) * ch + 6, "=", size=18, bold=True)
    rx = ex + 26
    table(s, rx, y + ROW * ch, 1, D, cw, ch, hot_row=0)
    s.text(rx + D * cw / 2, y + (ROW + 1) * ch + 18, _("row v of W_E"), size=12, bold=True)
    shape(s, rx + D * cw / 2, y + (ROW + 1) * ch + 34, "(1, d_model)", anchor="middle")
    s.lines(rx + D * cw + 20, y + 30, _("every product is 0 or\na copy of row v: so\nnn.Embedding just\n"
                                         "reads the row (W_E[v])").split("\n"), size=11.5, anchor="start", fill=MUTED)
    # bottom: the tied head
    y = 372
    s.polyline([(24, y - 34), (776, y - 34)], colour=GREY_EDGE, width=1)
    s.text(24, y - 12, _("Out: the tied output layer, head(h) with head.weight = tok_emb.weight"), size=13.5,
           bold=True, anchor="start")
    hx = 40
    table(s, hx, y + 40, 1, D, cw, ch, colour=BLUE)
    s.text(hx + D * cw / 2, y + 80, _("final vector h"), size=12, bold=True)
    shape(s, hx + D * cw / 2, y + 96, "(1, d_model)", anchor="middle")
    s.text(hx + D * cw + 18, y + 57, "@", size=18, bold=True)
    tx = hx + D * cw + 40
    table(s, tx, y + 10, D, V, cw * 0.9, ch * 0.8, hot_col=ROW)
    s.text(tx + V * cw * 0.45, y + 10 + D * ch * 0.8 + 18, _("W_Eᵀ: the same numbers"), size=12, bold=True)
    shape(s, tx + V * cw * 0.45, y + 10 + D * ch * 0.8 + 34, "(d_model, vocab_size)", anchor="middle")
    sx = tx + V * cw * 0.9 + 26
    s.text(sx, y + 57, "=", size=18, bold=True)
    lx = sx + 26
    table(s, lx, y + 40, 1, V, cw * 0.9, ch, hot_col=ROW, colour=BLUE)
    s.text(lx + V * cw * 0.45, y + 80, "logits", size=12, bold=True)
    shape(s, lx + V * cw * 0.45, y + 96, "(1, vocab_size)", anchor="middle")
    s.lines(lx + V * cw * 0.9 + 16, y + 30, _("score of token v =\nh · (row v of W_E)\n\n"
                                                "a token scores high when\nh points along its row").split("\n"),
            size=11.5, anchor="start", fill=MUTED)
    s.lines(24, y + 178, _("Tied (tie_weights=True): the book model of Chapter 7 and GPT-2. GPTConfig()'s default "
                           "keeps a separate head,\na second (vocab_size, d_model) matrix.").split("\n"), size=11.5,
            anchor="start", fill=SHAPE_TEXT, leading=16)
    return s
