"""Re-execute chapter notebooks in place, each from a fresh kernel, top to bottom.

    python -m scripts.execute_notebooks chapters/*.ipynb    # from the repository root

This is how the stored outputs are made (`make execute`): the book shows them,
and `make test` (nbval) checks that the code still produces them. Widget state is
not stored: the static book uses each slider figure's HTML version instead, and
each progress bar is stored as the text it showed when its cell finished
(:func:`finish_progress_bars`).
"""

from __future__ import annotations

import hashlib
import html
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from tqdm.std import Bar

from scripts.offline import prepare_offline_environment

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}


def _widget(states: dict, ref) -> dict:
    """The last state of a widget, named by its model id or by a reference "IPY_MODEL_<id>"."""
    return states.get(str(ref).removeprefix("IPY_MODEL_"), {})


def progress_bar_text(states: dict, model_id: str) -> str | None:
    """The text of a tqdm.auto progress bar as it looked when its cell finished, from the last
    state of its widgets; "" if the code hid it (``leave=False``); None if it is no progress bar.

    tqdm's notebook bar is an HBox of three widgets: an HTML text left of the bar (description
    and percentage), the bar (a progress widget) and an HTML text right of it (count, times,
    postfix). Its text form is tqdm's own, ``training: 100%|██████████| 1000/1000 [00:52<00:00,
    19.20step/s]``, with the bar drawn from the progress widget's value.
    """
    box = _widget(states, model_id)
    children = [_widget(states, child) for child in box.get("children") or []]
    kinds = [child.get("_model_name") for child in children]
    if (box.get("_model_name") != "HBoxModel" or len(kinds) != 3 or kinds[::2] != ["HTMLModel"] * 2
            or kinds[1] not in PROGRESS_MODELS):
        return None
    if _widget(states, box.get("layout")).get("visibility") == "hidden":
        return ""
    left, progress, right = children
    low, high, value = (float(progress.get(key) or 0) for key in ("min", "max", "value"))
    fraction = min(max((value - low) / (high - low), 0.0), 1.0) if high > low else 1.0
    bar = format(Bar(fraction, default_len=10, charset=Bar.UTF), "")

    def text(widget: dict) -> str:  # tqdm writes spaces as U+2007 and escapes the HTML
        return html.unescape(widget.get("value") or "").replace("\u2007", " ")

    return f"{text(left)}|{bar}|{text(right)}"


def finish_progress_bars(nb, states: dict) -> int:
    """Store each progress bar of ``nb`` as the text it showed at the end of the run.

    Executing records a bar as its widget's view plus the text it had when first displayed
    (``0%| | 0/1000 [00:00<?, ?step/s]``); the updates that follow change only the widget's
    state, which is not stored. So the book (which shows no live widgets) and Jupyter (where
    the widget's model is gone) would show a bar that never started. Here each bar's output
    becomes plain text rebuilt from the last state of its widgets (``states``, model id to
    state, as nbclient records it with ``store_widget_state=True``), and a bar that the code
    hid (``leave=False``) is removed, as it was from the reader's screen. nbval compares the
    bar with the freshly displayed one after ``tests/sanitize.cfg`` has rewritten the parts
    that vary (the count reached, the bar, times and postfix): description and total stay
    compared. Returns the number of bars changed.
    """
    changed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            view = out.get("data", {}).get(WIDGET_VIEW)
            text = progress_bar_text(states, view.get("model_id", "")) if view else None
            if text is not None:
                changed += 1
                if not text:
                    continue
                out.data = nbformat.from_dict({"text/plain": text})
            outputs.append(out)
        cell.outputs = outputs
    return changed


def make_outputs_stable(nb) -> None:
    """Remove two run-to-run differences that executing leaves in stored outputs.

    A print can be stored as two stream outputs, split wherever the kernel happened to
    flush: consecutive stream outputs of the same name are merged. A widget with no HTML
    version (none is left once :func:`finish_progress_bars` has turned the progress bars
    into text) would keep a random ipywidgets model id: it becomes a hash of the cell id and
    the output's position. (Slider figures from shared.widgets already derive theirs from
    their content.)
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
        store_widget_state=True,  # read by finish_progress_bars, then dropped: the book loads no widget JavaScript
        record_timing=False,  # no timestamps in the stored notebooks
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    finish_progress_bars(nb, client.widget_state)
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
