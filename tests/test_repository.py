"""The repository the book names: one value in _config.yml, written everywhere by
scripts/repository.py (which the Pages workflow runs with the repository it runs in).

* every place (the set-up cell in scripts/ and in each chapter, book/setup.md's clone
  command) names _config.yml's repository.url;
* setting another repository changes exactly those lines, and setting the old one again
  gives back the same bytes;
* a book built after setting another repository names it: its Colab link, its
  repository button, the set-up cell and the setup page's clone command.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import repository

ROOT = Path(__file__).resolve().parent.parent
OTHER = "someone-else/fork-of-the-book"


def test_every_place_names_the_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert repository.configured_url(ROOT) == config["repository"]["url"]
    assert repository.disagreements(ROOT) == []
    assert len(repository.places(ROOT)) == 3 + len(list((ROOT / "chapters").glob("*.ipynb")))
    for path in repository.places(ROOT):
        # README.md names the owner as GitHub Pages writes it, in lower case
        assert repository.named_in(path).lower() == config["repository"]["url"].lower(), path


def test_check_mode_says_so():
    run = subprocess.run([sys.executable, "-m", "scripts.repository", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "Every place names" in run.stdout, run.stdout + run.stderr


def scratch_copy(tmp_path: Path) -> Path:
    """The files that name the repository, in a scratch book root."""
    for rel in ["_config.yml", "scripts/setup_cell.py", "book/setup.md", "README.md",
                *(p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").glob("*.ipynb"))]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, tmp_path / rel)
    return tmp_path


@pytest.mark.parametrize("given", [OTHER, f"https://github.com/{OTHER}", f"https://github.com/{OTHER}.git"])
def test_setting_another_repository_changes_only_its_lines(tmp_path, given):
    root = scratch_copy(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    old = repository.configured_url(root)
    changed = repository.set_repository(repository.url_of(given), root)
    url = f"https://github.com/{OTHER}"
    assert sorted(changed) == sorted(before)  # every file names it once
    assert repository.configured_url(root) == url and repository.disagreements(root) == []
    assert yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"] == url
    for path, text in before.items():
        old_lines = text.decode().splitlines()
        new_lines = path.read_text(encoding="utf-8").splitlines()
        diff = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
        expected = {"setup.md": 2, "README.md": 2}.get(path.name, 1)  # git clone + cd; two PDFs
        assert len(diff) == expected, (path, diff)
        if path.name == "README.md":
            assert all("https://someone-else.github.io/fork-of-the-book/" in b for _, b in diff)
        else:
            assert old in diff[0][0] and url in diff[0][1]
    setup = (root / "book" / "setup.md").read_text(encoding="utf-8")
    assert f"git clone {url}\ncd fork-of-the-book\n" in setup
    for notebook in (root / "chapters").glob("*.ipynb"):
        nb, orig = json.loads(notebook.read_text()), json.loads(before[notebook])
        code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
        for i, (cell, was) in enumerate(zip(nb["cells"], orig["cells"], strict=True)):
            if i == code[0]:  # the set-up cell: its source names the new repository, nothing else moves
                assert {k: v for k, v in cell.items() if k != "source"} == \
                       {k: v for k, v in was.items() if k != "source"}
                assert url in "".join(cell["source"])
            else:
                assert cell == was
    # The set-up cell of every chapter is still scripts/setup_cell.py's, word for word.
    setup_cell = (root / "scripts" / "setup_cell.py").read_text().strip()
    for notebook in (root / "chapters").glob("*.ipynb"):
        first = next(c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")
        assert "".join(first["source"]).strip() == setup_cell, notebook
    # And back: the same bytes as before.
    repository.set_repository(old, root)
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize("bad", ["", "owner", "owner/name/extra", "https://gitlab.com/owner/name", "a b/c"])
def test_a_bad_repository_is_refused(bad):
    with pytest.raises(SystemExit, match="not a GitHub repository"):
        repository.url_of(bad)


def test_a_book_built_for_another_repository_names_it(tmp_path):
    """Jupyter Book builds a two-page scratch book (the setup page and Chapter 1) after
    `python -m scripts.repository OTHER`: every link and command names OTHER."""
    root = tmp_path / "book-root"
    for rel in ["_config.yml", "book", "chapters/01_text_to_tokens.ipynb", "scripts/setup_cell.py"]:
        src, dest = ROOT / rel, root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, dest)
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/setup\nchapters:\n"
                                   "  - file: chapters/01_text_to_tokens\n", encoding="utf-8")
    # Only these files exist in the scratch copy: set the repository in each directly.
    url = repository.url_of(OTHER)
    for path in [root / "_config.yml", root / "book" / "setup.md", root / "scripts" / "setup_cell.py",
                 root / "chapters" / "01_text_to_tokens.ipynb"]:
        path.write_text(repository._rewrite(path, path.read_text(encoding="utf-8"), url), encoding="utf-8")
    jb = Path(sys.executable).with_name("jupyter-book")
    build = subprocess.run([str(jb), "build", str(root), "--path-output", str(root)], cwd=root,
                           capture_output=True, text=True, timeout=600)
    built = root / "_build" / "html"
    assert (built / "chapters" / "01_text_to_tokens.html").is_file(), build.stdout[-3000:] + build.stderr[-3000:]
    chapter = (built / "chapters" / "01_text_to_tokens.html").read_text(encoding="utf-8")
    setup = html.unescape(re.sub(r"<[^>]+>", "", (built / "book" / "setup.html").read_text(encoding="utf-8")))
    colab = f"https://colab.research.google.com/github/{OTHER}/blob/main/chapters/01_text_to_tokens.ipynb"
    assert f'href="{colab}"' in chapter
    assert f'href="{url}"' in chapter  # the repository button
    code = html.unescape(re.sub(r"<[^>]+>", "", chapter))  # the set-up cell, without its highlighting
    assert f'repo, folder = "{url}", "/content/tfs"' in code
    assert f"git clone {url}\ncd fork-of-the-book" in setup
    old = repository.configured_url(ROOT).removeprefix("https://github.com/")
    for page in (chapter, setup):
        assert old not in page
