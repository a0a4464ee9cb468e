"""How the project's code finds its own modules: the installed `shared` package and the
`scripts` package of the repository root, never by editing `sys.path`.

* No .py file of the project, and no chapter cell after the set-up cell, edits `sys.path`
  (the set-up cell, scripts/setup_cell.py, is the one place that could need to).
* Every script the Makefile runs starts the way the Makefile runs it: a script that imports
  `scripts.<module>` runs as `python -m scripts.<name>` from the repository root; one run as
  `python scripts/x.py` (where `scripts/` itself, not the root, is first on `sys.path`)
  imports no module of the `scripts` package and no neighbour by its bare name.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP_CELL = ROOT / "scripts" / "setup_cell.py"
SKIP_DIRS = {"_build", "data", "node_modules", "__pycache__"}  # and every folder whose name starts with "."
PATH_METHODS = {"insert", "append", "extend", "remove", "pop", "clear"}


def project_python_files() -> list[Path]:
    """The project's own .py files (not the virtual environment, the build or the data)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):  # pruned as it goes: .venv is large
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        found += [Path(folder) / name for name in files if name.endswith(".py")]
    return sorted(found)


def sys_path_edits(source: str) -> list[str]:
    """Each statement of ``source`` that changes ``sys.path`` (as ``line: code``)."""
    tree = ast.parse(source)
    names = {"sys.path"}  # what sys.path is called here (also `from sys import path as p`)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "sys":
            names |= {alias.asname or alias.name for alias in node.names if alias.name == "path"}

    def is_path(node) -> bool:
        return ast.unparse(node) in names

    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in PATH_METHODS and is_path(node.func.value):
                found.append(node)
            elif ast.unparse(node.func) == "site.addsitedir":
                found.append(node)
        elif isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Delete) else [node.target]
        for target in targets:
            if is_path(target) or (isinstance(target, ast.Subscript) and is_path(target.value)):
                found.append(node)
    return [f"{node.lineno}: {ast.unparse(node)}" for node in found]


@pytest.mark.parametrize("source", [
    "import sys\nsys.path.insert(0, 'scripts')",
    "import sys\nsys.path.append('..')",
    "import sys\nsys.path += ['x']",
    "import sys\nsys.path[:0] = ['x']",
    "import sys\nsys.path = ['x'] + sys.path",
    "from sys import path\npath.insert(0, 'x')",
    "import site\nsite.addsitedir('x')",
])
def test_the_check_finds_sys_path_edits(source):
    assert len(sys_path_edits(source)) == 1


def test_the_check_allows_reading_sys_path():
    assert sys_path_edits("import sys\nprint(sys.path)\nok = '.' in sys.path\npaths = list(sys.path)\n"
                          "import os\nos.path.join('a', 'b')\nfrom os import path\npath.insert = None") == []


def test_no_python_file_edits_sys_path():
    files = project_python_files()
    assert ROOT / "scripts" / "execute_notebooks.py" in files and ROOT / "conftest.py" in files
    found = [f"{path.relative_to(ROOT)}:{edit}" for path in files if path != SETUP_CELL
             for edit in sys_path_edits(path.read_text(encoding="utf-8"))]
    assert not found, ("sys.path edited (import from the installed `shared` package, or run the script "
                       "as `python -m scripts.<name>` from the repository root):\n" + "\n".join(found))


def test_no_chapter_cell_edits_sys_path():
    """The chapters' cells after the set-up cell (which equals scripts/setup_cell.py) leave sys.path alone."""
    from IPython.core.inputtransformer2 import TransformerManager

    to_python = TransformerManager().transform_cell  # %magics and !commands as Python
    chapters = sorted((ROOT / "chapters").glob("*.ipynb"))
    assert chapters
    found = []
    for path in chapters:
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        for number, cell in enumerate(code[1:], start=2):
            found += [f"{path.name}, code cell {number}, line {edit}"
                      for edit in sys_path_edits(to_python(cell.source))]
    assert not found, "sys.path edited in a chapter:\n" + "\n".join(found)


# -- the Makefile's scripts ----------------------------------------------------------------------
# `$(BIN)/python -m scripts.name ...` or `$(BIN)/python scripts/name.py ...` (bench/ likewise)
INVOCATION = re.compile(r"\$\(BIN\)/python (?:-m (?P<module>(?:scripts|bench)\.\w+)"
                        r"|(?P<file>(?:scripts|bench)/\w+\.py))")


def makefile_invocations() -> list[tuple[str, str]]:
    """('module', 'scripts.x') or ('file', 'scripts/x.py') for every script a recipe runs."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = {("module", m["module"]) if m["module"] else ("file", m["file"]) for m in INVOCATION.finditer(text)}
    return sorted(found)


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports (at any depth of its code)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_makefile_runs_scripts():
    invocations = makefile_invocations()
    assert ("module", "scripts.execute_notebooks") in invocations
    assert ("file", "scripts/build_book.py") in invocations


@pytest.mark.parametrize(("kind", "name"), makefile_invocations())
def test_each_script_imports_what_its_invocation_can_find(kind, name):
    path = ROOT / (name.replace(".", "/") + ".py" if kind == "module" else name)
    if kind == "module" and not path.is_file():  # a package run by its __main__.py
        path = path.with_suffix("") / "__main__.py"
    assert path.is_file(), f"the Makefile runs {name}, which does not exist"
    if kind == "file":
        # Run as a file, its own folder comes first on sys.path and the repository root not at all.
        folder = path.parent
        neighbours = {p.stem for p in folder.glob("*.py")} - {"__init__"}
        wrong = imported_modules(path) & ({folder.name} | neighbours)
        assert not wrong, (f"{name} imports {sorted(wrong)}, which `python {name}` cannot find without "
                           f"editing sys.path: import it as {folder.name}.<module> and run "
                           f"`python -m {folder.name}.{path.stem}` in the Makefile")


# A quick, harmless run of each script as the Makefile starts it (no run for build_book.py: it builds).
QUICK_RUNS = {
    ("module", "scripts.execute_notebooks"): ([], 1, "Re-execute chapter notebooks in place"),  # its usage
    ("module", "scripts.publish_gpt2_chapter"): (["--help"], 0, "usage:"),
    ("module", "scripts.figures"): (["--help"], 0, "usage:"),
    ("module", "scripts.build_pdf"): (["--help"], 0, "usage:"),
    ("file", "scripts/check_notebooks.py"): ([], 0, "notebooks OK"),
}


@pytest.mark.parametrize(("invocation", "args", "status", "says"),
                         [(inv, *run) for inv, run in QUICK_RUNS.items()], ids=[n for _, n in QUICK_RUNS])
def test_script_starts_as_the_makefile_runs_it(invocation, args, status, says):
    assert invocation in makefile_invocations(), f"the Makefile no longer runs {invocation[1]} this way"
    kind, name = invocation
    command = [sys.executable, "-m", name] if kind == "module" else [sys.executable, name]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # as `make` runs it
    run = subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == status and says in run.stdout + run.stderr, run.stdout[-2000:] + run.stderr[-2000:]
    assert "Traceback" not in run.stderr
