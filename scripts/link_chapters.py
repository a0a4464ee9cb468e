"""Turn plain "Chapter N" mentions in notebooks' Markdown cells into links.

    python scripts/link_chapters.py chapters/05_causal_mask.ipynb [--dry-run]
    python scripts/link_chapters.py book/intro.md --prefix ../chapters/ [--dry-run]

"Chapter 7"            -> "[Chapter 7](07_training.ipynb)"
"Chapter 7's"          -> "[Chapter 7](07_training.ipynb)'s"
"Chapters 2 and 3"     -> "Chapters [2](02_embeddings.ipynb) and [3](03_positional_encoding.ipynb)"
"Chapters 4 to 6"      -> "Chapters [4](...) to [6](...)"   (also ", ", " or ", "-", "–")

Left alone: text already inside a link, inline code, math ($...$, $$...$$), fenced code
(but the body of a directive such as ```{glossary} is text and gets links),
HTML tags, headings, and a notebook's mentions of its own chapter (listed, not changed).
Prints every change as "cell N: old -> new". Edits with nbformat (read, change, write);
re-execute is not needed (Markdown only), but `scripts/check_notebooks.py` and the
book build (-W) should be run afterwards. For a .md file, --prefix gives the path from
that file to chapters/.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = {int(p.name[:2]): p.name for p in sorted((ROOT / "chapters").glob("0[1-9]_*.ipynb"))}

# Regions that must not be touched: fenced code, display and inline math, inline code,
# existing links (and images), HTML tags.
PROTECTED = re.compile(
    r"```(?!\{).*?```|\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]+`|!?\[[^\]]*\]\([^)]*\)|<[^>\n]+>",
    re.DOTALL,
)
MENTION = re.compile(r"\b(Chapters?) (\d)((?:(?:, | and | to | or |-|–)\d\b)*)(?![\d.]\d)")
NUMBER = re.compile(r"\d")


def link(n: int, text: str, prefix: str) -> str:
    return f"[{text}]({prefix}{CHAPTERS[n]})"


def rewrite(text: str, prefix: str, own: int | None, skipped: list[str]) -> str:
    """``text`` with every plain chapter mention outside protected regions linked."""

    def one(match: re.Match) -> str:
        word, first, rest = match.group(1), match.group(2), match.group(3)
        numbers = [int(first)] + [int(d) for d in NUMBER.findall(rest)]
        if any(n not in CHAPTERS for n in numbers) or own in numbers:
            skipped.append(match.group(0))
            return match.group(0)
        if word == "Chapter" and not rest:
            return link(int(first), match.group(0), prefix)
        tail = NUMBER.sub(lambda d: link(int(d.group(0)), d.group(0), prefix), rest)
        return f"{word} {link(int(first), first, prefix)}{tail}"

    out, pos = [], 0
    for region in PROTECTED.finditer(text):
        out.append(MENTION.sub(one, text[pos:region.start()]))
        out.append(region.group(0))
        pos = region.end()
    out.append(MENTION.sub(one, text[pos:]))
    return "".join(out)


def rewrite_markdown(source: str, prefix: str, own: int | None, skipped: list[str]) -> str:
    lines = source.split("\n")
    return "\n".join(line if line.lstrip().startswith("#") else rewrite(line, prefix, own, skipped)
                     for line in _join_fences(lines))


def _join_fences(lines: list[str]) -> list[str]:
    """Keep each fenced code block as one "line", so PROTECTED sees it whole. The body of a
    directive (```{glossary} ... ```) stays as separate lines of text."""
    out, fence, in_directive = [], None, False
    for line in lines:
        stripped = line.lstrip()
        if fence is not None:
            fence.append(line)
            if stripped.startswith("```"):
                out.append("\n".join(fence))
                fence = None
        elif stripped.startswith("```{"):
            in_directive = True
            out.append(line)
        elif stripped.startswith("```") and in_directive:
            in_directive = False  # the directive's closing fence
            out.append(line)
        elif stripped.startswith("```"):
            fence = [line]
        else:
            out.append(line)
    if fence is not None:
        out.append("\n".join(fence))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path")
    parser.add_argument("--prefix", default="", help="path from the file to chapters/ (for .md files)")
    parser.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    args = parser.parse_args()
    path = Path(args.path)
    own = int(path.name[:2]) if path.suffix == ".ipynb" and path.name[:2].isdigit() else None
    skipped: list[str] = []
    changes = 0
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "markdown":
                continue
            new = rewrite_markdown(cell.source, args.prefix, own, skipped)
            if new != cell.source:
                for old_line, new_line in zip(cell.source.split("\n"), new.split("\n"), strict=True):
                    if old_line != new_line:
                        print(f"cell {i}: {old_line.strip()}\n      -> {new_line.strip()}")
                        changes += 1
                cell.source = new
        if changes and not args.dry_run:
            nbformat.write(nb, path)
    else:
        source = path.read_text(encoding="utf-8")
        new = rewrite_markdown(source, args.prefix, own, skipped)
        for old_line, new_line in zip(source.split("\n"), new.split("\n"), strict=True):
            if old_line != new_line:
                print(f"{old_line.strip()}\n  -> {new_line.strip()}")
                changes += 1
        if changes and not args.dry_run:
            path.write_text(new, encoding="utf-8")
    for text in skipped:
        print(f"left alone (its own chapter, or no such chapter): {text!r}")
    print(f"{path}: {changes} line(s) {'would change' if args.dry_run else 'changed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
