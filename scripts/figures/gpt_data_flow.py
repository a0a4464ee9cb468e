"""The whole GPT, from token ids to logits, with the shape of the tensor on every arrow (Chapter 6)."""

from __future__ import annotations

from scripts.figures.palette import (
    BLACK,
    BLUE,
    BLUE_TEXT,
    GREEN,
    GREEN_TEXT,
    GREY_EDGE,
    LINE,
    MUTED,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    VERMILLION_TEXT,
    tint,
)
from scripts.figures.strings import translator
from scripts.figures.svg import Svg, shape


def book_vocab_size() -> int:
    """The book model's number of outputs (Chapter 7's compact vocabulary, <unk> included)."""
    from shared.book import load_book_data

    return len(load_book_data()[0])


def size_table() -> list[tuple[str, str, str, str]]:
    """The rows of the diagram's table, read from the three configurations: Chapter 6's
    ``GPTConfig()``, the trained book model's and GPT-2's."""
    from shared.book import book_model_config
    from shared.model import GPTConfig

    configs = [GPTConfig(), book_model_config(book_vocab_size()), GPTConfig.gpt2()]
    rows = [("C = d_model", "d_model"), ("n_heads", "n_heads"), ("d_head", "d_head"),
            ("n_layers", "n_layers"), ("context_length", "context_length"), ("vocab_size", "vocab_size"),
            ("pos_embedding", "pos_embedding"), ("tie_weights", "tie_weights")]

    def cell(value) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return f"{value:,}" if isinstance(value, int) else str(value)

    return [(name, *(cell(getattr(c, attr)) for c in configs)) for name, attr in rows]


def gpt_data_flow(language: str = "en") -> Svg:
    """Token ids to logits through the embedding, positions, the blocks, ln_f and the head."""
    _ = translator(language)
    s = Svg(800, 925, _("The GPT data flow, with tensor shapes"),
            _("Token ids of shape (B, T) go through the token embedding to (B, T, C); the position "
              "vectors (T, C) are added; n_layers Transformer blocks keep the shape (B, T, C), each "
              "adding multi-head attention and a feed-forward network to the residual stream after a "
              "layer norm; a final layer norm and a linear head give logits of shape (B, T, vocab_size). A table "
              "gives the sizes and switches of Chapter 6's default model, the trained book model and GPT-2: "
              "sinusoidal or learned positions, and whether the output layer is tied to the token embedding."),
            language)
    cx, bw = 215, 236  # the main column: centre and box width
    left = cx - bw / 2
    s.text(24, 38, _("GPT: from token ids to next-token scores"), size=17, bold=True, anchor="start")
    s.text(24, 60, _("B: batch size  ·  T: tokens per sequence (≤ context_length)  ·  C = d_model"),
           size=12.5, anchor="start", fill=MUTED)

    s.box(left, 80, bw, 44, [(_("token ids  idx"), {"bold": True})], colour=BLACK, fill_amount=0.06)
    s.arrow([(cx, 124), (cx, 156)])
    shape(s, cx + 10, 145, "(B, T)")
    s.box(left, 156, bw, 50, [(_("token embedding"), {"bold": True}),
                              ("tok_emb: vocab_size × d_model", {"size": 11.5, "mono": True})],
          colour=SKY, fill_amount=0.3)
    s.arrow([(cx, 206), (cx, 237)])
    shape(s, cx + 10, 226, "(B, T, C)")
    s.plus(cx, 249)
    # positions, from the right
    px = 470
    s.box(px, 224, 250, 50, [(_("positions"), {"bold": True}),
                             (_("sinusoidal table or pos_emb"), {"size": 11.5, "mono": True})],
          colour=SKY, fill_amount=0.3)
    s.arrow([(px, 249), (cx + 12, 249)])
    shape(s, 300, 242, "(T, C)")
    s.text(300, 270, _("same for every sequence"), size=11.5, anchor="start", fill=MUTED)
    s.arrow([(cx, 260), (cx, 292)])
    shape(s, cx + 10, 281, "(B, T, C)")
    s.box(left + 48, 292, bw - 96, 30, [("dropout", {"size": 12.5})], colour=BLACK, fill_amount=0.06)

    # the stack of blocks
    top, bottom = 345, 650
    s.rect(40, top, 720, bottom - top, fill=tint(VERMILLION, 0.05), stroke=VERMILLION, width=1.4,
           rx=12, dash="7 5")
    s.text(56, top + 24, _("Block"), size=14, bold=True, anchor="start")
    s.text(56, top + 42, _("repeated n_layers times"), size=11.5, anchor="start", fill=MUTED)
    s.text(56, top + 58, "(model.blocks)", size=11.5, anchor="start", fill=MUTED, mono=True)
    s.arrow([(cx, 322), (cx, top + 1)])
    shape(s, cx + 10, 337, "(B, T, C)")
    # residual stream: a thick line through the block, sublayers branch off to the right
    stream = tint(VERMILLION, 0.85)
    plus1, plus2 = 505, 630
    s.polyline([(cx, top + 1), (cx, bottom - 1)], colour=stream, width=4)
    s.text(cx + 22, 436, _("residual stream"), size=12, anchor="middle", fill=VERMILLION_TEXT, bold=True,
           rotate=-90)
    sx, sw = 300, 200  # sublayer column
    scx = sx + sw / 2
    # attention sublayer
    s.polyline([(cx, 368), (scx, 368)], colour=LINE)
    s.arrow([(scx, 368), (scx, 382)])
    s.box(sx, 382, sw, 34, [("LayerNorm  ln1", {"size": 12.5})], colour=PURPLE, fill_amount=0.22)
    s.arrow([(scx, 416), (scx, 434)])
    s.box(sx, 434, sw, 48, [(_("multi-head attention"), {"bold": True, "size": 12.5}),
                            ("attn", {"size": 11.5, "mono": True})], colour=BLUE, fill_amount=0.18)
    s.arrow([(scx, 482), (scx, plus1), (cx + 11, plus1)])
    s.plus(cx, plus1, colour=VERMILLION)
    s.text(sx + sw + 14, 452, "q, k, v: (B, n_heads, T, d_head)", size=11.5, mono=True,
           anchor="start", fill=BLUE_TEXT)
    s.text(sx + sw + 14, 470, _("tokens exchange information"), size=11.5, anchor="start", fill=MUTED)
    shape(s, scx + 8, 499, "(B, T, C)")
    # feed-forward sublayer
    s.polyline([(cx, 528), (scx, 528)], colour=LINE)
    s.arrow([(scx, 528), (scx, 542)])
    s.box(sx, 542, sw, 34, [("LayerNorm  ln2", {"size": 12.5})], colour=PURPLE, fill_amount=0.22)
    s.arrow([(scx, 576), (scx, 592)])
    s.box(sx, 592, sw, 30, [(_("feed-forward  ffn"), {"bold": True, "size": 12.5})],
          colour=GREEN, fill_amount=0.18)
    s.arrow([(scx, 622), (scx, plus2), (cx + 11, plus2)])
    s.plus(cx, plus2, colour=VERMILLION)
    s.text(sx + sw + 14, 603, _("hidden layer: (B, T, 4·C)"), size=11.5, mono=True, anchor="start",
           fill=GREEN_TEXT)
    s.text(sx + sw + 14, 620, _("each token on its own"), size=11.5, anchor="start", fill=MUTED)
    s.lines(56, 545, _("every arrow\nin the block:").split("\n"), size=11.5, anchor="start", fill=MUTED,
            leading=15)
    shape(s, 56, 577, "(B, T, C)")

    # output stage
    s.arrow([(cx, plus2 + 11), (cx, 686)])
    shape(s, cx + 10, 673, "(B, T, C)")
    s.box(left, 686, bw, 36, [(_("final LayerNorm  ln_f"), {"size": 12.5})], colour=PURPLE,
          fill_amount=0.22)
    s.arrow([(cx, 722), (cx, 754)])
    shape(s, cx + 10, 743, "(B, T, C)")
    s.box(left, 754, bw, 50, [(_("linear head"), {"bold": True}),
                              ("head: d_model → vocab_size", {"size": 11.5, "mono": True})],
          colour=ORANGE, fill_amount=0.25)
    s.arrow([(cx, 804), (cx, 838)])
    shape(s, cx + 10, 826, "(B, T, vocab_size)")
    s.box(left, 838, bw, 44, [("logits", {"bold": True}),
                              (_("a score for every possible next token"), {"size": 11.5})],
          colour=BLACK, fill_amount=0.06)

    # the sizes used in the book
    tx, ty = 400, 690
    s.text(tx, ty, _("Sizes in the book"), size=13, bold=True, anchor="start")
    cols = [tx + 170, tx + 250, tx + 330]
    for c, head in zip(cols, [_("Ch. 6"), _("Ch. 7"), "GPT-2"], strict=True):
        s.text(c, ty + 22, head, size=11.5, bold=True, anchor="end")
    rows = size_table()
    for i, (name, *vals) in enumerate(rows):
        y = ty + 42 + i * 18
        s.text(tx, y, name, size=11.5, mono=True, anchor="start")
        for c, v in zip(cols, vals, strict=True):
            s.text(c, y, _(v) if v in ("yes", "no") else v, size=11.5, anchor="end")
    s.polyline([(tx, ty + 28), (tx + 330, ty + 28)], colour=GREY_EDGE, width=1)
    s.lines(tx, ty + 42 + len(rows) * 18 + 8, [_("Ch. 6: GPTConfig()  ·  Ch. 7: the trained book model"),
                                                _("tie_weights: head.weight is tok_emb.weight")],
            size=11.5, anchor="start", fill=MUTED, leading=16)
    return s
