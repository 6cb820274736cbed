"""The modules of ``src/imdb_sentiment`` import each other without cycles, and none is oversized.

Imports inside functions count too: they hide a cycle from Python's import machinery, not from a reader.
"""

from __future__ import annotations

import ast
import graphlib
from collections import defaultdict
from pathlib import Path

import pytest

import imdb_sentiment

SRC = Path(imdb_sentiment.__file__).parent
PACKAGE = SRC.name
#: A module over this many lines mixes concerns (the house style aims at ~400).
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = (PACKAGE, *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (at any depth of its code)."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set, {name: set() for name in modules})
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # a relative import
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
                # `from package import module` imports the module; `from module import name` the module.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:  # `import a.b.c` of a non-module: its owner
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def test_the_graph_sees_imports_at_every_depth():
    graph = import_graph()
    assert len(graph) > 30
    registry = graph[f"{PACKAGE}.models.registry"]
    assert f"{PACKAGE}.errors" in registry  # imported at the top of the module
    assert f"{PACKAGE}.pretrained" in registry  # imported inside load_model: seen all the same


def test_there_are_no_import_cycles():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        pytest.fail("import cycle: " + " -> ".join(exc.args[1]))


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_is_oversized(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)} has {lines} lines; split it by concern"
