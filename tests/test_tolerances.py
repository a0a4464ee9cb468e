"""The tolerance bands are measured, and none is wide enough to hide a claimed effect.

tests/tolerances.json is written by `make calibrate` (scripts/calibrate.py): for every
cell tagged ``nbval-tolerance``, the spread of each printed number under the arithmetic
variants this machine can produce, and the band nbval allows it. These tests check that

* the file says when, where and how it was measured;
* every tagged cell of every chapter has bands, for exactly the numbers it stores now
  (a cell whose output changed must be calibrated again);
* a number that no variant moved and that is printed as an integer is compared exactly;
* each band follows the rule from its spread (the bands are derived, not typed);
* a variant that was not run for a chapter is named in the file's ``not_measured``;
* for every difference the prose draws between two numbers of a cell (the cell's
  ``nbval.claims``, pairs of positions in its list of numbers), each band is at most half
  that difference: no band could turn the claim around or make it vanish. A claim the
  measurement shows to be too close is named in ``TOO_CLOSE``, with why, and expected to fail.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat
import pytest

from scripts import calibrate
from tests.nbval_tolerance import cell_tolerance

ROOT = Path(__file__).resolve().parent.parent
TOLERANCES = json.loads((ROOT / "tests" / "tolerances.json").read_text())
TAGGED = [(nb.name, cell_id, cell)
          for nb in sorted((ROOT / "chapters").glob("[0-9]*.ipynb"))
          for cell_id, cell in calibrate.tagged_cells(nbformat.read(nb, as_version=4)).items()]


def test_the_measurement_is_described():
    assert set(TOLERANCES["variants"]) == set(calibrate.VARIANTS)
    assert TOLERANCES["measured"] and TOLERANCES["cpu"] and TOLERANCES["torch"]


def test_variants_not_measured_are_named():
    for chapter, variants in TOLERANCES.get("not_measured", {}).items():
        assert chapter in TOLERANCES["chapters"] and set(variants) <= set(calibrate.VARIANTS)
        assert "portable" not in variants, "the variant CI runs must always be measured"


@pytest.mark.parametrize("chapter, cell_id, cell", TAGGED, ids=[f"{c}:{i}" for c, i, _ in TAGGED])
def test_every_tagged_cell_has_measured_bands(chapter, cell_id, cell):
    entry = TOLERANCES["chapters"].get(chapter, {}).get(cell_id)
    assert entry, f"{chapter} cell {cell_id} has no measured bands: run `make calibrate`"
    assert entry["numbers"] == calibrate.numbers(cell), \
        f"{chapter} cell {cell_id} prints other numbers than were calibrated: run `make calibrate`"
    for printed, spread, band in zip(entry["numbers"], entry["spread"], entry["band"], strict=True):
        # (spreads and bands are stored to 3 significant digits, each rounded on its own)
        assert math.isclose(band, calibrate.band(printed, spread), rel_tol=0.01), (printed, spread, band)
        if spread == 0 and calibrate.is_integer(printed):
            assert band == 0, f"{printed} never moved: it must be compared exactly"


CLAIMS = [(chapter, cell_id, cell, pair) for chapter, cell_id, cell in TAGGED
          for pair in cell.get("metadata", {}).get("nbval", {}).get("claims", [])]

# Claims that the measurement shows to be too close for their bands: a known failure of the
# rule, reported rather than hidden. Strict: once the claim clears its bands, the test fails
# until the entry is removed. The cure is in the chapter, not in the band.
TOO_CLOSE: dict[tuple[str, str, tuple[int, int]], str] = {
    # None at present. Chapter 7's 1,000-step comparison of "untied and no dropout" with the
    # book model was one until it compared the means of three seeds (issue 17).
}


def test_the_chapters_state_claims():
    assert len(CLAIMS) >= 30
    claimed = {(c, i, tuple(p)) for c, i, _, p in CLAIMS}
    assert set(TOO_CLOSE) <= claimed, "TOO_CLOSE names a claim that no cell states"


def bands_of(chapter: str, cell_id: str, cell) -> tuple[list[str], list[float]]:
    """The cell's printed numbers and the band nbval allows each: measured, or from its metadata
    (a cell not calibrated yet, which test_every_tagged_cell_has_measured_bands reports)."""
    entry = TOLERANCES["chapters"].get(chapter, {}).get(cell_id)
    if entry:
        return entry["numbers"], entry["band"]
    printed, tolerance = calibrate.numbers(cell), cell_tolerance(cell)
    return printed, [tolerance.allowed(p) for p in printed]


@pytest.mark.parametrize("chapter, cell_id, cell, pair", [
    pytest.param(*claim, marks=pytest.mark.xfail(strict=True, reason=TOO_CLOSE[key]))
    if (key := (claim[0], claim[1], tuple(claim[3]))) in TOO_CLOSE else claim for claim in CLAIMS],
    ids=[f"{c}:{i}:{p[0]}-{p[1]}" for c, i, _, p in CLAIMS])
def test_no_band_can_hide_a_claimed_difference(chapter, cell_id, cell, pair):
    numbers, bands = bands_of(chapter, cell_id, cell)
    i, j = pair
    difference = abs(float(numbers[i]) - float(numbers[j]))
    assert difference > 0, f"claim {pair} compares two equal numbers"
    for k in pair:
        assert bands[k] <= difference / 2, (
            f"{chapter} cell {cell_id}: the band of {numbers[k]} (±{bands[k]:.3g}) "
            f"is more than half the difference {difference:.4g} that the prose draws")
