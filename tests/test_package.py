"""The package shared/ as a whole: no module imports another that (indirectly) imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent / "shared"


def imports_of(path: Path) -> set[str]:
    """The shared modules a module imports anywhere (top level, functions, TYPE_CHECKING blocks)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:  # from .model import GPT, from . import data
            found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "shared":
            if node.module == "shared":  # from shared import SEED, or from shared import book
                found |= {a.name for a in node.names if (SHARED / f"{a.name}.py").exists()} or {"__init__"}
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("shared.")}
    return found - {path.stem}


def test_no_import_circles():
    graph = {p.stem: imports_of(p) for p in SHARED.glob("*.py")}
    assert graph["runs"] <= {"__init__", "validate"}  # the dataclasses both training and checkpoints need
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", "import circle: " + " -> ".join(trail + [node])
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, trail + [node])
        state[node] = "done"

    for module in sorted(graph):
        visit(module, [])
