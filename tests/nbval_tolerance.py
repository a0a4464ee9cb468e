"""nbval with a tolerance for numbers that depend on the CPU's arithmetic.

CPUs sum floating-point numbers in different orders (SIMD width, BLAS kernels), and a
training run amplifies those differences: the same seeded run ends with a validation
loss of 5.5394 on one machine and 5.5389 on another. A chapter cell whose printed
numbers come after many floating-point steps is tagged ``nbval-tolerance``. Such a cell
is compared as nbval compares every cell, except that each number in its text outputs
may differ from the stored one by at most

    ``atol + rtol * |stored| + one unit in the last digit printed``

(the last term allows for rounding the printed value). The words, the layout and how
many numbers there are must still match exactly.

The bands are measured, not guessed: ``make calibrate`` (scripts/calibrate.py) runs the
chapters under every arithmetic this machine can produce (native, ``avx2``, PyTorch's
portable ``default`` kernels, ``MKL_CBWR=COMPATIBLE``) and records, in
``tests/tolerances.json``, each number's spread and its band: 0 for a count that never
moved, else ``max(3 x spread, 2 units in the last printed digit)``. A cell found there
is compared number by number with those bands. A cell not yet calibrated falls back to
``rtol`` and ``atol`` from its metadata (``{"nbval": {"rtol": 0.02, "atol": 0.0}}``,
default :data:`DEFAULT_RTOL` and 0); tests/test_tolerances.py fails until it is.

Cells whose output cannot be compared even so (text sampled from a model trained in
the notebook, say) are tagged ``nbval-ignore-output`` and assert what must hold
instead; ``make lint`` counts the cells of each kind.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
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


@dataclass(frozen=True)
class MeasuredBands:
    """Per-number bands from tests/tolerances.json, in the order the numbers are printed."""
    bands: tuple[float, ...]
    rtol: float = 0.0  # (for messages)
    atol: float = 0.0

    def limits(self, count: int) -> list[float] | None:
        return list(self.bands) if count == len(self.bands) else None


TOLERANCES_FILE = Path(__file__).resolve().parent / "tolerances.json"


def measured_bands(chapter: str, cell_id: str) -> MeasuredBands | None:
    """The calibrated bands of a chapter's cell, if tests/tolerances.json has them."""
    if not TOLERANCES_FILE.exists():
        return None
    entry = json.loads(TOLERANCES_FILE.read_text()).get("chapters", {}).get(chapter, {}).get(cell_id)
    return MeasuredBands(tuple(entry["band"])) if entry else None


def cell_tolerance(cell: Any) -> Tolerance | None:
    """The cell's tolerance if it is tagged ``nbval-tolerance``, else None."""
    if TAG not in cell.get("metadata", {}).get("tags", []):
        return None
    options = cell["metadata"].get("nbval", {})
    return Tolerance(rtol=float(options.get("rtol", DEFAULT_RTOL)), atol=float(options.get("atol", 0.0)))


def align_numbers(fresh: str, stored: str, tolerance: Tolerance,
                  limits: list[float] | None = None) -> tuple[str, list[str]]:
    """Compare the numbers of ``fresh`` with those of ``stored``.

    Returns ``fresh`` with every number that is within tolerance replaced by its stored
    text (so an exact comparison afterwards checks only the rest of the text), and a
    list of the numbers that are out of tolerance. If the two texts do not have the same
    shape (other words, or another count of numbers), ``fresh`` comes back unchanged, so
    the exact comparison fails and shows the difference. ``limits``, when given, are the
    measured bands of the numbers in order (tests/tolerances.json) and replace ``tolerance``.
    """
    if NUMBER.sub("#", fresh) != NUMBER.sub("#", stored):
        return fresh, []
    pieces, problems, last = [], [], 0
    pairs = zip(NUMBER.finditer(fresh), NUMBER.finditer(stored), strict=True)
    for i, (new, old) in enumerate(pairs):
        pieces.append(fresh[last:new.start()])
        last = new.end()
        a, b = float(new.group().replace(",", "")), float(old.group().replace(",", ""))
        limit = limits[i] if limits is not None else tolerance.allowed(old.group().replace(",", ""))
        if abs(a - b) <= limit * (1 + 1e-9):  # (the slack absorbs the rounding of the subtraction)
            pieces.append(old.group())
        else:
            problems.append(f"stored {old.group()}, got {new.group()} (allowed difference {limit:.3g})")
            pieces.append(new.group())
    pieces.append(fresh[last:])
    return "".join(pieces), problems


def output_texts(outputs: list):
    """(output, key) of every text that is compared number by number, in order (a stream's
    ``text``, then each of :data:`TEXT_KEYS` present in an output's data)."""
    for out in outputs:
        if out.get("output_type") == "stream":
            yield out, "text"
            continue
        for key in TEXT_KEYS:
            if isinstance(out.get("data", {}).get(key), str):
                yield out.get("data", {}), key


def align_outputs(fresh: list, stored: list, tolerance: Tolerance, bands: tuple[float, ...] | None = None,
                  sanitize=None) -> tuple[list, list[str]]:
    """Apply :func:`align_numbers` to each text of each output, pairing outputs in order.

    ``bands``: the measured band of every number of the stored outputs, in order (after
    ``sanitize``, nbval's rewriting rules); ignored unless the counts agree."""
    problems: list[str] = []
    clean = sanitize or (lambda text: text)
    if bands is not None:
        total = sum(len(NUMBER.findall(clean(d[k]))) for d, k in output_texts(stored))
        bands = bands if total == len(bands) else None
    offset = 0

    def align(new_text: str, old_text: str) -> str:
        nonlocal offset, problems
        new_text, old_text = clean(new_text), clean(old_text)
        count = len(NUMBER.findall(old_text))
        limits = list(bands[offset:offset + count]) if bands is not None else None
        offset += count
        aligned, found = align_numbers(new_text, old_text, tolerance, limits)
        problems += found
        return aligned

    for new, old in zip(fresh, stored, strict=False):  # extra or missing outputs: the exact comparison
        if new.get("output_type") != old.get("output_type"):
            offset += sum(len(NUMBER.findall(clean(d[k]))) for d, k in output_texts([old]))
            continue
        if new.get("output_type") == "stream":
            if new.get("name") == old.get("name"):
                new["text"] = align(new["text"], old["text"])
            else:
                offset += len(NUMBER.findall(clean(old["text"])))
            continue
        new_data, old_data = new.get("data", {}), old.get("data", {})
        for key in TEXT_KEYS:
            if isinstance(old_data.get(key), str):
                if isinstance(new_data.get(key), str):
                    new_data[key] = align(new_data[key], old_data[key])
                else:
                    offset += len(NUMBER.findall(clean(old_data[key])))
    return fresh, problems


def join_streams(outputs: list) -> list:
    """Consecutive stream outputs of the same name, joined into one (in place of the first)."""
    joined: list = []
    for out in outputs:
        last = joined[-1] if joined else None
        if (last is not None and out.get("output_type") == "stream" == last.get("output_type")
                and out.get("name") == last.get("name")):
            last["text"] += out["text"]
            continue
        joined.append(out)
    return joined


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
            chapter = Path(str(getattr(self.parent, "path", None) or self.parent.fspath)).name
            measured = measured_bands(chapter, self.cell.get("id", ""))
            # A print split wherever the kernel flushed is joined first, as the stored one was.
            test = join_streams(copy.deepcopy(test))
            test, problems = align_outputs(test, ref, tolerance,
                                           measured.bands if measured else None, self.sanitize)
            if problems:
                how = ("the measured bands of tests/tolerances.json" if measured else
                       f"rtol={tolerance.rtol}, atol={tolerance.atol}")
                self.comparison_traceback = [f"numbers out of tolerance ({how}):"] + problems
                return False
        return original(self, test, ref, skip_compare)

    compare_outputs._tolerant = True
    IPyNbCell.compare_outputs = compare_outputs
