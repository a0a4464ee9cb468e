"""Point the book's two downloads at local copies, for the tests and `make execute`.

The machines that test this book have no internet. A read-only folder beside
the checkout, ``../shared/data`` (or ``$TFS_SHARED_DATA``), holds byte-identical
copies of the corpus and of tiktoken's GPT-2 files. :func:`prepare_offline_environment`

* points ``TIKTOKEN_CACHE_DIR`` at its ``tiktoken/`` folder (unless already set),
* copies the corpus into the book's cache (verified, atomically) if it is missing,
* sets ``TFS_OFFLINE=1`` unless told otherwise, so no chapter downloads anything
  (Chapter 9 then uses its small stand-in for the GPT-2 weights).

Where no such folder exists (a reader's laptop) nothing is copied and the
normal downloads happen, as they would for a reader. Used by the root
``conftest.py`` (before any test or notebook kernel starts) and by
``scripts/execute_notebooks.py``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from shared import data

ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    """The folder of offline copies, or None where there is none."""
    folder = Path(os.environ.get("TFS_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return folder if folder.is_dir() else None


def prepare_offline_environment() -> None:
    """Set up the environment variables and the cached corpus; see the module docstring."""
    folder = shared_data_dir()
    if folder is not None:
        if "TIKTOKEN_CACHE_DIR" not in os.environ and (folder / "tiktoken").is_dir():
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder / "tiktoken")
        source = folder / data.CORPUS_FILENAME
        dest = data.cache_dir() / data.CORPUS_FILENAME
        if source.exists() and not (dest.exists() and data.sha256_of(dest) == data.CORPUS_SHA256):
            if data.sha256_of(source) != data.CORPUS_SHA256:
                raise RuntimeError(
                    f"{source} does not have the corpus's SHA-256 ({data.CORPUS_SHA256}): "
                    "replace it with a fresh copy, or move it away to download the corpus instead"
                )
            with open(source, "rb") as src:
                data.atomic_write(dest, lambda out: shutil.copyfileobj(src, out))
    os.environ.setdefault("TFS_OFFLINE", "1")
    os.environ.setdefault("PYTHONHASHSEED", "0")
