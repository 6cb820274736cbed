"""A kind registered from outside the package works on every surface with no other change.

``keyword_kind`` (beside this file) defines a model kind that nothing in ``src/`` names. Registered
through :func:`imdb_sentiment.models.registry.register_kind`, it is trained, evaluated, used to predict,
score, explain, served by the HTTP API and shown in the app: the registry is the only place kinds are named.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from imdb_sentiment import ConfigError, load_model
from imdb_sentiment.cli import app
from imdb_sentiment.models import registry
from imdb_sentiment.serving import ServeSettings, create_app
from imdb_sentiment.ui import launch
from keyword_kind import KIND, KeywordClassifier

POSITIVE = "A wonderful, superb film; I loved it. A brilliant masterpiece."
NEGATIVE = "An awful, boring film. A terrible waste of time, dreadful."
runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def keyword_kind(monkeypatch):
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    registry.register_kind(KIND, "keyword_kind:KeywordClassifier")
    return KIND


@pytest.fixture
def trained(keyword_kind, fake_imdb_archive, tmp_path):
    """The new kind, trained by ``imdb-sentiment train --model keyword-test`` on the fake dataset."""
    out = tmp_path / "keyword"
    result = cli("train", "--model", KIND, "--data", str(fake_imdb_archive), "--out", str(out), "--quiet")
    assert "validation" in result.output
    return out


def test_the_registry_lists_and_loads_the_new_kind(trained):
    assert KIND in registry.available_kinds()
    assert KIND in cli("train", "--help").output
    model = load_model(trained)
    assert isinstance(model, KeywordClassifier)
    assert list(model.predict([POSITIVE, NEGATIVE])) == [1, 0]


def test_register_kind_refuses_a_taken_name_or_a_malformed_target(keyword_kind):
    with pytest.raises(ConfigError, match="already registered"):
        registry.register_kind(KIND, "elsewhere:Other")
    with pytest.raises(ConfigError, match=r"'package\.module:ClassName', got 'no_colon_here'"):
        registry.register_kind("other-kind", "no_colon_here")


def test_cli_predict_explain_evaluate_and_score(trained, fake_imdb_archive, tmp_path):
    lines = cli("predict", str(trained), POSITIVE, NEGATIVE).output.splitlines()
    assert [json.loads(line)["label"] for line in lines] == ["positive", "negative"]

    explanation = json.loads(cli("explain", str(trained), POSITIVE, "--json").output)
    assert explanation["method"] == "word log-ratios"
    assert max(explanation["tokens"], key=lambda t: t["attribution"])["token"].lower() in (
        "wonderful", "superb", "loved", "brilliant", "masterpiece",
    )  # fmt: skip

    metrics = json.loads(cli("evaluate", str(trained), "--data", str(fake_imdb_archive), "--json").output)
    assert metrics["n"] == 40 and metrics["accuracy"] >= 0.9

    source = tmp_path / "reviews.csv"
    pd.DataFrame({"id": [1, 2, 3], "text": [POSITIVE, NEGATIVE, " "]}).to_csv(source, index=False)
    output = tmp_path / "scored.csv"
    runner.invoke(app, ["score", "--input", str(source), "--output", str(output), str(trained), "--quiet"])
    scored = pd.read_csv(output)
    assert list(scored["id"]) == [1, 2] and list(scored["label"]) == ["positive", "negative"]


def test_http_api_serves_the_new_kind(trained):
    client = TestClient(create_app([trained], ServeSettings()))
    (info,) = client.get("/v1/models").json()
    assert info["kind"] == KIND
    predicted = client.post("/v1/predict", json={"texts": [POSITIVE, NEGATIVE]}).json()["predictions"]
    assert [p["label"] for p in predicted] == ["positive", "negative"]
    explained = client.post("/v1/explain", json={"text": NEGATIVE, "top_k": 2})
    assert explained.status_code == 200 and explained.json()["method"] == "word log-ratios"


def test_the_app_analyses_with_the_new_kind(trained, monkeypatch):
    monkeypatch.setenv(launch.MODELS_ENV, os.pathsep.join([str(trained)]))
    at = AppTest.from_file(str(launch.APP_PATH), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    at.text_area(key="review").input(NEGATIVE).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Prediction"] == "negative"
    assert f"({KIND})" in " ".join(str(c.value) for c in at.caption)


def test_a_tie_at_one_half_is_positive_on_every_surface(trained, tmp_path, monkeypatch):
    """Words the model never saw weigh nothing: p_positive is exactly 0.5, and every surface says positive."""
    tie = "Zyzzyva qwertyuiop."
    model = load_model(trained)
    assert model.predict_proba([tie])[0, 1] == 0.5
    assert list(model.predict([tie])) == [1]
    assert model.explain(tie).label == "positive"

    (line,) = cli("predict", str(trained), tie).output.splitlines()
    assert json.loads(line) == {"label": "positive", "probability": 0.5, "p_positive": 0.5}

    source, output = tmp_path / "tie.csv", tmp_path / "tie-scored.csv"
    pd.DataFrame({"text": [tie]}).to_csv(source, index=False)
    cli("score", "--input", str(source), "--output", str(output), str(trained), "--quiet")
    assert list(pd.read_csv(output)["label"]) == ["positive"]

    client = TestClient(create_app([trained], ServeSettings()))
    (served,) = client.post("/v1/predict", json={"texts": [tie]}).json()["predictions"]
    assert served["label"] == "positive"
    assert client.post("/v1/explain", json={"text": tie}).json()["label"] == "positive"

    monkeypatch.setenv(launch.MODELS_ENV, str(trained))
    at = AppTest.from_file(str(launch.APP_PATH), default_timeout=60)
    at.run()
    at.text_area(key="review").input(tie).run()
    assert {m.label: m.value for m in at.metric}["Prediction"] == "positive"
