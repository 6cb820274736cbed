"""The scoring core (imdb_sentiment.scoring): one row check and one chunk scorer behind ``predict``,
``score`` and the app's upload page, so they refuse the same rows for the same reasons and label a
tie at P(positive) = 0.5 the same way: positive."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import imdb_sentiment
from conftest import make_toy_reviews
from imdb_sentiment import InputError, get_model_class, load_model
from imdb_sentiment.batch import score
from imdb_sentiment.cli import app as cli_app
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.labels import Prediction
from imdb_sentiment.scoring import column_problems, score_chunk, score_rows, score_texts, text_problem
from imdb_sentiment.ui import analysis
from imdb_sentiment.ui import batch as ui_batch

runner = CliRunner()
GOOD = "A superb, wonderful film that I loved."


@pytest.fixture(scope="module")
def model_dir(toy_ngram_dir):
    return toy_ngram_dir


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (GOOD, None),
        ("", "empty"),
        (" \n\t", "empty"),
        (None, "empty"),
        (float("nan"), "empty"),
        (42, "not text (int)"),
        (["a"], "not text (list)"),
        ("x" * 51, "51 characters, over the limit of 50"),
        ("é" * 50, None),  # characters, not bytes
    ],
)
def test_text_problem(value, reason):
    assert text_problem(value, 50) == reason
    assert text_problem("x" * 51, None) is None  # no limit


def test_the_vectorised_check_is_the_per_value_check():
    values = [GOOD, "", "   ", "\u2003\n", None, "é" * 51, "é" * 26, "x" * 50, "x" * 51, "ok"]
    assert column_problems(pa.array(values), 50) == [text_problem(v, 50) for v in values]
    assert column_problems(pa.chunked_array([values[:4], values[4:]]), 50) == [text_problem(v, 50) for v in values]


BAD_ROWS = ["", "   ", None, 42, "x" * 60]


@pytest.mark.parametrize("bad", BAD_ROWS, ids=["empty", "blank", "null", "number", "too-long"])
def test_predict_score_and_the_app_refuse_a_row_for_the_same_reason(tmp_path, model_dir, bad):
    reason = text_problem(bad, 50)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate([GOOD, bad])))

    cli = runner.invoke(cli_app, ["predict", str(model_dir), "--input", str(source), "--max-chars", "50"])
    assert cli.exit_code == 2
    assert f"row 2 of column 'text' is {reason}" in cli.stderr

    summary = score(model_dir, source, tmp_path / "out.parquet", ScoreConfig(max_chars=50), progress=False)
    assert summary.errors == 1
    assert pd.read_csv(tmp_path / "out.errors.csv")["reason"].tolist() == [reason]

    frame = pd.read_json(source, lines=True, dtype=False)
    result = ui_batch.score_table(load_model(model_dir), frame, "text", max_chars=50)
    assert result.problems.to_dict("records") == [{"row": 2, "problem": reason}]

    if isinstance(bad, str):  # the Analyse page: the same check, its length message reworded
        problem = analysis.review_problem(bad, 50)
        assert problem == reason if reason == "empty" else "60 characters long; the limit is 50" in problem


def test_predict_and_score_give_the_same_labels_and_probabilities(tmp_path, model_dir):
    texts, _ = make_toy_reviews(30, seed=8)
    source = tmp_path / "in.csv"
    pd.DataFrame({"id": range(30), "text": texts}).to_csv(source, index=False)
    cli = runner.invoke(cli_app, ["predict", str(model_dir), "--input", str(source)])
    assert cli.exit_code == 0, cli.output
    predicted = pd.DataFrame([json.loads(line) for line in cli.stdout.splitlines()])
    score(model_dir, source, tmp_path / "out.parquet", progress=False)
    scored = pd.read_parquet(tmp_path / "out.parquet")
    assert predicted["label"].tolist() == scored["label"].tolist()
    np.testing.assert_allclose(predicted["p_positive"], scored["p_positive"].round(6), rtol=0, atol=0)
    assert set(scored["label"]) == {"positive", "negative"}  # the comparison covers both labels


def test_a_tie_at_one_half_is_positive_on_every_surface(tmp_path, model_dir, monkeypatch):
    def undecided(self, texts):
        return np.full((len(texts), 2), 0.5)

    monkeypatch.setattr(get_model_class("ngram"), "predict_proba", undecided)
    source = tmp_path / "in.txt"
    source.write_text(f"{GOOD}\nDreadful.\n")

    cli = runner.invoke(cli_app, ["predict", str(model_dir), "--input", str(source)])
    assert cli.exit_code == 0, cli.output
    assert [json.loads(line) for line in cli.stdout.splitlines()] == [
        {"label": "positive", "probability": 0.5, "p_positive": 0.5}
    ] * 2

    score(model_dir, source, tmp_path / "out.parquet", progress=False)
    assert pd.read_parquet(tmp_path / "out.parquet")["label"].tolist() == ["positive"] * 2

    result = ui_batch.score_table(load_model(model_dir), pd.DataFrame({"text": [GOOD]}), "text", max_chars=100)
    assert result.predictions["label"].tolist() == ["positive"]
    assert score_texts(load_model(model_dir), [GOOD]) == [Prediction("positive", 0.5, 0.5)]


def test_score_texts_for_the_api(model_dir):
    model = load_model(model_dir)
    predictions = score_texts(model, [GOOD, "Awful, boring, a waste."], max_chars=1000)
    assert [p.label for p in predictions] == ["positive", "negative"]
    assert predictions[1].p_positive == pytest.approx(model.predict_proba(["Awful, boring, a waste."])[0, 1])
    with pytest.raises(InputError, match=r"^review 2 is empty$"):
        score_texts(model, [GOOD, " "])
    with pytest.raises(InputError, match="got one string"):
        score_texts(model, GOOD)


def test_score_rows_predicts_only_the_good_rows_in_one_call(model_dir):
    model = load_model(model_dir)
    calls = []
    original = model.predict_proba

    def spy(texts):
        calls.append(list(texts))
        return original(texts)

    model.predict_proba = spy
    rows = score_rows(model, [GOOD, "", 3, "Dreadful."], 100)
    assert calls == [[GOOD, "Dreadful."]]
    assert rows.problems == [None, "empty", "not text (int)", None]
    assert rows.scored.tolist() == [True, False, False, True]
    assert np.isnan(rows.p_positive[[1, 2]]).all()
    assert rows.predictions()[1] is None and rows.predictions()[0].label == rows.labels[0]


def test_score_chunk_keeps_columns_and_names_clashes(model_dir):
    table = pa.table({"id": [1, 2], "label": ["pos", "neg"], "text": [GOOD, ""]})
    scored = score_chunk(load_model(model_dir), table, ScoreConfig(), "toy")
    assert scored.column_names == ["id", "label", "predicted_label", "p_positive", "rating", "model", "__reason"]
    assert scored["__reason"].to_pylist() == [None, "empty"]
    assert scored["predicted_label"].to_pylist()[1] is None


LAYERED = ("imdb_sentiment.io", "imdb_sentiment.scoring", "imdb_sentiment.batch", "imdb_sentiment.ui.batch")


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere in its body (function-level imports included)."""
    src = Path(imdb_sentiment.__file__).parent
    modules = {}
    for path in src.rglob("*.py"):
        parts = ["imdb_sentiment", *path.relative_to(src).with_suffix("").parts]
        package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if package else parts)] = (path, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, package) in modules.items():
        here = name.split(".") if package else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                anchor = here[: len(here) - node.level + 1] if node.level else []
                base = ".".join([*anchor, node.module] if node.module else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), list(graph[start])
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False


def test_the_scoring_layers_are_on_no_import_cycle():
    """No module of io/, scoring, batch/ or the upload page is on an import cycle, lazy imports counted."""
    graph = import_graph()
    layered = [m for m in graph if m.startswith(LAYERED)]
    assert "imdb_sentiment.batch.ray" in layered and "imdb_sentiment.io.formats" in layered
    assert [m for m in layered if reaches(graph, m, m)] == []
    # The engines, readers and the app call the core; the core knows none of them.
    assert not any(reaches(graph, "imdb_sentiment.scoring", m) for m in layered if m != "imdb_sentiment.scoring")
    assert not graph["imdb_sentiment.batch.ray"] & {"imdb_sentiment.batch", "imdb_sentiment.batch.local"}
