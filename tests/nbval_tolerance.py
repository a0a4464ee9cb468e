"""nbval with a tolerance for numbers that depend on the CPU's arithmetic.

CPUs sum floating-point numbers in different orders (SIMD width, BLAS kernels), and a
training run amplifies those differences: the same seeded run ends with a validation
loss of 5.5394 on one machine and 5.5389 on another. A chapter cell whose printed
numbers come after many floating-point steps is tagged ``nbval-tolerance``. Such a cell
is compared as nbval compares every cell, except that each number in its text outputs
may differ from the stored one by at most

    ``atol + rtol * |stored| + one unit in the last digit printed``

(the last term allows for rounding the printed value). The words, the layout and how
many numbers there are must still match exactly. ``rtol`` and ``atol`` default to
:data:`DEFAULT_RTOL` and 0, and a cell can set its own in its metadata:
``{"nbval": {"rtol": 0.02, "atol": 0.0}}``. The bands in the chapters were measured by
running them under ``ATEN_CPU_CAPABILITY=default``, ``avx2`` and ``MKL_CBWR=COMPATIBLE``.

Cells whose output cannot be compared even so (text sampled from a model trained in
the notebook, say) are tagged ``nbval-ignore-output`` and assert what must hold
instead; ``make lint`` counts the cells of each kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

TAG = "nbval-tolerance"
DEFAULT_RTOL = 0.01

# A number not glued to a word before it ("gpt2" has no number; "d_model=64" has one).
# Digits grouped by commas ("50,168") are one number.
NUMBER = re.compile(r"(?<![\w.,])[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TEXT_KEYS = ("text", "text/plain", "text/html", "text/markdown",
             "application/papermill.record/text/plain")  # the last: a value glued into the prose


@dataclass(frozen=True)
class Tolerance:
    rtol: float = DEFAULT_RTOL
    atol: float = 0.0

    def allowed(self, stored: str) -> float:
        """How far a fresh value may be from the ``stored`` text of a number."""
        mantissa = re.split(r"[eE]", stored)[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        exponent = int(re.split(r"[eE]", stored)[1]) if re.search(r"[eE]", stored) else 0
        last_digit = 10.0 ** (exponent - decimals) if decimals or exponent else 0.0
        return self.atol + self.rtol * abs(float(stored)) + last_digit


def cell_tolerance(cell: Any) -> Tolerance | None:
    """The cell's tolerance if it is tagged ``nbval-tolerance``, else None."""
    if TAG not in cell.get("metadata", {}).get("tags", []):
        return None
    options = cell["metadata"].get("nbval", {})
    return Tolerance(rtol=float(options.get("rtol", DEFAULT_RTOL)), atol=float(options.get("atol", 0.0)))


def align_numbers(fresh: str, stored: str, tolerance: Tolerance) -> tuple[str, list[str]]:
    """Compare the numbers of ``fresh`` with those of ``stored``.

    Returns ``fresh`` with every number that is within tolerance replaced by its stored
    text (so an exact comparison afterwards checks only the rest of the text), and a
    list of the numbers that are out of tolerance. If the two texts do not have the same
    shape (other words, or another count of numbers), ``fresh`` comes back unchanged, so
    the exact comparison fails and shows the difference.
    """
    if NUMBER.sub("#", fresh) != NUMBER.sub("#", stored):
        return fresh, []
    pieces, problems, last = [], [], 0
    for new, old in zip(NUMBER.finditer(fresh), NUMBER.finditer(stored), strict=True):
        pieces.append(fresh[last:new.start()])
        last = new.end()
        a, b = float(new.group().replace(",", "")), float(old.group().replace(",", ""))
        limit = tolerance.allowed(old.group().replace(",", ""))
        if abs(a - b) <= limit * (1 + 1e-9):  # (the slack absorbs the rounding of the subtraction)
            pieces.append(old.group())
        else:
            problems.append(f"stored {old.group()}, got {new.group()} (allowed difference {limit:.3g})")
            pieces.append(new.group())
    pieces.append(fresh[last:])
    return "".join(pieces), problems


def align_outputs(fresh: list, stored: list, tolerance: Tolerance) -> tuple[list, list[str]]:
    """Apply :func:`align_numbers` to each text of each output, pairing outputs in order."""
    problems: list[str] = []
    for new, old in zip(fresh, stored, strict=False):  # extra or missing outputs: the exact comparison
        if new.get("output_type") != old.get("output_type"):
            continue
        if new.get("output_type") == "stream":
            if new.get("name") == old.get("name"):
                new["text"], found = align_numbers(new["text"], old["text"], tolerance)
                problems += found
            continue
        new_data, old_data = new.get("data", {}), old.get("data", {})
        for key in TEXT_KEYS:
            if isinstance(new_data.get(key), str) and isinstance(old_data.get(key), str):
                new_data[key], found = align_numbers(new_data[key], old_data[key], tolerance)
                problems += found
    return fresh, problems


def install() -> None:
    """Wrap nbval's comparison so that cells tagged ``nbval-tolerance`` use :func:`align_outputs`."""
    import copy

    from nbval.plugin import IPyNbCell

    original = IPyNbCell.compare_outputs
    if getattr(original, "_tolerant", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        tolerance = cell_tolerance(self.cell)
        if tolerance is not None:
            test, problems = align_outputs(copy.deepcopy(test), ref, tolerance)
            if problems:
                self.comparison_traceback = [f"numbers out of tolerance (rtol={tolerance.rtol}, "
                                             f"atol={tolerance.atol}):"] + problems
                return False
        return original(self, test, ref, skip_compare)

    compare_outputs._tolerant = True
    IPyNbCell.compare_outputs = compare_outputs
