"""The chapters as a whole: structure, the Colab set-up cell, the table of contents."""

import os
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest
import yaml

from scripts.check_notebooks import SETUP_CELL, problems

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def toc_chapters() -> list[str]:
    """The chapter notebooks _toc.yml lists, in its order (paths without the suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [f for f in files if f.startswith("chapters/")]


def test_the_chapters_are_the_table_of_contents_in_order():
    """Every notebook in chapters/ is in _toc.yml and vice versa, numbered 01, 02, ... in book order."""
    listed = toc_chapters()
    assert [f"chapters/{p.stem}" for p in CHAPTERS] == listed
    assert [p.stem[:3] for p in CHAPTERS] == [f"{n:02d}_" for n in range(1, len(listed) + 1)]
    assert len(listed) == 10  # the book's ten chapters (README.md): update both together


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_structure(path):
    assert problems(path) == []


def test_setup_cell_names_the_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] in SETUP_CELL


def _run_setup_cell(monkeypatch, in_colab: bool, clone_fails: bool = False) -> list[list[str]]:
    """Execute the set-up cell with subprocess.run recorded (nothing is cloned or installed)."""
    commands = []

    def fake_run(cmd, check):
        commands.append(cmd)
        if clone_fails and cmd[:2] == ["git", "clone"]:
            raise subprocess.CalledProcessError(128, cmd)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    # setenv first, so that monkeypatch records the original state and the variable that
    # the cell sets in Colab is removed again after the test (a bare delenv of a variable
    # that is not set records nothing, and the chapters' kernels would inherit it).
    monkeypatch.setenv("TFS_DATA_DIR", "unset")
    monkeypatch.delenv("TFS_DATA_DIR")
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path_before = list(sys.path)
    exec(SETUP_CELL, {})
    assert sys.path == path_before  # the editable install (or Colab's pip install) finds `shared`
    return commands


def test_setup_cell_does_nothing_outside_colab(monkeypatch):
    assert _run_setup_cell(monkeypatch, in_colab=False) == []
    assert "TFS_DATA_DIR" not in os.environ


def test_setup_cell_in_colab_clones_and_installs_the_book(monkeypatch):
    clone, install = _run_setup_cell(monkeypatch, in_colab=True)
    assert clone[:2] == ["git", "clone"] and clone[-1] == "/content/tfs"
    assert install[1:4] == ["-m", "pip", "install"] and install[-1] == "/content/tfs"
    assert os.environ["TFS_DATA_DIR"] == "/content/tfs/data"
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "tiktoken==0.14.0" in pinned and "tiktoken==0.14.0\n" in (ROOT / "requirements.txt").read_text()


def test_setup_cell_stops_with_a_clear_message_when_the_clone_fails(monkeypatch):
    with pytest.raises(RuntimeError, match=r"Could not clone https://\S+ .*run this cell again"):
        _run_setup_cell(monkeypatch, in_colab=True, clone_fails=True)


def test_check_notebooks_detects_problems(tmp_path):
    """The structure check itself can fail: a notebook run out of order is caught."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell(SETUP_CELL, execution_count=2)]
    bad = tmp_path / "bad.ipynb"
    nbformat.write(nb, bad)
    found = problems(bad)
    assert any("execution counts" in p for p in found)
    assert any("Summary" in p for p in found)
    assert any("hide-cell" in p for p in found)


def test_check_notebooks_sorts_cells_by_how_nbval_checks_them(tmp_path):
    """An ignored cell that asserts nothing is a problem; the others are counted by kind."""
    import nbformat

    from scripts.check_notebooks import check_counts, check_kind

    out = [nbformat.v4.new_output("stream", name="stdout", text="4.29\n")]
    cells = {
        "exact": nbformat.v4.new_code_cell("print(1)", outputs=out),
        "tolerance": nbformat.v4.new_code_cell("print(loss)", outputs=out, metadata={"tags": ["nbval-tolerance"]}),
        "assert": nbformat.v4.new_code_cell("print(loss)\nassert loss < 5", outputs=out,
                                            metadata={"tags": ["nbval-ignore-output"]}),
        "unchecked": nbformat.v4.new_code_cell("print(loss)", outputs=out,
                                               metadata={"tags": ["nbval-ignore-output"]}),
    }
    for kind, cell in cells.items():
        assert check_kind(cell) == kind
    assert check_kind(nbformat.v4.new_code_cell("x = 1")) is None  # no output: nothing to compare

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), *cells.values()]
    for i, cell in enumerate(nb.cells[1:], start=1):
        cell.execution_count = i
    path = tmp_path / "kinds.ipynb"
    nbformat.write(nb, path)
    assert check_counts(path) == {"exact": 1, "tolerance": 1, "assert": 1, "unchecked": 1}
    assert any("cell 4 is tagged nbval-ignore-output but asserts nothing" in p for p in problems(path))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_stored_output_is_checked(path):
    """No chapter cell has its output ignored without asserting something instead."""
    from scripts.check_notebooks import check_counts

    assert check_counts(path)["unchecked"] == 0


@pytest.mark.parametrize("path", [*CHAPTERS, *sorted((ROOT / "book").glob("*.md"))], ids=lambda p: p.stem)
def test_every_mention_of_another_chapter_is_a_link(path):
    """scripts/link_chapters.py would change nothing: each "Chapter N" is already a link."""
    import nbformat

    from scripts.link_chapters import rewrite_markdown

    if path.suffix == ".ipynb":
        texts = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
        prefix, own = "", int(path.name[:2])
    else:
        texts, prefix, own = [path.read_text(encoding="utf-8")], "../chapters/", None
    for text in texts:
        assert rewrite_markdown(text, prefix, own, []) == text, f"unlinked chapter mention in {path.name}"


def test_the_chapter_link_check_can_fail():
    from scripts.link_chapters import rewrite_markdown

    assert rewrite_markdown("as in Chapter 5", "", None, []) == "as in [Chapter 5](05_causal_mask.ipynb)"
    assert rewrite_markdown("`Chapter 5` and $Chapter 5$", "", None, []) == "`Chapter 5` and $Chapter 5$"


def test_the_setup_cell_tests_leave_no_environment_behind():
    """Runs after the set-up cell tests above: a leaked TFS_DATA_DIR would send every chapter's
    kernel, started later in the same pytest run, to an empty data folder."""
    assert os.environ.get("TFS_DATA_DIR") != "/content/tfs/data"


def test_an_exercise_solution_must_hide_its_input_and_output(tmp_path):
    """A solution tagged only hide-input (its printed answer showing) is a problem; hide-cell with
    Jupyter's source_hidden and outputs_hidden is not."""
    import nbformat

    def solution_problems(metadata):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# T\n\nWhat you will build.\n\n## Summary\n\n## Exercises"),
                    nbformat.v4.new_code_cell("print(42)", execution_count=1, metadata=metadata)]
        path = tmp_path / "nb.ipynb"
        nbformat.write(nb, path)
        return [p for p in problems(path) if "solution" in p]

    shown = solution_problems({"tags": ["hide-input"], "jupyter": {"source_hidden": True}})
    assert shown and "hide-cell" in shown[0]
    assert solution_problems({"tags": ["hide-cell"], "jupyter": {"source_hidden": True, "outputs_hidden": True}}) == []
