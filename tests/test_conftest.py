"""conftest.py hands the longest test units out first; it only reorders, never drops or splits."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "conftest.py")
book_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book_conftest)


def test_every_unit_named_exists_and_every_chapter_is_named():
    for unit in book_conftest.LONGEST_FIRST:
        assert (ROOT / unit).is_file(), f"conftest.LONGEST_FIRST names {unit}, which does not exist"
    assert len(set(book_conftest.LONGEST_FIRST)) == len(book_conftest.LONGEST_FIRST)
    chapters = {f"chapters/{p.name}" for p in (ROOT / "chapters").glob("[0-9]*.ipynb")}
    assert chapters <= set(book_conftest.LONGEST_FIRST), "place a new chapter in conftest.LONGEST_FIRST"


def test_the_order_moves_whole_units_and_keeps_each_units_items_in_order():
    ids = ["tests/test_a.py::test_1", "tests/test_a.py::test_2[x]",
           "chapters/02_embeddings.ipynb::Cell 0", "chapters/02_embeddings.ipynb::Cell 1",
           "chapters/07_training.ipynb::Cell 0", "chapters/07_training.ipynb::Cell 1",
           "chapters/07_training.ipynb::Cell 2", "tests/test_b.py::test_1"]
    items = [SimpleNamespace(nodeid=i) for i in ids]
    book_conftest.pytest_collection_modifyitems(None, None, items)
    assert [i.nodeid for i in items] == [ids[4], ids[5], ids[6], ids[2], ids[3], ids[0], ids[1], ids[7]]
