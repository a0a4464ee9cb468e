"""Execute Chapter 9 on OpenAI's real GPT-2 weights, for the published book.

    python -m scripts.publish_gpt2_chapter --in-place          # what the Pages workflow runs
    python -m scripts.publish_gpt2_chapter --output PATH.ipynb  # leave the chapter alone, write a copy

(from the repository root: the script imports ``scripts.execute_notebooks``).

The notebooks in git keep the outputs of Chapter 9's offline stand-in (the tests run
without a network). The Pages workflow (``.github/workflows/pages.yml``, through
``make execute-gpt2``) has a network, and runs this script before ``make book`` so that
the published chapter shows the real GPT-2. It

1. downloads GPT-2's ``model.safetensors`` from the pinned hub revision (or from
   ``$TFS_GPT2_URL``) into the book's cache, atomically, and checks its SHA-256 and
   size (:func:`shared.pretrained.download_gpt2_weights`); a cached copy is checked
   the same way;
2. executes the chapter from a fresh kernel, top to bottom, as ``make execute`` does
   (:func:`scripts.execute_notebooks.execute`): in place with ``--in-place``, else into a copy;
3. reads the executed notebook and fails unless the chapter says it ran on OpenAI's
   GPT-2: its weights cell prints ``weights used in this run: OpenAI's GPT-2 (124M)``
   and the file's size, 548,105,171 bytes.

Any failure ends with a message and exit status 1, so the workflow stops before it
publishes anything. With ``--in-place`` the chapter's stored outputs change: do that
only in a throw-away checkout (as CI does), and never commit the result.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import nbformat

from scripts.execute_notebooks import execute
from shared.data import DownloadError
from shared.pretrained import GPT2_FILENAME, GPT2_SIZE, download_gpt2_weights, gpt2_url

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "09_gpt2.ipynb"

# What Chapter 9's weights cell prints (the cell that chooses between the real weights
# and the stand-in); keep these in step with it.
WEIGHTS_LINE = "weights used in this run:"
REAL_WEIGHTS = "OpenAI's GPT-2 (124M)"
FILE_LINE = f"file: {GPT2_FILENAME} ({GPT2_SIZE:,} bytes)"


class NotRealWeights(RuntimeError):
    """The executed chapter does not show that it ran on OpenAI's GPT-2 weights."""


def fetch_weights(*, url: str | None = None, sha256: str | None = None, size: int | None = None,
                  **kwargs) -> Path:
    """Step 1: the verified weights in the book's cache (downloaded if missing); see the module doc.

    The arguments default to the pinned file; the tests give a stand-in's instead.
    """
    url = url or gpt2_url()
    print(f"GPT-2 weights: {url}", flush=True)
    start = time.perf_counter()
    kwargs.setdefault("progress", sys.stderr.isatty())  # no progress bar flood in CI logs
    path = download_gpt2_weights(url=url, sha256=sha256, size=size, **kwargs)
    print(f"verified: {path} ({path.stat().st_size:,} bytes, SHA-256 checked) "
          f"in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def execute_chapter(source: Path, output: Path) -> float:
    """Step 2: execute ``source`` from a fresh kernel into ``output`` (may be the same file)."""
    if output.resolve() != source.resolve():
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, output)
    return execute(output)


def weights_report(nb) -> list[str]:
    """The lines of the executed chapter's output that say which weights it used."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(out.get("text", "") for out in cell.get("outputs", [])
                       if out.get("output_type") == "stream" and out.get("name") == "stdout")
        if WEIGHTS_LINE in text:
            return text.strip().splitlines()
    return []


def check_real_weights(nb) -> str:
    """Step 3: the chapter's own line naming its weights, if they were OpenAI's; else raise."""
    lines = weights_report(nb)
    used = next((line for line in lines if line.startswith(WEIGHTS_LINE)), None)
    if used is None:
        raise NotRealWeights(
            f"the executed chapter has no output line starting {WEIGHTS_LINE!r}, so nothing proves "
            f"which weights it ran on; its weights cell must print that line ({__file__} looks for it)"
        )
    if used != f"{WEIGHTS_LINE} {REAL_WEIGHTS}":
        raise NotRealWeights(
            f"the chapter did not run on OpenAI's GPT-2: it printed {used!r}. Publishing it would show "
            "the stand-in's outputs: check that the weights were downloaded into the cache the "
            "chapter reads (TFS_DATA_DIR) and that TFS_OFFLINE is not set"
        )
    if FILE_LINE not in lines:
        raise NotRealWeights(
            f"the chapter says {used!r} but does not print {FILE_LINE!r}; it printed: {lines}"
        )
    return used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--in-place", action="store_true", help="execute the chapter in place (CI only)")
    where.add_argument("--output", type=Path, help="write the executed chapter here instead")
    parser.add_argument("--notebook", type=Path, default=CHAPTER, help="the chapter (default: %(default)s)")
    args = parser.parse_args(argv)
    output = args.notebook if args.in_place else args.output
    try:
        fetch_weights()
        execute_chapter(args.notebook, output)
        used = check_real_weights(nbformat.read(output, as_version=4))
    except (DownloadError, NotRealWeights) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{output}: {used}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
