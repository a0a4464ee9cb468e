"""The KV cache during generation (Chapter 8): the prefill, cached steps fed by the token just
sampled, and the restart when the cache holds ``context_length`` tokens."""

from __future__ import annotations

from scripts.figures.palette import (
    BLACK,
    BLUE,
    BLUE_TEXT,
    GREEN,
    GREEN_TEXT,
    INK,
    MUTED,
    ORANGE,
    ORANGE_TEXT,
    VERMILLION,
    tint,
)
from scripts.figures.strings import translator
from scripts.figures.svg import Svg, shape


def window() -> tuple[int, int]:
    """The book's ``context_length`` and how many tokens the restarted cache keeps
    (``shared.generation.generate``: ``max(1, context_length // 2)``)."""
    from shared.model import GPTConfig

    length = GPTConfig().context_length
    return length, max(1, length // 2)


def kv_cache(language: str = "en") -> Svg:
    """The prefill and two cached steps: which queries, keys and values each call computes,
    where each step's input comes from, and the restart of a full cache."""
    _ = translator(language)
    L, keep = window()
    s = Svg(800, 672, _("The KV cache during generation"), _(
            "Three calls of the model. The prefill runs the 4-token prompt at once, computing a query, "
            "key and value for each position and storing the keys and values. The token sampled from "
            "the last position's logits is the next call's only input: each following step computes "
            "one query, one key and one value, appends the key and value to the cache, and the query "
            "attends over every cached key, so the cache grows by one position per step. When the "
            "cache holds context_length = {L} positions, the next call starts a new cache from the "
            "last {keep} tokens (one prefill at positions 0 to {last}) and goes on one token at a time.",
            L=L, keep=keep, last=keep - 1), language)
    s.text(24, 36, _("The KV cache: compute each key and value once, then reuse it"), size=16,
           bold=True, anchor="start")
    s.text(24, 58, _("one cache per block; keys and values of shape (B, n_heads, length, d_head)"),
           size=12, anchor="start", fill=MUTED)
    tokens = ["The", " key", " to", " a", " successful", " sale"]
    cx0, cw, pitch = 232, 62, 130
    rows = [(_("prefill"), _("the prompt in one pass"), "idx: (B, 4)", 4, 0),
            (_("step 1"), _("the token just sampled"), "idx: (B, 1)", 5, 4),
            (_("step 2"), _("the token just sampled"), "idx: (B, 1)", 6, 5)]
    for i, t in enumerate(tokens):
        s.text(cx0 + i * cw + cw / 2, 90, t.strip(), size=11.5, bold=True)
        s.text(cx0 + i * cw + cw / 2, 106, _("position {i}", i=i), size=11, fill=MUTED)
    feeds = []  # drawn after every row's background
    for r, (name, what, idx, length, first_new) in enumerate(rows):
        y = 126 + r * pitch
        s.rect(16, y - 6, 768, 92, fill=tint(BLACK, 0.03) if r % 2 == 0 else "none", rx=8)
        s.text(28, y + 18, name, size=14, bold=True, anchor="start")
        s.text(28, y + 36, what, size=11.5, anchor="start", fill=MUTED)
        shape(s, 28, y + 54, idx)
        s.text(cx0 - 10, y + 30, "q", size=12, bold=True, mono=True, anchor="end", fill=BLUE_TEXT)
        s.text(cx0 - 10, y + 52, "k", size=12, bold=True, mono=True, anchor="end", fill=ORANGE_TEXT)
        s.text(cx0 - 10, y + 74, "v", size=12, bold=True, mono=True, anchor="end", fill=GREEN_TEXT)
        for i in range(length):
            x = cx0 + i * cw + 5
            new = i >= first_new
            if new:  # the query exists only for positions computed in this call
                s.rect(x, y + 15, cw - 10, 20, fill=tint(BLUE, 0.35), stroke=BLUE, width=1.4, rx=4)
                s.text(x + (cw - 10) / 2, y + 29, f"q{i}", size=11.5, mono=True)
            for j, (colour, letter) in enumerate([(ORANGE, "k"), (GREEN, "v")]):
                yy = y + 38 + j * 22
                if new:
                    s.rect(x, yy, cw - 10, 20, fill=tint(colour, 0.45), stroke=colour, width=2, rx=4)
                else:
                    s.rect(x, yy, cw - 10, 20, fill=tint(colour, 0.12), stroke=colour, width=1,
                           rx=4, dash="3 2")
                s.text(x + (cw - 10) / 2, yy + 14, f"{letter}{i}", size=11.5, mono=True,
                       fill=INK if new else MUTED)
        right = cx0 + 6 * cw + 14
        if r == 0:
            notes = [_("4 queries, causal mask"), _("stores 4 keys and values"), "cache.length = 4"]
        else:
            notes = [_("q{i} attends over k0 … k{i}", i=first_new),
                     _("appends k{i}, v{i}", i=first_new), f"cache.length = {length}"]
        s.lines(right, y + 22, notes, size=11.5, anchor="start", leading=18)
        # the last position's logits give the next token: the next call's input
        last, nxt = cx0 + (length - 1) * cw + cw / 2, cx0 + length * cw + cw / 2
        ya, yb = y + 84, y + 106
        target = y + pitch + 15 if r < len(rows) - 1 else yb + 14
        feeds.append([(last, ya), (last, yb), (nxt, yb), (nxt, target)])
        word = tokens[length].strip() if length < len(tokens) else "…"
        s.text(last - 10, yb - 4, _("sample from position {i}’s logits: “{word}”", i=length - 1, word=word), size=11.5,
               anchor="end", fill=INK)
    for points in feeds:
        s.arrow(points, colour=VERMILLION, width=1.8)
    # the restart when the cache is full
    y0 = 126 + 3 * pitch + 6
    s.rect(16, y0, 768, 104, fill=tint(VERMILLION, 0.06), stroke=VERMILLION, width=1.2, rx=8, dash="5 4")
    s.text(28, y0 + 22, _("when the cache is full"), size=14, bold=True, anchor="start")
    s.text(28, y0 + 40, f"cache.length = {L}", size=11.5, anchor="start", mono=True)
    s.text(28, y0 + 58, _("= context_length: no position"), size=11.5, anchor="start", fill=MUTED)
    s.text(28, y0 + 74, _("left for the next token"), size=11.5, anchor="start", fill=MUTED)
    cell, gx = 13, 300
    for i in range(L):  # the full cache; its last `keep` tokens are kept
        kept = i >= L - keep
        s.rect(gx + i * cell, y0 + 14, cell - 2, 16, fill=tint(ORANGE, 0.3 if kept else 0.12), stroke=ORANGE,
               width=1, dash="3 2")
    s.text(gx + L * cell + 8, y0 + 27, _("positions 0 … {last}, all in use", last=L - 1), size=11.5, anchor="start")
    s.arrow([(gx + (L - keep / 2) * cell, y0 + 32), (gx + keep / 2 * cell, y0 + 52)], colour=VERMILLION,
            width=1.6)
    for i in range(keep):  # the new cache: the last keep tokens, renumbered from 0
        s.rect(gx + i * cell, y0 + 54, cell - 2, 16, fill=tint(ORANGE, 0.45), stroke=ORANGE, width=1.6)
    s.text(gx + keep * cell + 8, y0 + 67, _("a new cache: the last {keep} tokens (context_length // 2)", keep=keep),
           size=11.5, anchor="start")
    s.text(gx, y0 + 92, _("one prefill at positions 0 … {last}, then one token per step again", last=keep - 1),
           size=11.5, anchor="start", fill=MUTED)
    # legend
    ly = 652
    s.rect(28, ly - 12, 26, 16, fill=tint(ORANGE, 0.45), stroke=ORANGE, width=2, rx=4)
    s.text(62, ly, _("computed in this call"), size=11.5, anchor="start")
    s.rect(230, ly - 12, 26, 16, fill=tint(ORANGE, 0.12), stroke=ORANGE, width=1, rx=4, dash="3 2")
    s.text(264, ly, _("read from the cache"), size=11.5, anchor="start")
    s.text(420, ly, _("without a cache, every step recomputes k, v of all positions"), size=11.5, anchor="start",
           fill=MUTED)
    return s
