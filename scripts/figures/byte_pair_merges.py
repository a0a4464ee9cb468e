"""Byte-pair merges on Chapter 1's toy text (Chapter 1)."""

from __future__ import annotations

import re
from collections import Counter

from scripts.figures.palette import BLACK, GREY_EDGE, MUTED, ORANGE, SKY, tint
from scripts.figures.strings import translator
from scripts.figures.svg import Svg
from shared.checks import reference_merge_pair

TOY = "a seller sells; sellers sell, and selling sells."  # Chapter 1's toy text


def bpe_merges(text: str, n: int) -> list[tuple[tuple[str, str], int, list[list[str]]]]:
    """Chapter 1's miniature BPE: the words, then ``n`` merges of the most frequent pair.

    Returns ``(pair, count, words after the merge)`` per step; ties go to the pair seen first.
    """
    words = [list(w) for w in re.findall(r" ?\w+| ?[^\w\s]+|\s+", text)]
    steps = []
    for _ in range(n):
        counts: Counter[tuple[str, str]] = Counter()
        for w in words:
            counts.update(zip(w, w[1:], strict=False))
        pair, count = max(counts.items(), key=lambda kv: kv[1])
        words = [reference_merge_pair(w, pair) for w in words]
        steps.append((pair, count, words))
    return steps


def byte_pair_merges(language: str = "en") -> Svg:
    """Seven merges of Chapter 1's toy text, two of its words shown after each."""
    _ = translator(language)
    n = 7
    steps = bpe_merges(TOY, n)
    start = [list(w) for w in re.findall(r" ?\w+| ?[^\w\s]+|\s+", TOY)]
    shown = [4, 2]  # " sellers" and " sells"
    rh = 38
    s = Svg(800, 150 + (n + 1) * rh, _("Byte-pair merges on Chapter 1's toy text"),
            _("The text 'a seller sells; sellers sell, and selling sells.' starts as 48 single "
              "characters. Each step merges the most frequent pair of neighbouring symbols into a new "
              "one: space and s, then ' s' and e, ' se' and l, ' sel' and l, ' sell' and e, ' selle' "
              "and r, ' sell' and s. The word ' sellers' shrinks from 8 symbols to 2, ' sells' to 1, "
              "and the whole text from 48 symbols to 18."), language)
    s.text(24, 36, _("Byte-pair encoding: merge the most frequent pair, again and again"), size=16,
           bold=True, anchor="start")
    s.text(24, 58, _("Chapter 1's toy text: \u201c{toy}\u201d   (␣ is a space)", toy=TOY), size=12,
           anchor="start", fill=MUTED)
    cols = {"step": 28, "merge": 82, "w1": 262, "w2": 520, "n": 772}
    hy = 92
    s.text(cols["step"], hy, _("step"), size=12, bold=True, anchor="start")
    s.text(cols["merge"], hy, _("merged pair (count)"), size=12, bold=True, anchor="start")
    s.text(cols["w1"], hy, _("the word ␣sellers"), size=12, bold=True, anchor="start")
    s.text(cols["w2"], hy, _("the word ␣sells"), size=12, bold=True, anchor="start")
    s.text(cols["n"], hy, _("symbols in text"), size=12, bold=True, anchor="end")
    s.polyline([(24, hy + 9), (776, hy + 9)], colour=GREY_EDGE, width=1)

    def show(piece: str) -> str:
        return piece.replace(" ", "␣")

    def symbols(x: float, y: float, word: list[str], new: str | None) -> None:
        for piece in word:
            w = 12 + 8.2 * len(piece)
            hit = piece == new
            colour = ORANGE if hit else SKY
            s.rect(x, y, w, 24, fill=tint(colour, 0.45 if hit else 0.2), stroke=colour,
                   width=2 if hit else 1.2, rx=5)
            s.text(x + w / 2, y + 16.5, show(piece), size=13.5, mono=True)
            x += w + 4

    rows = [("0", _("single characters"), start, None, len(TOY))]
    for i, (pair, count, words) in enumerate(steps, start=1):
        label = f"{show(pair[0])} + {show(pair[1])}  ({count}×)"
        rows.append((str(i), label, words, pair[0] + pair[1], sum(len(w) for w in words)))
    for r, (step, label, words, new, total) in enumerate(rows):
        y = hy + 18 + r * rh
        if r % 2 == 0:
            s.rect(20, y - 5, 760, rh, fill=tint(BLACK, 0.035), rx=5)
        s.text(cols["step"] + 10, y + 17, step, size=12.5)
        s.text(cols["merge"], y + 17, label, size=12.5, mono=new is not None, anchor="start")
        symbols(cols["w1"], y, words[shown[0]], new)
        symbols(cols["w2"], y, words[shown[1]], new)
        s.text(cols["n"] - 10, y + 17, str(total), size=12.5, anchor="end")
    yl = hy + 18 + len(rows) * rh + 18
    s.rect(28, yl - 12, 26, 16, fill=tint(ORANGE, 0.45), stroke=ORANGE, width=2, rx=4)
    s.text(62, yl, _("the symbol this step creates: a new entry in the vocabulary"), size=11.5,
           anchor="start")
    return s
