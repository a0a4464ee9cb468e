"""Build the HTML book into _build/html with warnings as errors (`make book`, `make test`).

    python scripts/build_book.py [BOOK_ROOT]

BOOK_ROOT defaults to this repository (a scratch copy of the book can be built the
same way). It builds the English book into ``_build/html/`` and, where ``locale/zh_CN/``
exists, the Chinese edition into ``_build/html/zh/`` (both with warnings as errors).
Besides running Jupyter Book, this script makes the book work offline:

* MathJax 3 is vendored from the installed ``django-static-mathjax`` package (its
  ``mathjax`` folder) into ``_build/html/_vendor/mathjax/``: the output, not git,
  and not ``_static/`` (Jupyter Book would add every .js under ``_static/`` to every
  page). ``_config.yml`` points Sphinx's ``mathjax_path`` there.
* After the build, every page is scanned for resources (scripts, stylesheets,
  images, fonts) loaded from another host; any such reference fails the build.
  The browser test (tests/test_browser.py) proves the same by blocking the network.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = "_vendor/mathjax"  # inside _build/html; _config.yml's mathjax_path points here

# What the book needs of MathJax's es5 distribution: the TeX-to-CommonHTML component,
# its web fonts, and what it may load later on demand (TeX extensions through
# \require or autoload; the menu's accessibility tools).
MATHJAX_PARTS = ["tex-chtml.js", "output/chtml/fonts", "input/tex/extensions", "ui", "a11y",
                 "adaptors", "sre"]

# src/href of resources the browser loads by itself (not hyperlinks).
RESOURCE = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"']([^\"']+)[\"']"
    r"|<link\b(?=[^>]*\brel=[\"'](?:stylesheet|preload|modulepreload|icon|shortcut icon|manifest)[\"'])"
    r"[^>]*\bhref=[\"']([^\"']+)[\"']",
    re.IGNORECASE,
)


def mathjax_source() -> Path:
    """The es5 folder of the installed MathJax (PyPI package django-static-mathjax)."""
    import mathjax  # installed by django-static-mathjax

    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise SystemExit(f"MathJax's tex-chtml.js not found in {es5}: "
                         "is django-static-mathjax installed (requirements.txt)?")
    return es5


def vendor_mathjax(html_dir: Path) -> Path:
    """Copy MathJax into html_dir/_vendor/mathjax (only files that changed)."""
    source, dest = mathjax_source(), html_dir / VENDOR
    for part in MATHJAX_PARTS:
        src = source / part
        files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
        for file in files:
            target = dest / file.relative_to(source)
            if not (target.exists() and filecmp.cmp(file, target, shallow=False)):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, target)
    return dest


def external_resources(html_dir: Path) -> list[str]:
    """Every resource a page would load from another host, as 'page: url'."""
    found = []
    for page in sorted(html_dir.rglob("*.html")):
        if VENDOR in page.as_posix():
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        for match in RESOURCE.finditer(text):
            url = match.group(1) or match.group(2)
            if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE):
                found.append(f"{page.relative_to(html_dir)}: {url}")
    return found


# The Chinese edition: the same sources, with every message from locale/zh_CN (see
# CONTRIBUTING.md). It is written to _build/html/zh/ and links to the English pages.
LANGUAGES = {"zh_CN": {"folder": "zh", "title": "从零构建 Transformer",
                       "author": "《从零构建 Transformer》作者"}}


def edition_config(root: Path, language: str) -> Path:
    """Write the configuration of one translated edition; return its path.

    Jupyter Book 1's CLI has no ``-D language=...``; a second _config.yml does it. Paths
    that Jupyter Book reads relative to the configuration file are made absolute; MathJax
    is shared with the English book (one folder up from the edition's _static/).
    """
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    edition = LANGUAGES[language]
    config["title"], config["author"] = edition["title"], edition["author"]
    sphinx = config["sphinx"]
    sphinx["local_extensions"] = {name: str((root / folder).resolve())
                                  for name, folder in sphinx["local_extensions"].items()}
    sphinx["config"]["language"] = language
    sphinx["config"]["mathjax_path"] = "../" + sphinx["config"]["mathjax_path"]
    path = root / "_build" / f"config-{language}" / "_config.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def jupyter_book(root: Path, *args: str, fresh: bool = True) -> int:
    """Run Jupyter Book's build on root with warnings as errors (fresh: read every page
    again, as `make book` does; else Sphinx reuses what an earlier build read)."""
    cmd = [sys.executable, "-m", "jupyter_book", "build", str(root), *args,
           "-W", "-n", "--keep-going", *(["--all"] if fresh else [])]  # --all: no stale pages
    # jupyter-book's console script is `jupyter-book`; its module has no __main__ in 1.x.
    jb = Path(sys.executable).with_name("jupyter-book")
    if jb.exists():
        cmd = [str(jb), *cmd[3:]]
    return subprocess.call(cmd, cwd=root)


def build_edition(root: Path, language: str, html_dir: Path) -> int:
    """Build one translated edition into html_dir/<folder>/ (replacing what was there)."""
    out = root / "_build" / f"edition-{language}"
    status = jupyter_book(root, "--path-output", str(out), "--config",
                          str(edition_config(root, language)))
    if status != 0:
        return status
    dest = html_dir / LANGUAGES[language]["folder"]
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(out / "_build" / "html", dest)
    return 0


def main(root: Path = ROOT, languages: list[str] | None = None) -> int:
    html_dir = root / "_build" / "html"
    # Before the build, so that Sphinx finds the file and adds its checksum to the URL.
    vendor_mathjax(html_dir)
    status = jupyter_book(root, "--path-output", str(root))
    if status != 0:
        return status
    vendor_mathjax(html_dir)  # in case the build started from an empty folder
    if languages is None:
        languages = [lang for lang in LANGUAGES if (root / "locale" / lang).is_dir()]
    for language in languages:
        status = build_edition(root, language, html_dir)
        if status != 0:
            return status
    external = external_resources(html_dir)
    if external:
        print("The book must load nothing from the network; these pages do:", file=sys.stderr)
        print("\n".join(f"  {line}" for line in external), file=sys.stderr)
        return 1
    editions = ", ".join(["English", *(f"{lang} in {LANGUAGES[lang]['folder']}/" for lang in languages)])
    print(f"Offline check passed: no page loads anything from another host ({html_dir}; {editions}).")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT))
