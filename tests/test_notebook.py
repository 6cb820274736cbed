"""The committed walkthrough notebook: valid, stripped of outputs, and thin over the library.

Executing it on real reviews is ``tests/integration/test_notebook_execution.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "sentiment_analysis.ipynb"


@pytest.fixture(scope="module")
def notebook():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    return nb


def test_committed_notebook_has_no_outputs_or_execution_counts(notebook):
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code cells"
    for i, cell in enumerate(code):
        assert cell.outputs == [], f"code cell {i} has outputs: strip them before committing"
        assert cell.execution_count is None, f"code cell {i} has an execution count: strip it before committing"
    # Outputs of past runs hide in metadata too (widget state, per-cell timings).
    assert "widgets" not in notebook.metadata
    assert all("execution" not in cell.metadata for cell in notebook.cells)


def test_notebook_runs_on_the_python3_kernel(notebook):
    assert notebook.metadata.kernelspec.name == "python3"


def test_notebook_only_calls_the_library(notebook):
    # Anything non-trivial belongs in the library, documented and tested: no function or class is
    # defined in the notebook, and it imports nothing heavy of its own.
    allowed_imports = {"tempfile", "warnings", "pathlib", "IPython.display", "imdb_sentiment", "imdb_sentiment.evaluate",
                       "imdb_sentiment.explain"}  # fmt: skip
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda), (
                f"the notebook defines {getattr(node, 'name', 'a lambda')}; move it into the library"
            )
            if isinstance(node, ast.Import):
                assert {alias.name for alias in node.names} <= allowed_imports, ast.unparse(node)
            if isinstance(node, ast.ImportFrom):
                assert node.module in allowed_imports, ast.unparse(node)
