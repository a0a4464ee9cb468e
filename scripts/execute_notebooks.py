"""Re-execute chapter notebooks in place, each from a fresh kernel, top to bottom.

    python scripts/execute_notebooks.py chapters/*.ipynb

This is how the stored outputs are made (`make execute`): the book shows them,
and `make test` (nbval) checks that the code still produces them. Widget state is
not stored: the static book uses each slider figure's HTML version instead.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from offline import prepare_offline_environment  # scripts/offline.py, beside this script

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def make_outputs_stable(nb) -> None:
    """Remove two run-to-run differences that executing leaves in stored outputs.

    A print can be stored as two stream outputs, split wherever the kernel happened to
    flush: consecutive stream outputs of the same name are merged. Progress bars (tqdm)
    get random ipywidgets model ids and have no HTML version: their ids become a hash of
    the cell id and the output's position. (Slider figures from shared.widgets already
    derive theirs from their content.)
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            last = outputs[-1] if outputs else None
            if last is not None and out.output_type == "stream" == last.output_type and out.name == last.name:
                last.text += out.text
                continue
            outputs.append(out)
        for i, out in enumerate(outputs):
            data = out.get("data", {})
            if WIDGET_VIEW in data and "text/html" not in data:
                data[WIDGET_VIEW]["model_id"] = hashlib.sha256(f"{cell.id}/{i}".encode()).hexdigest()[:32]
        cell.outputs = outputs


def execute(path: Path) -> float:
    """Run one notebook in place from a fresh kernel; return the seconds it took."""
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
    seconds = time.perf_counter() - start
    make_outputs_stable(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:  # timestamps would make every re-run a diff of every cell
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    print(f"{path}: executed in {seconds:.0f} s")
    return seconds


def main(paths: list[str]) -> None:
    prepare_offline_environment()
    for name in paths:
        execute(Path(name))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
