"""Which modules may import which: the records and the plots stay below the models, and nothing reaches
into another module's private names. Read from the source (every import, lazy ones included), because
importing any submodule runs the package's ``__init__``, which imports the models."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "imdb_sentiment"
#: What the records of an explanation and the plot helpers must not depend on.
ABOVE = ("imdb_sentiment.models", "imdb_sentiment.evaluate", "imdb_sentiment.cli", "imdb_sentiment.serving",
         "imdb_sentiment.ui", "imdb_sentiment.insights", "imdb_sentiment.training")  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions (``from a import b`` counts a and a.b)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("module", ["explain/records.py", "plots.py"])
def test_records_and_plots_import_nothing_above_them(module):
    bad = sorted(m for m in imported_modules(SRC / module) if m.startswith(ABOVE))
    assert bad == [], f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(p.name for p in (SRC / "explain").glob("*.py")))
def test_explanations_do_not_import_models_or_evaluation(module):
    bad = sorted(m for m in imported_modules(SRC / "explain" / module) if m.startswith(ABOVE))
    assert bad == [], f"explain/{module} imports {bad}"


def test_models_draw_through_plots_not_evaluate():
    for path in sorted((SRC / "models").glob("*.py")):
        assert not any(m.startswith("imdb_sentiment.evaluate") for m in imported_modules(path)), path.name


def test_no_module_imports_a_private_name_of_another():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("imdb_sentiment"):
                # A private module (``_atomic``) is shared on purpose; a private name inside a module is not.
                package = SRC.joinpath(*(node.module or "").split(".")[1:])
                private = [
                    a.name
                    for a in node.names
                    if a.name.startswith("_")
                    and not a.name.startswith("__")
                    and not (package / f"{a.name}.py").is_file()
                ]
                if private:
                    offenders.append(f"{path.relative_to(SRC)}: from {node.module} import {', '.join(private)}")
    assert offenders == []
