"""Re-execute chapter notebooks in place, each from a fresh kernel, top to bottom.

    python scripts/execute_notebooks.py chapters/*.ipynb

This is how the stored outputs are made (`make execute`): the book shows them,
and `make test` (nbval) checks that the code still produces them. Widget state is
not stored: the static book uses each slider figure's HTML version instead.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.offline import prepare_offline_environment  # noqa: E402


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=1800,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=False,
        record_timing=False,  # no timestamps in the stored notebooks
    )
    start = time.perf_counter()
    client.execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:  # timestamps would make every re-run a diff of every cell
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    print(f"{path}: executed in {time.perf_counter() - start:.0f} s")


def main(paths: list[str]) -> None:
    prepare_offline_environment()
    for name in paths:
        execute(Path(name))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
