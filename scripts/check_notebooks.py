"""Check the chapter notebooks' structure (`make lint`; also run by tests/test_notebooks.py).

For each notebook: valid nbformat; saved from one clean top-to-bottom run
(execution counts 1, 2, 3, ... with no gaps); no stored widget state (the static
book must not load widget JavaScript); the first code cell is the Colab set-up
cell from scripts/setup_cell.py, tagged hide-cell (collapsed in the book); a
title, a "What you will build" opening, a Summary and Exercises with hidden
solutions; every figure (a code cell with an image/png output) has alt text in
its cell metadata, {"mystnb": {"image": {"alt": "..."}}}, or a caption,
{"mystnb": {"figure": {"caption": "..."}}}. Prints one line per problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SETUP_CELL = (ROOT / "scripts" / "setup_cell.py").read_text().strip()
SETUP_TAG = "hide-cell"  # the book shows the set-up cell collapsed


def figure_description(cell) -> str:
    """The alt text (or else the caption) that myst-nb gives a cell's image outputs."""
    options = cell.metadata.get("mystnb", {})
    image, figure = options.get("image", {}), options.get("figure", {})
    alt = image.get("alt", "") if isinstance(image, dict) else ""
    caption = figure.get("caption", "") if isinstance(figure, dict) else ""
    return str(alt or caption).strip()


def problems(path: Path) -> list[str]:
    found: list[str] = []
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - report any reason it is not a valid notebook
        return [f"not a valid notebook: {err}"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code if c.source.strip()]
    if counts != list(range(1, len(counts) + 1)):
        found.append(f"not saved from one clean run: execution counts {counts}")
    if "widgets" in nb.metadata:
        found.append("stores widget state in its metadata (run scripts/execute_notebooks.py)")
    if not code or code[0].source.strip() != SETUP_CELL:
        found.append("first code cell is not the set-up cell of scripts/setup_cell.py")
    elif SETUP_TAG not in code[0].metadata.get("tags", []):
        found.append(f"the set-up cell is not tagged {SETUP_TAG!r} (add it to the cell's metadata tags)")
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    if not nb.cells or not nb.cells[0].source.startswith("# "):
        found.append("first cell is not a '# Title' markdown cell")
    for heading in ("## Summary", "## Exercises"):
        if heading not in markdown:
            found.append(f"no '{heading}' section")
    if "What you will build" not in markdown:
        found.append("no 'What you will build' opening")
    hidden = [c for c in code if "hide-input" in c.metadata.get("tags", [])]
    if not hidden:
        found.append("no exercise solutions hidden behind a toggle (code cells tagged hide-input)")
    for c in code:
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"stored error output in cell {c.execution_count}")
        has_image = any("image/png" in out.get("data", {}) for out in c.get("outputs", []))
        if has_image and not figure_description(c):
            found.append(f"figure in cell {c.execution_count} has no alt text: set the cell metadata "
                         '{"mystnb": {"image": {"alt": "what the figure shows"}}}')
    return found


def main(paths: list[str]) -> int:
    failed = 0
    for name in paths:
        for problem in problems(Path(name)):
            print(f"{name}: {problem}")
            failed += 1
    if not failed:
        print(f"{len(paths)} notebooks OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
