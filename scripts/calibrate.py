"""Measure how far each tolerance-checked number moves with the CPU's arithmetic (`make calibrate`).

    python -m scripts.calibrate [--jobs N] [CHAPTER ...]      # from the repository root

A cell tagged ``nbval-tolerance`` prints numbers that come after many floating-point
steps (a training run, a long sum), so they differ in their last digits from one CPU to
another. This script runs every chapter that has such cells under each arithmetic this
machine can produce (:data:`VARIANTS`): the native one, PyTorch's AVX2 kernels, its
portable kernels (``ATEN_CPU_CAPABILITY=default``), MKL's reproducible code path
(``MKL_CBWR=COMPATIBLE``) and the last two together, as CI's portable pass runs them.
The native run is the stored outputs themselves: they were made on this machine, and
``make test`` proves that a fresh native run reproduces them (``--rerun-native`` runs it
again anyway). For every number of every such cell it records the largest distance from
the stored value over all variants (its *spread*), and from it the band that nbval
allows (tests/nbval_tolerance.py):

* a number that no variant moved and that is printed as an integer (a count) must match
  exactly: band 0;
* any other number gets ``max(3 × spread, 2 units in its last printed digit)``.

The result goes to ``tests/tolerances.json`` with the date, the CPU, the torch version
and the variants, and is committed (``--variants V ...`` runs only some variants and adds their spreads
to those recorded). ``tests/test_tolerances.py`` checks that every
tagged cell has measured bands and that no band is wider than half of any difference
the prose draws between two numbers of the same cell (the cell's metadata names them:
``{"nbval": {"claims": [[i, j], ...]}}``, positions in the cell's list of numbers).

Every chapter runs in a copy (``chapters/.calibrate-<variant>-<name>.ipynb``, removed
afterwards; ``--reuse`` keeps and reuses copies left by an interrupted calibration), in
its own process, at most ``--jobs`` at a time, the longest chapters first; each
chapter's result is written as soon as its runs are done. The whole run takes about two
and a half hours on 2 cores: Chapter 7 alone takes about 100 minutes (it trains all its
variants in each of its four runs; two runs at a time took 50 minutes). Keep ``--jobs`` at
the number of cores: with four Chapter 7 runs at once on 2 cores, its variant cell ran past
the 30-minute cell timeout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from tests.nbval_tolerance import NUMBER, TAG, TEXT_KEYS

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
RESULT = ROOT / "tests" / "tolerances.json"
VARIANTS = {
    "native": {},  # the stored outputs: `make test` reproduces them on this machine, byte for byte
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "default": {"ATEN_CPU_CAPABILITY": "default"},
    "mkl-compatible": {"MKL_CBWR": "COMPATIBLE"},
    # both at once, as CI's portable pass runs the chapters (`make test-portable`)
    "portable": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"},
}
SPREAD_FACTOR = 3.0
FLOOR_UNITS = 2.0


def sanitizers() -> list[tuple[re.Pattern, str]]:
    """nbval's rewriting rules (tests/sanitize.cfg), applied before numbers are compared."""
    import configparser

    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tests" / "sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def cell_texts(cell) -> list[str]:
    """The texts of a cell's outputs in which nbval_tolerance compares numbers, in order,
    after nbval's sanitising (a progress bar's count and times are not compared)."""
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
            continue
        data = out.get("data", {})
        texts += [data[key] for key in TEXT_KEYS if isinstance(data.get(key), str)]
    rules = sanitizers()
    for i, text in enumerate(texts):
        for pattern, replace in rules:
            text = pattern.sub(replace, text)
        texts[i] = text
    return texts


def numbers(cell) -> list[str]:
    """Every number of the cell's compared outputs, as printed, in order."""
    return [m.group().replace(",", "") for text in cell_texts(cell) for m in NUMBER.finditer(text)]


def last_unit(printed: str) -> float:
    """One unit in the last printed digit of a number (1 for an integer)."""
    mantissa, _, exponent = printed.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def is_integer(printed: str) -> bool:
    return re.fullmatch(r"[-+]?\d+", printed) is not None


def band(printed: str, spread: float) -> float:
    """The allowed distance from the stored number, from its measured spread."""
    if spread == 0 and is_integer(printed):
        return 0.0
    return max(SPREAD_FACTOR * spread, FLOOR_UNITS * last_unit(printed))


def tagged_cells(nb) -> dict[str, object]:
    return {cell["id"]: cell for cell in nb.cells
            if cell.cell_type == "code" and TAG in cell.get("metadata", {}).get("tags", [])}


def run(chapter: Path, variant: str) -> Path:
    """Execute a copy of chapter under one arithmetic variant; return the copy's path."""
    copy = chapter.with_name(f".calibrate-{variant}-{chapter.name}")
    copy.write_bytes(chapter.read_bytes())
    env = {**os.environ, **VARIANTS[variant]}
    cmd = [sys.executable, "-m", "scripts.execute_notebooks", str(copy)]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        copy.unlink()  # it still holds the stored outputs: --reuse must not take it for a run
        raise RuntimeError(f"{chapter.name} under {variant} failed:\n{result.stderr[-3000:]}")
    print(f"  {chapter.name} under {variant}: {result.stdout.strip().splitlines()[-1]}", flush=True)
    return copy


def measure(chapter: Path, runs: dict[str, Path], before: dict | None = None) -> dict:
    """Per tagged cell: the stored numbers, each one's spread over the runs, and its band.

    ``before``: the chapter's earlier measurement; spreads recorded there for the same
    stored numbers are kept where larger (a calibration of only some variants adds to it)."""
    stored = tagged_cells(nbformat.read(chapter, as_version=4))
    fresh = {v: tagged_cells(nbformat.read(p, as_version=4)) for v, p in runs.items()}
    cells = {}
    for cell_id, cell in stored.items():
        printed = numbers(cell)
        spreads = [0.0] * len(printed)
        for variant, cells_of_run in fresh.items():
            got = numbers(cells_of_run[cell_id])
            if len(got) != len(printed):
                raise RuntimeError(f"{chapter.name} cell {cell_id} under {variant}: "
                                   f"{len(got)} numbers, stored {len(printed)}")
            for i, (new, old) in enumerate(zip(got, printed, strict=True)):
                spreads[i] = max(spreads[i], abs(float(new) - float(old)))
        earlier = (before or {}).get(cell_id)
        if earlier and earlier["numbers"] == printed:
            spreads = [max(a, b) for a, b in zip(spreads, earlier["spread"], strict=True)]
        cells[cell_id] = {
            "numbers": printed,
            "spread": [float(f"{s:.3g}") for s in spreads],
            "band": [float(f"{band(p, s):.3g}") for p, s in zip(printed, spreads, strict=True)],
        }
    return cells


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rerun-native", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS),
                        help="only these (their spreads are added to those recorded)")
    args = parser.parse_args(argv)
    chapters = [c.resolve() for c in args.chapters] or sorted(
        c for c in CHAPTERS.glob("[0-9]*.ipynb") if tagged_cells(nbformat.read(c, as_version=4)))
    chapters.sort(key=lambda c: c.name != "07_training.ipynb")  # the long pole first
    import torch

    variants = [v for v in (args.variants or VARIANTS) if v != "native" or args.rerun_native]
    jobs = [(c, v) for c in chapters for v in variants]
    print(f"calibrating {len(chapters)} chapters under {len(VARIANTS)} variants "
          f"({len(jobs)} runs, {args.jobs} at a time)", flush=True)

    def job(chapter: Path, variant: str) -> Path:
        copy = chapter.with_name(f".calibrate-{variant}-{chapter.name}")
        return copy if args.reuse and copy.exists() else run(chapter, variant)

    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {(c, v): pool.submit(job, c, v) for c, v in jobs}
        for chapter in chapters:
            runs = {v: futures[chapter, v].result() for v in variants}
            if not args.rerun_native:
                runs["native"] = chapter
            result = json.loads(RESULT.read_text()) if RESULT.exists() else {"chapters": {}}
            before = result["chapters"].get(chapter.name) if args.variants else None
            result["chapters"][chapter.name] = measure(chapter, runs, before)
            if not args.variants:  # every variant ran: nothing is missing any more
                result.get("not_measured", {}).pop(chapter.name, None)
            result.update({
                "measured": dt.date.today().isoformat(),
                "cpu": cpu_name(),
                "torch": torch.__version__,
                "variants": VARIANTS,
                "rule": f"band = max({SPREAD_FACTOR:g} x spread, {FLOOR_UNITS:g} units in the last "
                        "printed digit); 0 for an integer no variant moved",
            })
            RESULT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
            for copy in runs.values():
                if copy != chapter:
                    copy.unlink(missing_ok=True)
            print(f"{chapter.name}: bands written to {RESULT.relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
