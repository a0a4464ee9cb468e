"""The book model's vocabulary (Chapter 7): built from the training split alone, with one
``<unk>`` output whose probability is shared evenly by every GPT-2 id without a row.

The numbers are computed from ``shared.book.load_book_data`` (the offline corpus), so they
cannot drift from the code."""

from __future__ import annotations

import math

from scripts.figures.palette import (
    BLUE,
    BLUE_TEXT,
    GREY_EDGE,
    GREY_FILL,
    INK,
    MUTED,
    ORANGE,
    ORANGE_TEXT,
    VERMILLION_TEXT,
    tint,
)
from scripts.figures.strings import translator
from scripts.figures.svg import Svg


def vocabulary_counts() -> dict[str, int]:
    """How GPT-2's ids fall: with a row of their own, seen once in the training split, never seen;
    and the rule's threshold ``MIN_COUNT``."""
    from shared.book import MIN_COUNT, load_book_data, load_book_tokens
    from shared.data import CompactVocab

    vocab = load_book_data()[0]
    seen = len(set(load_book_tokens()[0].tolist()))
    return {"all": CompactVocab.GPT2_VOCAB_SIZE, "rows": len(vocab.ids), "outputs": len(vocab),
            "unk_id": vocab.unk_id, "n_unk": vocab.n_unk_ids, "rare": seen - len(vocab.ids),
            "unseen": CompactVocab.GPT2_VOCAB_SIZE - seen, "min_count": MIN_COUNT}


def unk_vocabulary(language: str = "en") -> Svg:
    """GPT-2's ids on the left, the model's outputs on the right, the scoring rule below."""
    _ = translator(language)
    n = vocabulary_counts()
    extra = math.log(n["n_unk"])
    nums = {**n, "last": n["rows"] - 1, "extra": extra}  # the numbers the text shows
    s = Svg(800, 560, _("The book model's vocabulary and its <unk> output"), _(
            "GPT-2 has {all:,} token ids. The {rows:,} ids that occur at least {min_count} "
            "times in the training split each get an output row of their own, compact ids 0 to "
            "{last:,}. The other {n_unk:,} ids ({rare:,} seen once in the training split, "
            "{unseen:,} never) all map to one shared output, <unk>, compact id {unk_id:,}. When "
            "scoring, the probability of <unk> is split evenly among the {n_unk:,} ids, so a target "
            "without a row costs ln {n_unk:,}, about {extra:.2f}, more than the probability of <unk> alone.",
            **nums), language)
    s.text(24, 36, _("The book's vocabulary: built from the training split, one <unk> for the rest"), size=16,
           bold=True, anchor="start")
    s.text(24, 58, f"CompactVocab.from_tokens(train_ids, min_count={n['min_count']}, unk=True)"
           "  (shared.book.load_book_data)", size=12, anchor="start", mono=True, fill=MUTED)
    # GPT-2's ids
    lx, lw = 40, 270
    s.text(lx, 92, _("GPT-2's {all:,} token ids", **nums), size=13.5, bold=True, anchor="start")
    s.rect(lx, 104, lw, 78, fill=tint(BLUE, 0.22), stroke=BLUE, width=1.6, rx=6)
    s.lines(lx + 12, 128, _("{rows:,} ids that occur\n≥ {min_count} times in the training split", **nums).split("\n"),
            size=12, anchor="start", leading=17)
    s.text(lx + 12, 170, _("each keeps an identity"), size=11.5, anchor="start", fill=BLUE_TEXT)
    s.rect(lx, 194, lw, 118, fill=GREY_FILL, stroke=GREY_EDGE, width=1.6, rx=6)
    s.lines(lx + 12, 218, _("{n_unk:,} other ids:\n{rare:,} seen once in the training split,\n"
                             "{unseen:,} never seen there (including\nany token of the validation text only)",
                             **nums).split("\n"),
            size=12, anchor="start", leading=17)
    s.text(lx + 12, 296, _("no row: the data cannot teach them"), size=11.5, anchor="start", fill=MUTED)
    # the model's outputs
    rx, rw = 520, 240
    s.text(rx, 92, _("the model's {outputs:,} outputs", **nums), size=13.5, bold=True, anchor="start")
    s.rect(rx, 104, rw, 78, fill=tint(BLUE, 0.22), stroke=BLUE, width=1.6, rx=6)
    s.lines(rx + 12, 128, [_("compact ids 0 … {last:,}", **nums), _("one row and one output each")],
            size=12, anchor="start", leading=17)
    s.text(rx + 12, 170, "vocab.to_compact(ids)", size=11.5, anchor="start", mono=True, fill=BLUE_TEXT)
    s.rect(rx, 228, rw, 50, fill=tint(ORANGE, 0.3), stroke=ORANGE, width=1.6, rx=6)
    s.text(rx + 12, 249, _("<unk>  compact id {unk_id:,}", **nums), size=12.5, bold=True, anchor="start")
    s.text(rx + 12, 267, _("one row shared by {n_unk:,} ids", **nums), size=11.5, anchor="start", fill=ORANGE_TEXT)
    s.arrow([(lx + lw + 6, 143), (rx - 6, 143)], colour=BLUE, width=1.8)
    s.text((lx + lw + rx) / 2, 135, _("one to one"), size=11.5, fill=BLUE_TEXT)
    for y in (214, 238, 262, 286):  # many ids, one output
        s.arrow([(lx + lw + 6, y), (rx - 40, 253), (rx - 6, 253)], colour=GREY_EDGE, width=1.3)
    s.text((lx + lw + rx) / 2 - 14, 306, _("many to one"), size=11.5, fill=MUTED)
    # scoring
    y0 = 340
    s.rect(24, y0, 752, 200, fill=tint(ORANGE, 0.06), stroke=GREY_EDGE, width=1, rx=8)
    s.text(40, y0 + 24, _("Scoring over all {all:,} ids  (vocab.full_vocab_log_prob)", **nums), size=13.5, bold=True,
           anchor="start")
    for x, head in [(40, _("the target")), (300, _("its probability over GPT-2's ids")), (560, _("its loss, in nats"))]:
        s.text(x, y0 + 52, head, size=11.5, bold=True, anchor="start", fill=MUTED)
    s.text(40, y0 + 76, _("an id with its own row"), size=12, anchor="start")
    s.text(300, y0 + 76, "P(id) = p(id)", size=12.5, mono=True, anchor="start")
    s.text(560, y0 + 76, "−ln p(id)", size=12.5, mono=True, anchor="start")
    s.text(40, y0 + 102, _("an id that maps to <unk>"), size=12, anchor="start")
    s.text(300, y0 + 102, f"P(id) = p(<unk>) / {n['n_unk']:,}", size=12.5, mono=True, anchor="start")
    s.text(560, y0 + 102, f"−ln p(<unk>) + ln {n['n_unk']:,}", size=12.5, mono=True, anchor="start")
    s.text(560, y0 + 120, _("ln {n_unk:,} ≈ {extra:.2f} extra", **nums), size=11.5, anchor="start",
           fill=VERMILLION_TEXT)
    s.lines(40, y0 + 148, _(
        "The {rows:,} rows' probabilities and the {n_unk:,} equal shares of <unk> add up to 1 over "
        "all {all:,} ids,\n"
        "so the loss compares with any model over GPT-2's tokens. The model never writes <unk>:\n"
        "generate_text suppresses it (its logit is set to −∞ before sampling).", **nums).split("\n"),
        size=11.5, anchor="start", leading=17, fill=INK)
    return s
