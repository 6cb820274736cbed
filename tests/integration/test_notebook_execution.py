"""Execute the walkthrough notebook on a small sample of the real dataset (``IMDB_DATA``); any cell error fails.

The notebook runs in a temporary working directory on the kernel of this very Python (a kernel spec
written into a temporary ``JUPYTER_PATH``, so nothing is registered globally), with its own dataset cache
and a models folder holding a tiny saved transformer, so the comparison of saved models and the attention
heatmap run too. The executed copy is never written into the repository.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from conftest import make_toy_reviews
from imdb_sentiment.models.transformer.config import TransformerConfig

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "sentiment_analysis.ipynb"
SAMPLE = 400


def outputs_of(cell) -> str:
    """Everything a cell printed or displayed, as text (HTML and plain text; images by their type)."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        for mime, value in output.get("data", {}).items():
            parts.append(mime if mime.startswith("image/") else str(value))
    return "\n".join(parts)


def cell_calling(notebook, name: str):
    return next(c for c in notebook.cells if c.cell_type == "code" and name in c.source)


def test_notebook_executes_on_a_sample_of_the_real_data(tmp_path, monkeypatch, tiny_bert):
    if not os.environ.get("IMDB_DATA"):
        pytest.skip("IMDB_DATA is not set: point it at aclImdb_v1.tar.gz to execute the notebook")
    models = tmp_path / "models"
    texts, labels = make_toy_reviews(32, seed=0)  # generated reviews: the transformer only has to exist
    from imdb_sentiment.models.transformer import TransformerClassifier

    config = TransformerConfig(base_model=str(tiny_bert), max_length=48, stride=8, epochs=1, batch_size=8)
    TransformerClassifier(config=config).fit(texts, labels).save(models / "transformer")
    (models / "damaged").mkdir()
    (models / "damaged" / "manifest.json").write_text("{not json")

    kernels = tmp_path / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (this venv)", "language": "python"}  # fmt: skip
    (kernels / "kernel.json").write_text(json.dumps(spec))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IMDB_SENTIMENT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("IMDB_NOTEBOOK_SAMPLE", str(SAMPLE))
    monkeypatch.setenv("IMDB_NOTEBOOK_MODELS", str(models))
    monkeypatch.setenv("MPLBACKEND", "Agg")

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # One extra cell, in this in-memory copy only: which Python ran the kernel, and where.
    notebook.cells.append(nbformat.v4.new_code_cell("import os, sys\nprint(sys.executable)\nprint(os.getcwd())"))
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(work)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    seconds = time.perf_counter() - start
    print(f"notebook executed in {seconds:.0f} s at IMDB_NOTEBOOK_SAMPLE={SAMPLE}")

    executable, cwd = outputs_of(notebook.cells[-1]).split()
    assert Path(executable) == Path(sys.executable) and Path(cwd) == work
    assert "reviews per split: 400" in outputs_of(notebook.cells[1])
    comparison = outputs_of(cell_calling(notebook, "comparison_table("))
    for name in ("bow-mlp", "ngram", "peer: TfidfVectorizer", "saved: transformer (transformer)"):
        assert name in comparison
    assert "skipped" in comparison and "damaged" in comparison
    assert "image/png" in outputs_of(cell_calling(notebook, "attention_explanations("))
    assert outputs_of(cell_calling(notebook, "short_reviews(")).count("imdb-explanation") == 4
