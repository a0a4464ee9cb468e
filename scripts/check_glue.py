"""Find numbers typed by hand in a chapter's prose that a cell of the chapter printed (`make lint`).

The book's rule: a number that a cell computes reaches the prose through myst-nb's glue
(``glue("name", value)`` in the cell, ``{glue:text}`name``` in the Markdown), so the text
cannot drift from the code. This script reads each chapter's Markdown, leaves out what is
not prose (glue roles, inline code, maths, links, citations, directives' options) and flags
every number that equals, at the precision the prose writes it, a number printed by one of
the chapter's code cells, unless it is allowed:

- a year (1900 to 2099), a chapter, section, exercise, figure or equation number;
- a small whole number below 100 without a decimal point ("two heads", "8 blocks"):
  counting words, not measurements;
- one of :data:`CONSTANTS`: the sizes that define the models (a setting, not a result);
- a number listed in the Markdown cell's metadata as typed on purpose, with the reason:
  ``{"check_glue": {"typed": {"5,000": "the number of steps, a setting"}}}`` (a setting
  such as a step count or a split, not a measured result; the reason is required).

Usage: ``python scripts/check_glue.py chapters/*.ipynb``; prints one line per flagged number
and exits 1 if there is any (tests/test_check_glue.py runs it on every chapter).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

# Settings that define the book's models and data, stated as facts rather than measured:
# GPT-2's vocabulary and sizes, the book model's shape, powers of two used as sizes.
CONSTANTS = {50257, 50256, 1024, 768, 3072, 124439808, 256, 512, 2048, 4096, 10000, 1000, 100}

NUMBER = re.compile(r"(?<![\w.])[−-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|(?<![\w.])[−-]?\d+(?:\.\d+)?%?")
NOT_PROSE = [
    re.compile(r"\{glue(?::\w+)?\}`[^`]*`"),  # a glued value
    re.compile(r"\{(?:cite|cite:p|cite:t|numref|ref|doc|eq)\}`[^`]*`"),  # references
    re.compile(r"```.*?```", re.DOTALL),  # fenced blocks: code and directives
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"\$\$.*?\$\$", re.DOTALL),  # display maths
    re.compile(r"\$[^$\n]+\$"),  # inline maths
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"https?://\S+"),
    re.compile(r"<[^>]+>"),  # HTML tags and comments
    re.compile(r"(?:Chapters?|Sections?|Exercises?|Figures?|Equations?|Table|Step|Part|Appendix|"
               r"cells?|layers?|blocks?|heads?|GPT-|Python|PyTorch|torch|version)\s*[\d.–-]+(?:\s*(?:–|-|and|to)\s*\d+)?",
               re.IGNORECASE),
    re.compile(r"\b\d+(?:\.\d+)?\s*[×x]\s*10\^?[−-]?\d+"),  # written-out powers
]


def as_value(text: str) -> tuple[float, int]:
    """A number as written, and how many decimals it was written with."""
    text = text.replace(",", "").replace("−", "-").rstrip("%")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), decimals


def printed_numbers(nb) -> list[float]:
    """Every number in the chapter's code cells' text outputs (glue records excluded)."""
    values = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("metadata", {}).get("scrapbook"):
                continue
            texts = [output.get("text", "")]
            texts += [v for k, v in output.get("data", {}).items() if k in ("text/plain", "text/html", "text/markdown")]
            for text in texts:
                text = "".join(text) if isinstance(text, list) else text
                values += [as_value(m.group())[0] for m in NUMBER.finditer(text)]
    return values


def allowed(value: float, decimals: int, written: str) -> bool:
    """Years, small counting numbers and the models' defining sizes may be typed."""
    if decimals or written.endswith("%"):
        return False
    return abs(value) < 100 or abs(value) in CONSTANTS or 1900 <= value <= 2099


def matches(written: str, printed: list[float]) -> bool:
    """Whether the number ``written`` equals a printed number at the precision it is written with
    (a percentage also matches the fraction it stands for: 95.7% and 0.957)."""
    value, decimals = as_value(written)
    candidates = [(value, decimals)]
    if written.endswith("%"):
        candidates.append((value / 100, decimals + 2))
    return any(abs(p - v) <= 0.5 * 10 ** -d + 1e-12 for v, d in candidates for p in printed)


def prose(markdown: str) -> str:
    for pattern in NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def problems(path: Path) -> list[str]:
    """One line per prose number of the notebook at ``path`` that a cell printed but is not glued."""
    nb = nbformat.read(path, as_version=4)
    printed = printed_numbers(nb)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        typed = cell.metadata.get("check_glue", {}).get("typed", {})
        for written, reason in typed.items():
            if not str(reason).strip():
                found.append(f"{path.name}: cell {index}: typed number {written!r} needs a reason")
        for match in NUMBER.finditer(prose(cell.source)):
            written = match.group()
            if written in typed:
                continue
            value, decimals = as_value(written)
            if not allowed(value, decimals, written) and matches(written, printed):
                found.append(f"{path.name}: cell {index}: {written!r} is printed by a code cell; glue it")
    return found


def main(paths: list[str]) -> int:
    lines = [line for path in paths for line in problems(Path(path))]
    print("\n".join(lines) if lines else f"no unglued numbers in {len(paths)} notebook(s)")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
