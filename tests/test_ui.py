"""The Streamlit app: every page through Streamlit's AppTest, the batch scoring and the launcher without it."""

from __future__ import annotations

import html
import json
import os
import re
import socket
import sys

import numpy as np
import pandas as pd
import pytest

from pngcheck import assert_png_image

pytest.importorskip("streamlit", reason="the app extra is not installed: pip install -e '.[app]'")

from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from conftest import make_toy_reviews
from imdb_sentiment import ConfigError, InputError, ModelError, NgramConfig, get_model_class, load_model
from imdb_sentiment.cli import app as cli_app
from imdb_sentiment.explain import Explanation, TokenAttribution
from imdb_sentiment.hosting import unique_names
from imdb_sentiment.io.readers import read_table
from imdb_sentiment.models.manifest import update_metrics
from imdb_sentiment.settings import UiSettings
from imdb_sentiment.ui import analysis, batch, launch

APP = str(launch.APP_PATH)
SCRIPT = "<script>alert('x')</script>"
POSITIVE = "A wonderful, superb film; I loved it. A brilliant masterpiece."
NEGATIVE = "An awful, boring film. A terrible waste of time, dreadful."


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """Two tiny ngram models in folders ``first`` and ``second``; the first has validation and test metrics."""
    cls = get_model_class("ngram")
    root = tmp_path_factory.mktemp("ui-models")
    dirs = []
    for seed, name in enumerate(("first", "second")):
        texts, labels = make_toy_reviews(80, seed=seed)
        dirs.append(cls(config=NgramConfig(n_bits=14)).fit(texts, labels).save(root / name))
    for split, n in (("validation", 20), ("test", 40)):
        cm = [[n // 2 - 1, 1], [0, n // 2]]
        update_metrics(dirs[0], split, {"n": n, "accuracy": (n - 1) / n, "f1": 0.97, "confusion_matrix": cm})
    return dirs


@pytest.fixture
def app_test(model_dirs, monkeypatch):
    """``make(*dirs)``: the app over those model folders (default: both), run once."""

    def make(*dirs) -> AppTest:
        monkeypatch.setenv(launch.MODELS_ENV, os.pathsep.join(str(d) for d in dirs or model_dirs))
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        return at

    return make


def page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, at.exception
    return at


def assert_escaped(fragment: str) -> None:
    """The review's ``<script>`` is in ``fragment`` as text (escaped, maybe split by highlight spans), never as a tag."""
    assert "<script" not in fragment.lower()
    assert SCRIPT in html.unescape(re.sub(r"<[^>]*>", "", fragment))


def messages(elements) -> str:
    return " ".join(str(e.value) for e in elements)


# ------------------------------------------------------------------------------------------------ Analyse
def test_analyse_shows_label_probability_highlighted_words_and_escapes_markup(app_test, model_dirs):
    at = app_test()
    assert "empty" in messages(at.warning)  # nothing typed yet
    at.text_area(key="review").input(f"{POSITIVE} {SCRIPT}").run()
    assert not at.exception and not at.warning
    expected = load_model(model_dirs[0]).predict_proba([f"{POSITIVE} {SCRIPT}"])[0]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Prediction"] == "positive"
    assert metrics["P(positive)"] == f"{expected[1]:.3f}"
    (highlighted,) = at.html
    assert_escaped(highlighted.value)
    assert 'class="attr"' in highlighted.value  # some words are coloured
    words = at.dataframe[0].value
    assert "positive" in set(words["towards"])
    assert "wonderful" in set(words["word"]) or "superb" in set(words["word"])
    assert not at.image  # an ngram model has no attention heatmap


def test_analyse_uses_the_model_chosen_in_the_sidebar(app_test):
    at = app_test()
    assert [o for o in at.sidebar.selectbox(key="model").options] == ["first (ngram)", "second (ngram)"]
    at.sidebar.selectbox(key="model").select_index(1).run()
    at.text_area(key="review").input(NEGATIVE).run()
    assert {m.label: m.value for m in at.metric}["Prediction"] == "negative"
    assert "second (ngram)" in messages(at.caption)


def test_analyse_warns_on_blank_input_and_refuses_oversized_input(app_test, monkeypatch):
    monkeypatch.setenv("IMDB_SENTIMENT_MAX_CHARS", "100")
    at = app_test()
    at.text_area(key="review").input("   \n ").run()
    assert "empty" in messages(at.warning) and not at.metric
    at.text_area(key="review").input("x" * 101).run()
    assert "101 characters" in messages(at.error) and "limit is 100" in messages(at.error)
    assert not at.metric and not at.html


def test_analyse_shows_attention_heatmaps_for_a_transformer(app_test, tiny_bert, tmp_path):
    from imdb_sentiment import TransformerConfig

    texts, labels = make_toy_reviews(16, seed=0)
    config = TransformerConfig(base_model=str(tiny_bert), max_length=32, stride=8, epochs=1, batch_size=8)
    folder = get_model_class("transformer")(config=config).fit(texts, labels).save(tmp_path / "tiny-transformer")
    at = app_test(folder)
    at.text_area(key="review").input(f"{POSITIVE} {SCRIPT}").run()
    assert not at.exception and not at.error
    assert_escaped(at.html[0].value)
    assert len(at.image) == 1  # the rollout heatmap
    assert at.selectbox(key="attention_head").disabled  # the rollout mixes every head
    at.selectbox(key="attention_layer").select_index(2).run()  # layer 1
    at.selectbox(key="attention_head").select_index(1).run()  # head 0
    assert not at.exception and len(at.image) == 1


def test_a_model_that_cannot_explain_still_shows_its_prediction(app_test, monkeypatch):
    def refuse(self, text, **options):
        raise ModelError("explanations need the PyTorch model")

    monkeypatch.setattr(get_model_class("ngram"), "_explain", refuse)
    at = app_test()
    at.text_area(key="review").input(f"{NEGATIVE} (a review no other test explains)").run()
    assert not at.exception
    assert "cannot explain this review" in messages(at.error) and "PyTorch" in messages(at.error)
    assert {m.label: m.value for m in at.metric}["Prediction"] == "negative"
    assert not at.html


def test_a_bad_model_folder_is_a_message_not_a_traceback(app_test, tmp_path):
    at = app_test(tmp_path)
    assert "not a model directory" in messages(at.error)


# ------------------------------------------------------------------------------------------------ Compare
def test_compare_shows_both_models_side_by_side(app_test, model_dirs):
    at = page(app_test(), "compare")
    assert "empty" in messages(at.warning)
    at.text_area(key="compare_review").input(f"{NEGATIVE} {SCRIPT}").run()
    assert not at.exception
    assert [h.value for h in at.subheader][:2] == ["first (ngram)", "second (ngram)"]
    assert [m.value for m in at.metric if m.label == "Prediction"] == ["negative", "negative"]
    assert len(at.html) == 2
    for highlighted in at.html:
        assert_escaped(highlighted.value)
    assert len(at.dataframe) == 2


def test_compare_with_one_model_says_so(app_test, model_dirs):
    at = page(app_test(model_dirs[1]), "compare")
    assert "Only one model" in messages(at.info)


# -------------------------------------------------------------------------------------------------- Batch
def test_batch_page_without_an_upload_explains_what_to_do(app_test):
    at = page(app_test(), "batch")
    assert "Upload a file" in messages(at.info)
    assert not at.error


@pytest.fixture
def reviews_frame() -> pd.DataFrame:
    texts, labels = make_toy_reviews(12, seed=3)
    return pd.DataFrame({"id": range(12), "review": texts, "label": labels})


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl", ".json"])
def test_read_upload_reads_each_format_from_bytes(tmp_path, reviews_frame, suffix):
    path = tmp_path / f"reviews{suffix}"
    if suffix == ".csv":
        reviews_frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        reviews_frame.to_parquet(path)
    else:
        reviews_frame.to_json(path, orient="records", lines=suffix == ".jsonl")
    frame = read_table(path.name, path.read_bytes())  # the upload page's reader: predict --input's, bytes in
    assert list(frame.columns) == ["id", "review", "label"]
    assert frame["review"].tolist() == reviews_frame["review"].tolist()
    assert batch.default_text_column(frame) == "review"


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("reviews.xlsx", b"PK", "unknown format '.xlsx'"),
        ("reviews.parquet", b"not parquet", "cannot read reviews.parquet as parquet"),
        ("reviews.jsonl", b'{"text": "ok"}\n{broken', "cannot read reviews.jsonl as jsonl"),
        ("reviews.csv", b"\xff\xfe\x00bad", "cannot read reviews.csv as csv"),
    ],
)
def test_read_upload_rejects_what_it_cannot_read_with_a_reason(name, data, fragment):
    with pytest.raises(InputError, match=fragment.replace(".", r"\.").replace("(", r"\(")):
        read_table(name, data)


def test_score_table_scores_in_chunks_and_reports_bad_rows(model_dirs, tmp_path):
    model = load_model(model_dirs[0])
    path = tmp_path / "mixed.jsonl"
    rows = [{"text": POSITIVE}, {"text": ""}, {"text": None}, {"text": 42}, {"text": NEGATIVE}, {"text": "x" * 80}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + json.dumps({"text": "  "}) + "\n")
    frame = read_table(path.name, path.read_bytes())
    calls = []
    result = batch.score_table(
        model, frame, "text", max_chars=70, chunk_size=1, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(i, 7) for i in range(1, 8)]  # rows done, of the table's rows
    assert result.predictions["label"].tolist() == ["positive", "negative"]
    expected = model.predict_proba([POSITIVE, NEGATIVE])[:, 1]
    np.testing.assert_allclose(result.predictions["p_positive"], expected, atol=1e-6)
    assert list(result.predictions.columns) == ["label", "p_positive", "text"]
    assert result.problems.to_dict("records") == [
        {"row": 2, "problem": "empty"},
        {"row": 3, "problem": "empty"},
        {"row": 4, "problem": "not text (int)"},
        {"row": 6, "problem": "80 characters, over the limit of 70"},
        {"row": 7, "problem": "empty"},
    ]


def test_score_table_keeps_the_uploads_columns_and_its_own_labels(model_dirs, reviews_frame):
    result = batch.score_table(load_model(model_dirs[0]), reviews_frame, "review", max_chars=10_000)
    predictions = result.predictions
    assert list(predictions.columns) == ["predicted_label", "p_positive", "id", "review", "label"]
    assert predictions["label"].tolist() == reviews_frame["label"].tolist()  # the upload's column, untouched
    assert (predictions["predicted_label"] == reviews_frame["label"].map({0: "negative", 1: "positive"})).all()
    assert result.problems.empty

    counts = batch.distribution(result)
    assert counts.to_numpy().sum() == len(reviews_frame) and list(counts.columns) == ["negative", "positive"]
    assert counts.loc["0.0-0.1":"0.4-0.5", "positive"].sum() == 0
    most_positive, most_negative = batch.extremes(result, k=3)
    assert most_positive["p_positive"].is_monotonic_decreasing and len(most_positive) == 3
    assert most_negative["p_positive"].is_monotonic_increasing
    assert most_positive["p_positive"].iloc[0] == predictions["p_positive"].max()

    again = pd.read_csv(__import__("io").BytesIO(batch.to_csv_bytes(result)))
    assert list(again.columns) == list(predictions.columns) and len(again) == len(predictions)


def test_score_table_rejects_a_missing_column_or_an_empty_table(model_dirs, reviews_frame):
    model = load_model(model_dirs[0])
    with pytest.raises(InputError, match="no column 'text'; its columns are: id, review, label"):
        batch.score_table(model, reviews_frame, "text", max_chars=100)
    with pytest.raises(InputError, match="no rows"):
        batch.score_table(model, reviews_frame.iloc[:0], "review", max_chars=100)


# ------------------------------------------------------------------------------------------- Model report
def test_model_report_shows_stored_metrics_and_confusion_matrices(app_test):
    at = page(app_test(), "report")
    (table,) = at.table
    assert list(table.value.columns) == ["validation", "test"]
    assert table.value.loc["accuracy", "test"] == "97.50%" and table.value.loc["n", "validation"] == "20"
    assert len(at.image) == 2  # one confusion matrix per split


def test_model_report_without_metrics_says_how_to_get_them(app_test, model_dirs):
    at = page(app_test(model_dirs[1]), "report")
    assert "imdb-sentiment evaluate" in messages(at.info)
    assert not at.table


def test_model_report_says_where_a_reconfigured_model_came_from(app_test, model_dirs, tmp_path):
    import shutil

    folder = shutil.copytree(model_dirs[1], tmp_path / "copy")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["reconfigured"] = [
        {"from": "models/*base*", "changes": {"inference_truncation": {"was": "chunks", "now": "head_tail"}},
         "previous_validation": {"accuracy": 0.9348}},
    ]  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    at = page(app_test(folder), "report")
    assert messages(at.text) == (
        "Copied from models/*base* with inference_truncation 'chunks' → 'head_tail' (validation accuracy before: 93.48%)."
    )
    assert not page(app_test(model_dirs[1]), "report").text  # a model trained as it is says nothing


def test_metrics_table_orders_splits_and_skips_missing_metrics():
    table = analysis.metrics_table({"test": {"accuracy": 0.9}, "validation": {"accuracy": 0.8, "n": 10}})
    assert list(table.columns) == ["validation", "test"]
    assert table.loc["accuracy"].tolist() == ["80.00%", "90.00%"] and table.loc["n"].tolist() == ["10", ""]
    assert "roc auc" not in table.index


def test_top_words_and_their_chart():
    tokens = tuple(
        TokenAttribution(word, i * 10, i * 10 + len(word), value)
        for i, (word, value) in enumerate([("good", 1.0), ("bad", -2.0), ("good", 0.5), ("plot", 0.0), ("dull", -0.1)])
    )
    explanation = Explanation("", "negative", 0.6, 0.4, "test", tokens)
    words = analysis.top_words(explanation, k=2)
    assert words.to_dict("list") == {
        "word": ["good", "good", "bad", "dull"],
        "attribution": [1.0, 0.5, -2.0, -0.1],
        "towards": ["positive", "positive", "negative", "negative"],
    }
    chart = analysis.top_words_chart(words)
    assert chart.to_dict("list") == {
        "word": ["good", "dull", "bad"],
        "positive": [1.5, 0.0, 0.0],
        "negative": [0.0, -0.1, -2.0],
    }


def test_attention_heatmaps_are_drawn_for_a_layer_a_head_and_the_rollout(tmp_path):
    pieces = ("[CLS]", "great", "film", "[SEP]")
    attention = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3, 4))
    explanation = Explanation(
        text="great film", label="positive", probability=0.9, p_positive=0.9, method="test",
        tokens=(TokenAttribution("great", 0, 5, 1.0), TokenAttribution("film", 6, 10, 0.0)),
        pieces=pieces, attention=attention,
    )  # fmt: skip
    drawn = []
    for layer, head in ((None, None), (1, None), (0, 2)):
        path = tmp_path / f"attention-{layer}-{head}.png"
        path.write_bytes(analysis.attention_png(explanation, layer=layer, head=head))
        drawn.append(assert_png_image(path))
    # Each choice draws other weights: the rollout, a layer's mean over heads and one head differ.
    assert not np.array_equal(drawn[0], drawn[1]) and not np.array_equal(drawn[1], drawn[2])


# --------------------------------------------------------------------------------------- settings, launch
def test_settings_come_from_the_environment_and_bad_values_are_named(monkeypatch):
    monkeypatch.setenv("IMDB_SENTIMENT_MAX_CHARS", "500")
    assert UiSettings.from_env() == UiSettings(max_chars=500)
    monkeypatch.setenv("IMDB_SENTIMENT_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ConfigError, match="IMDB_SENTIMENT_MAX_UPLOAD_MB='lots'"):
        UiSettings.from_env()


def test_messages_quoting_user_input_escape_markdown():
    from imdb_sentiment.ui.common import plain

    assert plain("![x](http://a/b.png) <b>") == r"\!\[x\]\(http\://a/b\.png\) \<b\>"


def test_models_come_from_the_environment_then_arguments_then_the_models_folder(monkeypatch, tmp_path, model_dirs):
    from imdb_sentiment import pretrained

    monkeypatch.setattr(pretrained, "ROOT", tmp_path / "no-shipped-model")  # tests/test_pretrained.py has it
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(launch.MODELS_ENV, raising=False)
    assert launch.models_from_env([]) == []
    (tmp_path / "models" / "not-a-model").mkdir(parents=True)
    (tmp_path / "models" / "b").mkdir()
    (tmp_path / "models" / "b" / "manifest.json").write_text("{}")
    assert launch.models_from_env([]) == [launch.DEFAULT_MODELS_ROOT / "b"]
    assert launch.models_from_env(["x"]) == [launch.Path("x")]
    monkeypatch.setenv(launch.MODELS_ENV, os.pathsep.join(map(str, model_dirs)))
    assert launch.models_from_env(["x"]) == model_dirs
    assert unique_names([model_dirs[0], model_dirs[0]]) == ["first", "first-2"]


def test_app_command_runs_streamlit_on_the_models(monkeypatch, model_dirs):
    runs = []

    def fake_execve(path, command, env):
        runs.append((command, env))
        raise SystemExit(0)  # the real one never returns: the process becomes Streamlit

    monkeypatch.setattr(launch.os, "execve", fake_execve)
    port = free_port()
    result = CliRunner().invoke(cli_app, ["app", str(model_dirs[0]), str(model_dirs[1]), "--port", str(port)])
    assert result.exit_code == 0, result.output
    ((command, env),) = runs
    assert command[1:5] == ["-m", "streamlit", "run", APP]
    assert command[command.index("--server.port") + 1] == str(port)
    assert command[command.index("--server.headless") + 1] == "true"
    assert command[command.index("--server.maxUploadSize") + 1] == "50"
    assert command[command.index("--") + 1 :] == [str(d.resolve()) for d in model_dirs]
    assert env[launch.MODELS_ENV] == os.pathsep.join(str(d.resolve()) for d in model_dirs)


def test_app_command_without_models_uses_the_models_folder(monkeypatch, tmp_path, model_dirs):
    runs = []
    monkeypatch.setattr(launch.os, "execve", lambda path, command, env: runs.append(command) or sys.exit(3))
    from imdb_sentiment import pretrained

    monkeypatch.setattr(pretrained, "ROOT", tmp_path / "no-shipped-model")  # tests/test_pretrained.py has it
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli_app, ["app", "--port", str(free_port())])
    assert result.exit_code == 2 and "no models to show" in result.stderr and not runs

    models = tmp_path / "models"
    models.mkdir()
    for d in model_dirs:
        (models / d.name).symlink_to(d, target_is_directory=True)
    result = CliRunner().invoke(cli_app, ["app", "--port", str(free_port())])
    assert result.exit_code == 3  # the process is Streamlit's: its exit status is the process's
    assert runs[0][runs[0].index("--") + 1 :] == [str(d.resolve()) for d in model_dirs]


def test_app_command_reports_a_bad_model_folder_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(launch.os, "execve", lambda *a: pytest.fail("streamlit must not start"))
    result = CliRunner().invoke(cli_app, ["app", str(tmp_path / "missing")])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "not a model directory" in lines[0]
    with pytest.raises(ModelError):
        launch.check_model_dirs([tmp_path])


def test_app_command_reports_a_taken_port_in_one_line(monkeypatch, model_dirs):
    monkeypatch.setattr(launch.os, "execve", lambda *a: pytest.fail("streamlit must not start"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_app, ["app", str(model_dirs[0]), "--port", str(port)])
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
