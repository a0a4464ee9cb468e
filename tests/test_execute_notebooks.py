"""scripts/execute_notebooks.py stores each progress bar as it looked at the end of the run.

A tqdm.auto bar in a notebook is a widget: executing stores its view and the text it had when
first displayed (``0%| | 0/400 [00:00<?, ?it/s]``); its updates live only in the widget's state.
The script rebuilds the final text from that state, and nbval (with tests/sanitize.cfg) must
still compare it with a fresh run's bar, which shows that first text again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from scripts.execute_notebooks import WIDGET_VIEW, execute, finish_progress_bars, progress_bar_text

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "tests" / "sanitize.cfg"
# tqdm's text form of a bar with a known total: "desc: 100%|##########| 400/400 [00:23<00:00, 11.09it/s]"
BAR = re.compile(r"^(?P<desc>.*?) *(?P<pct>\d+)%\|(?P<bar>[^|]*)\| *(?P<n>\d+)/(?P<total>\d+) \[(?P<times>[^\]]*)\]$")


def sanitize(text: str) -> str:
    """What nbval compares: the text rewritten by tests/sanitize.cfg, in the file's order."""
    for regex, replace in get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8")):
        text = re.sub(regex, replace, text)
    return text


def bar_states(model_id: str, left: str, value: float, total: float, right: str, *, hidden: bool = False) -> dict:
    """The widget states tqdm.notebook leaves behind: an HBox of HTML, FloatProgress, HTML, and a layout."""
    def html(text):  # tqdm writes spaces as U+2007 and escapes HTML
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(" ", "\u2007")

    return {
        model_id: {"_model_name": "HBoxModel", "layout": f"IPY_MODEL_{model_id}-layout",
                   "children": [f"IPY_MODEL_{model_id}-{part}" for part in ("l", "p", "r")]},
        f"{model_id}-layout": {"_model_name": "LayoutModel", "visibility": "hidden" if hidden else None},
        f"{model_id}-l": {"_model_name": "HTMLModel", "value": html(left)},
        f"{model_id}-p": {"_model_name": "FloatProgressModel", "min": 0.0, "max": total, "value": value},
        f"{model_id}-r": {"_model_name": "HTMLModel", "value": html(right)},
    }


def test_bar_text_is_rebuilt_from_the_last_widget_state():
    states = {**bar_states("a", "training: 100%", 1000, 1000, " 1000/1000 [00:52<00:00, 19.20step/s]"),
              **bar_states("b", "x & <y>:  33%", 10, 30, " 10/30 [00:01<00:02, 9.50it/s, loss=1.5]"),
              **bar_states("c", "gone:   0%", 5, 5, " 0/5 [00:00<?, ?it/s]", hidden=True),
              "box": {"_model_name": "HBoxModel", "children": ["IPY_MODEL_a-l", "IPY_MODEL_a-r"]}}
    assert progress_bar_text(states, "a") == "training: 100%|██████████| 1000/1000 [00:52<00:00, 19.20step/s]"
    assert progress_bar_text(states, "b") == "x & <y>:  33%|███▎      | 10/30 [00:01<00:02, 9.50it/s, loss=1.5]"
    assert progress_bar_text(states, "c") == ""  # leave=False: the bar was hidden
    assert progress_bar_text(states, "box") is None  # another HBox is no progress bar
    assert progress_bar_text(states, "a-l") is None and progress_bar_text(states, "missing") is None


def test_finish_progress_bars_replaces_only_bars():
    states = {**bar_states("a", "training: 100%", 4, 4, " 4/4 [00:01<00:00, 3.90step/s]"),
              **bar_states("c", "gone:   0%", 5, 5, " 0/5 [00:00<?, ?it/s]", hidden=True)}
    view = {"version_major": 2, "version_minor": 0}
    outputs = [
        nbformat.v4.new_output("display_data", {"text/plain": "training:   0%|          | 0/4 [00:00<?, ?step/s]",
                                                 WIDGET_VIEW: {**view, "model_id": "a"}}),
        nbformat.v4.new_output("stream", name="stdout", text="done\n"),
        nbformat.v4.new_output("display_data", {"text/plain": "gone:   0%|          | 0/5 [00:00<?, ?it/s]",
                                                 WIDGET_VIEW: {**view, "model_id": "c"}}),
        nbformat.v4.new_output("display_data", {"text/html": "<div>slider</div>", "text/plain": "Box()",
                                                 WIDGET_VIEW: {**view, "model_id": "unknown"}}),
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("...", outputs=outputs)])
    assert finish_progress_bars(nb, states) == 2
    first, stream, other = nb.cells[0].outputs
    assert first.data == {"text/plain": "training: 100%|██████████| 4/4 [00:01<00:00, 3.90step/s]"}
    assert stream.text == "done\n" and WIDGET_VIEW in other.data and other.data["text/html"] == "<div>slider</div>"


@pytest.mark.parametrize(("stored", "fresh", "same"), [
    ("training: 100%|██████████| 1000/1000 [00:52<00:00, 19.20step/s, train=3.412, val=4.551]",
     "training:   0%|          | 0/1000 [00:00<?, ?step/s]", True),
    (" 33%|███▎      | 10/30 [00:01<00:02, 9.50it/s]", "  0%|          | 0/30 [00:00<?, ?it/s]", True),
    ("variants: 100%|██████████| 10/10 [01:40<00:00, 10.05s/it]", "variants:   0%|          | 0/10 [00:00<?, ?it/s]",
     True),
    ("training: 100%|██████████| 1000/1000 [00:52<00:00, 19.20step/s]",
     "training:   0%|          | 0/999 [00:00<?, ?step/s]", False),  # another total
    ("training: 100%|██████████| 1000/1000 [00:52<00:00, 19.20step/s]",
     "fine-tuning:   0%|          | 0/1000 [00:00<?, ?step/s]", False),  # another description
])
def test_sanitizing_compares_description_and_total_only(stored, fresh, same):
    assert (sanitize(stored) == sanitize(fresh)) is same
    assert "[PROGRESS]" in sanitize(stored)


CELLS = [
    "from tqdm.auto import tqdm",
    "for i in tqdm(range(40), desc='training', unit='step'):\n    pass\nprint('trained')",
    "bar = tqdm(range(30), desc='stopped early')\nfor i in bar:\n    bar.set_postfix(i=i)\n"
    "    if i == 9:\n        break  # before tqdm counts it: 9 of 30\nbar.close()",
    "for i in tqdm(range(5), desc='hidden', leave=False):\n    pass",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> Path:
    """A small notebook of progress bars, executed by the script (one kernel, a few seconds)."""
    path = tmp_path_factory.mktemp("bars") / "bars.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS]), path)
    execute(path)
    return path


def test_executed_bars_show_where_they_ended(executed):
    nb = nbformat.read(executed, as_version=4)
    assert "widgets" not in nb.metadata  # the book loads no widget JavaScript
    assert [c.execution_count for c in nb.cells] == [1, 2, 3, 4]
    outputs = [c.outputs for c in nb.cells]
    assert outputs[0] == [] and outputs[3] == []  # the bar hidden by leave=False is gone, as on screen
    (training, printed), (stopped,) = outputs[1], outputs[2]
    assert printed.text == "trained\n"
    for out, desc, n, total in [(training, "training", 40, 40), (stopped, "stopped early", 9, 30)]:
        assert list(out.data) == ["text/plain"]  # no widget view left behind
        match = BAR.match(out.data["text/plain"])
        assert match, out.data["text/plain"]
        assert (match["desc"], int(match["n"]), int(match["total"])) == (f"{desc}:", n, total)
        assert int(match["pct"]) == 100 * n // total and match["bar"].count("█") == 10 * n // total
        assert "?" not in match["times"]  # a rate and times were measured
    assert stopped.data["text/plain"].endswith(", i=9]")  # the postfix, as last set


def run_nbval(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """nbval on one notebook as `make test` runs it: tests/sanitize.cfg, cells tagged nbval-tolerance."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(
        "from tests import nbval_tolerance\n\n\ndef pytest_configure(config):\n    nbval_tolerance.install()\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", "-p", "no:xdist", "--nbval", "--nbval-sanitize-with", str(SANITIZE), str(path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})


def test_nbval_compares_the_final_bars_with_a_fresh_run(executed, tmp_path):
    """The stored final bar passes nbval against a fresh run's first one, in an exact cell and in
    one tagged nbval-tolerance, and a wrong total fails.

    (Not the hidden bar's cell: it stores nothing, as the screen showed nothing, while a fresh
    run displays the bar; CONTRIBUTING.md asks chapters not to hide their bars.)
    """
    nb = nbformat.read(executed, as_version=4)
    nb.cells = nb.cells[:3]
    nb.cells[2].metadata["tags"] = ["nbval-tolerance"]  # a fresh bar has fewer numbers: compared as text
    shown = tmp_path / "shown.ipynb"
    nbformat.write(nb, shown)
    run = run_nbval(shown, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "3 passed" in run.stdout
    bar = nb.cells[1].outputs[0]
    bar.data["text/plain"] = bar.data["text/plain"].replace("40/40", "40/41")
    wrong = tmp_path / "wrong_total.ipynb"
    nbformat.write(nb, wrong)
    run = run_nbval(wrong, tmp_path)
    assert run.returncode == 1 and "1 failed" in run.stdout, run.stdout[-3000:]
    assert "of 41 [TIME]" in run.stdout  # the sanitised stored text, in nbval's report
