"""The repository the book is published from, named in one place: _config.yml.

    python -m scripts.repository               # write _config.yml's URL into every place
    python -m scripts.repository owner/name    # set a new repository, everywhere
    python -m scripts.repository --check       # only say whether every place agrees

``repository.url`` in ``_config.yml`` is the one value to change. Jupyter Book reads it
for the launch buttons (Colab, Binder) and the repository button; the other places
cannot read a configuration, so this script writes the URL into them:

* ``scripts/setup_cell.py``, the Colab set-up cell, and the same cell in every chapter
  (Colab opens the committed notebook from GitHub, so the clone there is the committed
  one: a copy of the book published from another repository commits this script's output);
* ``book/setup.md``'s ``git clone`` and ``cd`` commands;
* README.md's links to the published PDFs, on the repository's GitHub Pages site.

The Pages workflow runs it with ``${{ github.repository }}`` before building, so the
published book names the repository it was published from (tests/test_repository.py).
Only the standard library: the workflow runs it before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GITHUB = "https://github.com/"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")  # owner/name as GitHub allows

# _config.yml's `url:` line inside the `repository:` block (comments and order kept).
CONFIG_URL = re.compile(r"^(repository:\n(?:[ \t]+.*\n|[ \t]*#.*\n|\n)*?[ \t]+url:[ \t]*)(\S+)", re.MULTILINE)
SETUP_CELL_URL = re.compile(r'(repo, folder = ")([^"]+)(", "/content/tfs")')
# The same line inside a notebook's JSON (its quotes escaped).
NOTEBOOK_URL = re.compile(r'(repo, folder = \\")([^"\\]+)(\\", \\"/content/tfs\\")')
SETUP_MD_CLONE = re.compile(r"^(git clone )(\S+)\n(cd )(\S+)$", re.MULTILINE)
# README.md's links to the published PDFs, on GitHub Pages (https://<owner>.github.io/<name>/).
README_PAGES = re.compile(r"https://([A-Za-z0-9-]+)\.github\.io/([A-Za-z0-9._-]+)/(?=(?:zh/)?transformer-from-scratch)")


def configured_url(root: Path = ROOT) -> str:
    match = CONFIG_URL.search((root / "_config.yml").read_text(encoding="utf-8"))
    if not match:
        raise SystemExit("_config.yml has no repository: url: line")
    return match.group(2)


def url_of(name_or_url: str) -> str:
    """https://github.com/owner/name for 'owner/name' (or that URL itself)."""
    name = name_or_url.strip().removesuffix(".git").removesuffix("/")
    name = name.removeprefix(GITHUB)
    if not NAME.match(name):
        raise SystemExit(f"not a GitHub repository (owner/name): {name_or_url!r}")
    return GITHUB + name


def folder_of(url: str) -> str:
    """The folder `git clone URL` creates."""
    return url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")


def places(root: Path = ROOT) -> list[Path]:
    """Every file that names the repository (besides _config.yml)."""
    return [root / "scripts" / "setup_cell.py", root / "book" / "setup.md", root / "README.md",
            *sorted((root / "chapters").glob("*.ipynb"))]


def pages_url(url: str) -> str:
    """Where GitHub Pages publishes the repository's book: https://<owner>.github.io/<name>/."""
    owner, name = url.removeprefix(GITHUB).split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def _rewrite(path: Path, text: str, url: str) -> str:
    """text with the repository of one place replaced by url (fails if not found once)."""
    expected = 1
    if path.name == "_config.yml":
        pattern, new = CONFIG_URL, lambda m: m.group(1) + url
    elif path.name == "README.md":
        pattern, new, expected = README_PAGES, lambda m: pages_url(url), 2  # the two PDFs
    elif path.name == "setup.md":
        pattern, new = SETUP_MD_CLONE, lambda m: f"{m.group(1)}{url}\n{m.group(3)}{folder_of(url)}"
    elif path.suffix == ".ipynb":
        pattern, new = NOTEBOOK_URL, lambda m: m.group(1) + url + m.group(3)
    else:
        pattern, new = SETUP_CELL_URL, lambda m: m.group(1) + url + m.group(3)
    result, count = pattern.subn(new, text)
    if count != expected:
        raise SystemExit(f"{path}: expected the repository {expected} times, found it {count} times")
    return result


def named_in(path: Path) -> str:
    """The repository URL that one place names."""
    text = path.read_text(encoding="utf-8")
    if path.name == "setup.md":
        return SETUP_MD_CLONE.search(text).group(2)
    if path.name == "README.md":  # as the repository whose Pages site it links to
        match = README_PAGES.search(text)
        return f"{GITHUB}{match.group(1)}/{match.group(2)}"
    pattern = NOTEBOOK_URL if path.suffix == ".ipynb" else SETUP_CELL_URL
    return pattern.search(text).group(2)


def disagreements(root: Path = ROOT) -> list[str]:
    """Every place that names another repository than _config.yml, as 'path: url'."""
    url = configured_url(root)
    found = []
    for path in places(root):
        text = path.read_text(encoding="utf-8")
        if _rewrite(path, text, url) != text:
            found.append(f"{path.relative_to(root)}: {named_in(path)}")
    return found


def set_repository(url: str, root: Path = ROOT) -> list[Path]:
    """Write url into _config.yml and every place; return the files that changed."""
    changed = []
    for path in [root / "_config.yml", *places(root)]:
        text = path.read_text(encoding="utf-8")
        new = _rewrite(path, text, url)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repository", nargs="?", help="owner/name (default: _config.yml's repository.url)")
    parser.add_argument("--check", action="store_true", help="change nothing; fail if a place disagrees")
    options = parser.parse_args(argv)
    if options.check:
        found = disagreements(root)
        if found:
            print(f"These places do not name _config.yml's repository ({configured_url(root)}); "
                  "run `python -m scripts.repository`:\n  " + "\n  ".join(found), file=sys.stderr)
            return 1
        print(f"Every place names {configured_url(root)}.")
        return 0
    url = url_of(options.repository) if options.repository else configured_url(root)
    changed = set_repository(url, root)
    print(f"The book names {url}" + (": changed " + ", ".join(str(p.relative_to(root)) for p in changed)
                                      if changed else " (nothing to change)."))
    chapters = [p for p in changed if p.suffix == ".ipynb"]
    if chapters and os.environ.get("GITHUB_ACTIONS") == "true":
        # Colab runs the committed chapters: until they are committed, their set-up cell
        # clones the repository they named before.
        print(f"::warning title=Commit the repository's name::The chapters name another repository "
              f"than {url}; Colab opens the committed chapters, whose set-up cell would clone that one. "
              f"Run `python -m scripts.repository {url.removeprefix(GITHUB)}` and commit the result.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
