"""Check the chapter notebooks' structure (`make lint`; also run by tests/test_notebooks.py).

For each notebook: valid nbformat; saved from one clean top-to-bottom run
(execution counts 1, 2, 3, ... with no gaps); no stored widget state (the static
book must not load widget JavaScript); the first code cell is the Colab set-up
cell from scripts/setup_cell.py, tagged hide-cell (collapsed in the book); a
title, a "What you will build" opening, a Summary and Exercises whose solutions (every
code cell after "## Exercises") are hidden, input and output, in the book (tag hide-cell)
and in Jupyter (jupyter.source_hidden and jupyter.outputs_hidden); every figure (a code
cell with an image/png output) has alt text in its cell metadata, {"mystnb": {"image": {"alt": "..."}}}, or a caption,
{"mystnb": {"figure": {"caption": "..."}}}; every code cell with output is checked
by nbval one of three ways (see :func:`check_kind`), and a cell whose output nbval
ignores must assert something. Prints one line per problem, then per chapter how
many cells are compared exactly, within a tolerance and by their own asserts.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SETUP_CELL = (ROOT / "scripts" / "setup_cell.py").read_text().strip()
SETUP_TAG = "hide-cell"  # the book shows the set-up cell collapsed
IGNORE_TAG = "nbval-ignore-output"  # nbval runs the cell but does not compare its output
TOLERANCE_TAG = "nbval-tolerance"  # nbval compares its numbers within a tolerance (tests/nbval_tolerance.py)
SOLUTION_TAG = "hide-cell"  # an exercise's solution: input and output behind one toggle in the book
KINDS = ("exact", "tolerance", "assert")


def solution_hidden(cell) -> bool:
    """Whether a solution cell hides its code and its output, in the book and in Jupyter."""
    jupyter = cell.metadata.get("jupyter", {})
    return (SOLUTION_TAG in cell.metadata.get("tags", []) and jupyter.get("source_hidden") is True
            and jupyter.get("outputs_hidden") is True)


def check_kind(cell) -> str | None:
    """How nbval checks a code cell's stored output: ``"exact"`` (strict comparison),
    ``"tolerance"`` (numbers within a tolerance, the rest exact), ``"assert"`` (output
    ignored; the cell's asserts check it), ``"unchecked"`` (output ignored and nothing
    asserted), or None for a cell with no output."""
    tags = cell.metadata.get("tags", [])
    if IGNORE_TAG in tags:
        return "assert" if re.search(r"^\s*assert\b|torch\.testing\.assert_close|\bcheck_\w+\(",
                                     cell.source, re.MULTILINE) else "unchecked"
    if not cell.get("outputs"):
        return None
    return "tolerance" if TOLERANCE_TAG in tags else "exact"


def check_counts(path: Path) -> dict[str, int]:
    """How many code cells of a notebook are checked each way."""
    nb = nbformat.read(path, as_version=4)
    counts = dict.fromkeys((*KINDS, "unchecked"), 0)
    for cell in nb.cells:
        kind = check_kind(cell) if cell.cell_type == "code" else None
        if kind is not None:
            counts[kind] += 1
    return counts


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
    exercises = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
                      and "## Exercises" in c.source), len(nb.cells))
    solutions = [c for c in nb.cells[exercises:] if c.cell_type == "code"]
    if not solutions:
        found.append("no exercise solutions (code cells after '## Exercises')")
    for c in solutions:
        if not solution_hidden(c):
            found.append(f"solution cell {c.execution_count} is not hidden: tag it {SOLUTION_TAG!r} (input and output "
                         "collapsed in the book) and set jupyter.source_hidden and jupyter.outputs_hidden")
    for c in code:
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"stored error output in cell {c.execution_count}")
        if check_kind(c) == "unchecked":
            found.append(f"cell {c.execution_count} is tagged {IGNORE_TAG} but asserts nothing: "
                         "add asserts that check what its output shows")
        if IGNORE_TAG in c.metadata.get("tags", []) and TOLERANCE_TAG in c.metadata.get("tags", []):
            found.append(f"cell {c.execution_count} has both {IGNORE_TAG} and {TOLERANCE_TAG}: choose one")
        has_image = any("image/png" in out.get("data", {}) for out in c.get("outputs", []))
        if has_image and not figure_description(c):
            found.append(f"figure in cell {c.execution_count} has no alt text: set the cell metadata "
                         '{"mystnb": {"image": {"alt": "what the figure shows"}}}')
    return found


MAX_NOTEBOOK_BYTES = 500_000  # one chapter, stored outputs included (issue 12: <= 500 KB)
MAX_TOTAL_BYTES = 2_000_000  # all the chapters together (<= 2 MB)
PNG_DATA = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def image_bytes(path: Path) -> int:
    """Characters of a notebook spent on images: image/png outputs and the PNG
    frames that slider figures store inside text/html."""
    nb = nbformat.read(path, as_version=4)
    total = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            total += len(data.get("image/png", ""))
            total += sum(len(m) for m in PNG_DATA.findall(data.get("text/html", "")))
    return total


def notebook_sizes(paths: list[str]) -> int:
    """Print each notebook's size on disk, the share of it that is images, and the
    total; then one line per limit exceeded. Return the number of limits exceeded."""
    sizes = {name: Path(name).stat().st_size for name in paths}
    print(f"{'size on disk':<40}{'KB':>11}{'images':>11}")
    for name, size in sizes.items():
        print(f"{Path(name).stem:<40}{size / 1000:>11.1f}{image_bytes(Path(name)) / size:>11.0%}")
    total = sum(sizes.values())
    print(f"{'total':<40}{total / 1000:>11.1f}")
    over = [f"{name}: {size / 1000:.1f} KB is over the limit of {MAX_NOTEBOOK_BYTES / 1000:.0f} KB "
            "per notebook (shrink its figures: fewer slider frames, smaller figures)"
            for name, size in sizes.items() if size > MAX_NOTEBOOK_BYTES]
    if total > MAX_TOTAL_BYTES:
        over.append(f"the notebooks total {total / 1e6:.2f} MB, over the limit of "
                     f"{MAX_TOTAL_BYTES / 1e6:.0f} MB")
    for line in over:
        print(line)
    return len(over)


def main(paths: list[str]) -> int:
    failed = 0
    for name in paths:
        for problem in problems(Path(name)):
            print(f"{name}: {problem}")
            failed += 1
    print(f"{'cells checked by nbval':<40}" + "".join(f"{k:>11}" for k in KINDS))
    for name in paths:
        counts = check_counts(Path(name))
        print(f"{Path(name).stem:<40}" + "".join(f"{counts[k]:>11}" for k in KINDS))
    failed += notebook_sizes(paths)
    if not failed:
        print(f"{len(paths)} notebooks OK; 0 unchecked cells")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
