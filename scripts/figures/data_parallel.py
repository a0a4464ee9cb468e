"""Data parallelism on two ranks (Chapter 10)."""

from __future__ import annotations

from scripts.figures.palette import BLUE, GREEN, GREY_EDGE, MUTED, ORANGE, SHAPE_TEXT
from scripts.figures.strings import translator
from scripts.figures.svg import Svg


def data_parallel(language: str = "en") -> Svg:
    """Two ranks: the split batch, the gradients, the all-reduce and the one checkpoint writer."""
    _ = translator(language)
    s = Svg(800, 520, _("Data parallelism on two ranks"),
            _("A global batch of 16 windows is split between two ranks: rank 0 takes windows 0, 2, 4 and "
              "so on, rank 1 windows 1, 3, 5 and so on, 8 each. Each rank holds a full copy of the model and "
              "computes the gradient of its own 8 windows, g0 and g1. An all-reduce gives every rank the mean "
              "(g0 + g1) / 2, which is the gradient of the whole batch, so both ranks apply the same AdamW "
              "update and their copies stay identical. Rank 0 alone writes the checkpoint."), language)
    s.text(24, 36, _("Data parallelism: a full copy per rank, a share of each batch"), size=16, bold=True,
           anchor="start")
    s.text(24, 58, _("two ranks (processes); DistributedSampler's split; gradients averaged by an all-reduce"),
           size=12, anchor="start", fill=MUTED)
    s.box(250, 76, 300, 46, [(_("global batch: 16 windows"), {"bold": True}),
                             (_("(B, T) = (16, 16), the same on every rank"), {"size": 11.5, "fill": MUTED})],
          colour=GREY_EDGE, fill_amount=0.25)
    cols = [(60, "rank 0", _("windows 0, 2, 4, ..., 14"), "g0", BLUE), (440, "rank 1", _("windows 1, 3, 5, ..., 15"),
                                                                      "g1", ORANGE)]
    for x, name, share, grad, colour in cols:
        cx = x + 150
        s.arrow([(400, 122), (400, 134), (cx, 134), (cx, 150)])
        s.box(x, 150, 300, 46, [(_("{rank}: {share}", rank=name, share=share), {"bold": True}),
                                (_("(8, 16): its half of the batch"), {"size": 11.5, "mono": True,
                                                                     "fill": SHAPE_TEXT})],
              colour=colour, fill_amount=0.15)
        s.arrow([(cx, 196), (cx, 214)])
        s.box(x, 214, 300, 56, [(_("a full copy of the GPT"), {"bold": True}),
                                (_("forward, loss, backward"), {"size": 11.5}),
                                (_("gradient {g} of its 8 windows", g=grad), {"size": 11.5})],
              colour=colour, fill_amount=0.3)
        s.arrow([(cx, 270), (cx, 300)])
        s.arrow([(cx, 346), (cx, 372)])
        s.box(x, 372, 300, 46, [(_("AdamW step with g"), {"bold": True}),
                                (_("the same update on both ranks"), {"size": 11.5})],
              colour=colour, fill_amount=0.15)
    s.box(60, 300, 680, 46, [(_("all-reduce: every rank receives g = (g0 + g1) / 2"), {"bold": True}),
                             (_("the mean of the halves' gradients = the gradient of the whole batch"),
                              {"size": 11.5})],
          colour=GREEN, fill_amount=0.25)
    s.arrow([(210, 418), (210, 440)])
    s.box(60, 440, 300, 46, [(_("rank 0 writes the checkpoint"), {"bold": True}),
                             (_("atomically: a temporary file, then rename"), {"size": 11.5})],
          colour=GREY_EDGE, fill_amount=0.25)
    s.lines(440, 456, _("rank 1 writes nothing: its weights are\nidentical to rank 0's").split("\n"), size=11.5,
            anchor="start", fill=MUTED)
    s.text(400, 508, _("with W ranks: windows r, r + W, r + 2W, ...; g = (g0 + ... + g(W-1)) / W"),
           size=11.5, fill=MUTED)
    return s
