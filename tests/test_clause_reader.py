"""A model's clause reader: saved inside the model's folder, checked and attached on load, and preferred by
``summarize``'s aspect polarity over the rating head's clause scorer (each distinct clause read once)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import make_toy_reviews
from imdb_sentiment import ModelError, load_model
from imdb_sentiment.audience.polarity import mentions
from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig


@pytest.fixture(scope="module")
def contrary_dir(tmp_path_factory) -> Path:
    """An ngram model trained on flipped labels: it reads every clause the other way from the toy model."""
    texts, labels = make_toy_reviews(120, seed=3)
    flipped = [1 - y for y in labels]
    return NgramClassifier(config=NgramConfig(n_bits=14)).fit(texts, flipped).save(tmp_path_factory.mktemp("c") / "c")


@pytest.fixture
def with_reader(rated_toy_dir, contrary_dir, tmp_path) -> Path:
    model = load_model(rated_toy_dir)
    model.clause_reader_ = load_model(contrary_dir)
    return model.save(tmp_path / "with-reader")


REVIEWS = [
    "The acting is wonderful and brilliant. The story is awful and boring, but the music is great.",
    "The acting is wonderful and brilliant. I loved it.",
]


def test_the_reader_is_saved_in_the_folder_and_attached_on_load(with_reader, contrary_dir):
    manifest = json.loads((with_reader / "manifest.json").read_text())
    assert manifest["clauses"] == {"folder": "clauses", "kind": "ngram"}
    assert "clauses/manifest.json" in manifest["files"]
    model = load_model(with_reader)
    assert model.clause_reader_ is not None
    clauses = ["the acting is wonderful", "the story is awful"]
    expected = load_model(contrary_dir).predict_proba(clauses)
    np.testing.assert_allclose(model.clause_reader_.predict_proba(clauses), expected)
    # saved again, it keeps its reader
    again = load_model(model.save(with_reader.parent / "again"))
    np.testing.assert_allclose(again.clause_reader_.predict_proba(clauses), expected)


def test_a_model_without_a_reader_has_none(rated_toy_dir):
    assert load_model(rated_toy_dir).clause_reader_ is None
    assert "clauses" not in json.loads((rated_toy_dir / "manifest.json").read_text())


def test_aspect_polarity_comes_from_the_reader_not_the_scorer(with_reader, rated_toy_dir):
    model, plain = load_model(with_reader), load_model(rated_toy_dir)
    p = model.predict_proba(REVIEWS)[:, 1]
    found = mentions(REVIEWS, p, model)
    assert len(found) >= 4
    read = model.clause_reader_.predict_proba(found["clause"].tolist())[:, 1]
    np.testing.assert_allclose(found["p_positive"].to_numpy(), read)
    # the scorer (the same model without the reader) reads them otherwise: the reader was not ignored
    scored = mentions(REVIEWS, p, plain)["p_positive"].to_numpy()
    assert not np.allclose(scored, read)


def test_each_distinct_clause_is_read_once(with_reader, monkeypatch):
    model = load_model(with_reader)
    seen: list[list[str]] = []
    original = model.clause_reader_.predict_proba

    def spy(texts):
        seen.append(list(texts))
        return original(texts)

    monkeypatch.setattr(model.clause_reader_, "predict_proba", spy)
    texts = [REVIEWS[1], REVIEWS[1], REVIEWS[0]]
    found = mentions(texts, np.full(3, 0.5), model)
    (asked,) = seen
    assert len(asked) == len(set(asked)) < len(found)
    np.testing.assert_allclose(found["p_positive"].to_numpy(), original(found["clause"].tolist())[:, 1])


def test_an_altered_reader_is_refused(with_reader):
    inner = with_reader / "clauses" / "manifest.json"
    data = json.loads(inner.read_text())
    data["created_at"] = "2000-01-01T00:00:00+00:00"
    inner.write_text(json.dumps(data))
    with pytest.raises(ModelError):
        load_model(with_reader)


@pytest.mark.parametrize("entry", [{"folder": "../elsewhere", "kind": "ngram"}, "clauses", {"kind": "ngram"}])
def test_a_clauses_entry_naming_another_folder_is_refused(with_reader, entry):
    path = with_reader / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["clauses"] = entry
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="'clauses' entry"):
        load_model(with_reader)


def test_a_reader_folder_that_is_missing_is_refused(with_reader):
    shutil.rmtree(with_reader / "clauses")
    with pytest.raises(ModelError):
        load_model(with_reader)


def test_limiting_threads_limits_the_readers_too(with_reader, monkeypatch):
    model = load_model(with_reader)
    asked: list[tuple[str, int | None]] = []
    monkeypatch.setattr(model, "set_threads", lambda n: asked.append(("model", n)) or 4)
    monkeypatch.setattr(model.clause_reader_, "set_threads", lambda n: asked.append(("reader", n)) or 4)
    assert model.limit_threads(1) == 4
    assert sorted(asked) == [("model", 1), ("reader", 1)]


def test_cli_attaches_a_reader_takes_a_carried_one_and_removes_it(toy_ngram_dir, contrary_dir, with_reader, tmp_path):
    from typer.testing import CliRunner

    from imdb_sentiment.cli import app

    runner = CliRunner()
    out = tmp_path / "mine"
    done = runner.invoke(app, ["attach-reader", str(toy_ngram_dir), "--reader", str(contrary_dir), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "with a clause reader (ngram)" in done.output
    clauses = ["the acting is wonderful", "the story is awful"]
    expected = load_model(contrary_dir).predict_proba(clauses)
    np.testing.assert_allclose(load_model(out).clause_reader_.predict_proba(clauses), expected)
    # a model that carries a reader gives its reader, not itself; in place by default
    done = runner.invoke(app, ["attach-reader", str(out), "--reader", str(with_reader)])
    assert done.exit_code == 0, done.output
    np.testing.assert_allclose(load_model(out).clause_reader_.predict_proba(clauses), expected)
    assert load_model(out).clause_reader_.clause_reader_ is None
    done = runner.invoke(app, ["attach-reader", str(out), "--reader", "none"])
    assert done.exit_code == 0 and "no clause reader" in done.output
    assert load_model(out).clause_reader_ is None
    assert not (out / "clauses").exists()


def test_cli_refuses_a_reader_that_is_not_a_model(toy_ngram_dir, tmp_path):
    from typer.testing import CliRunner

    from imdb_sentiment.cli import app

    done = CliRunner().invoke(
        app, ["attach-reader", str(toy_ngram_dir), "--reader", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")]
    )
    assert done.exit_code != 0
    assert "Traceback" not in done.output
    assert not (tmp_path / "x").exists()


def test_the_device_script_cuts_clauses_as_the_package_does():
    """device/clause_reader_train.py runs without the package, so it carries a copy of the contrast cut."""
    import ast

    from imdb_sentiment.audience.polarity import _CONTRAST

    script = Path(__file__).parents[1] / "device" / "clause_reader_train.py"
    (copied,) = [
        node.value.args[0].value
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "_CONTRAST"
    ]
    assert copied == _CONTRAST.pattern
