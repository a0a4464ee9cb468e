"""scripts/check_glue.py: numbers that a cell printed may not be typed by hand in the prose."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from scripts.check_glue import matches, problems, prose

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def notebook(tmp_path: Path, markdown: str, printed: str, metadata: dict | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(...)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    nb.cells = [nbformat.v4.new_markdown_cell(markdown, metadata=metadata or {}), code]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_printed_number_typed_in_prose_is_flagged(tmp_path):
    path = notebook(tmp_path, "The loss falls to 4.41 and 95.7% of tokens, 47,902 ids.", "loss 4.4083, 0.957, 47902\n")
    flagged = problems(path)
    assert [line.split(": ")[2].split(" is")[0] for line in flagged] == ["'4.41'", "'95.7%'", "'47,902'"]


def test_glued_coded_and_allowed_numbers_pass(tmp_path):
    text = ("The loss falls to {glue:text}`loss`; `x = 4.41`; $4.41$; in 2017 Chapter 4.41 used 8 heads "
            "of 50,257 ids; see [the paper](https://example.org/4.41).")
    assert problems(notebook(tmp_path, text, "4.41 8 2017 50257\n")) == []


def test_a_number_typed_on_purpose_needs_its_reason(tmp_path):
    def typed(reason):
        return {"check_glue": {"typed": {"5,000": reason}}}
    assert problems(notebook(tmp_path, "We train 5,000 steps.", "5000\n", typed("a setting"))) == []
    assert problems(notebook(tmp_path, "We train 5,000 steps.", "5000\n", typed("")))


def test_precision_is_the_prose_s_own():
    assert matches("4.41", [4.4083]) and not matches("4.41", [4.4183])
    assert matches("4.3%", [0.0431]) and not matches("4.3%", [0.0441])
    assert "4.41" not in prose("{glue:text}`a` `4.41` $4.41$")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_types_a_printed_number(path):
    assert problems(path) == []


def test_the_script_exits_1_on_a_problem(tmp_path):
    path = notebook(tmp_path, "It is 4.41.", "4.41\n")
    script = ROOT / "scripts" / "check_glue.py"
    run = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True)
    assert run.returncode == 1 and "4.41" in run.stdout
