"""The chapters as a whole: structure, the Colab set-up cell, the table of contents."""

from pathlib import Path

import pytest
import yaml

from scripts.check_notebooks import SETUP_CELL, problems

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def test_there_are_chapters():
    assert len(CHAPTERS) >= 1


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_structure(path):
    assert problems(path) == []


def test_setup_cell_names_the_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] in SETUP_CELL


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc, f"{path.name} is missing from _toc.yml"


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
