"""The command line, end to end on a fake dataset the tests write, and its error handling."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from imdb_sentiment import get_model_class, load_model
from imdb_sentiment.cli import app

runner = CliRunner()
TINY = [
    "--set",
    "max_features=300",
    "--set",
    "min_df=1",
    "--set",
    "hidden_units=8,8",
    "--set",
    "learning_rate=0.01",
    "--epochs",
    "8",
    "--quiet",
]


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, toy_reviews_factory):
    cls = get_model_class("bow-mlp")
    texts, labels = toy_reviews_factory(80, seed=11)
    config = cls.config_class().replace(max_features=300, min_df=1, hidden_units=(8, 8), epochs=8, learning_rate=0.01)
    path = tmp_path_factory.mktemp("cli") / "model"
    cls(config=config).fit(texts, labels).save(path)
    return path


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


def registered_verbs() -> list[str]:
    import typer.main

    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_the_verbs_are_those_of_every_job():
    assert set(registered_verbs()) >= {"data", "train", "evaluate", "predict", "score", "explain", "serve", "app"}


@pytest.mark.parametrize("verb", registered_verbs())
def test_every_verb_has_help_is_listed_and_documented(verb):
    result = run(verb, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.output
    assert verb in run("--help").output
    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"\n## {verb}\n" in docs, f"docs/cli.md has no section for {verb}"


def test_data_train_evaluate_predict_flow(fake_imdb_archive, tmp_path):
    result = run("data", "--data", str(fake_imdb_archive))
    assert result.exit_code == 0, result.output
    assert "train" in result.stdout and "unsup" in result.stdout and "fingerprint" in result.stdout

    out = tmp_path / "model"
    result = run("train", "--model", "bow-mlp", "--data", str(fake_imdb_archive), "--out", str(out), *TINY)
    assert result.exit_code == 0, result.output
    assert "validation" in result.stdout and str(out) in result.stdout.replace("\n", "")
    model = load_model(out)
    assert model.resolved_config.epochs == 8
    assert model.info_["metrics"]["validation"]["n"] > 0
    assert model.info_["data_fingerprint"]

    result = run("evaluate", str(out), "--data", str(fake_imdb_archive), "--json", "--report", str(tmp_path / "report"))
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout.strip())
    assert len(result.stdout.strip().splitlines()) == 1
    assert {"accuracy", "log_loss", "f1", "roc_auc", "n", "reviews_per_s"} <= set(metrics)
    assert metrics["n"] == 40  # the fake test split
    assert metrics["accuracy"] >= 0.9
    assert load_model(out).info_["metrics"]["test"]["accuracy"] == metrics["accuracy"]
    assert {p.name for p in (tmp_path / "report").iterdir()} >= {
        "metrics.json",
        "confusion_matrix.png",
        "roc_curve.png",
        "probability_distribution.png",
        "training_curves.png",
    }

    result = run("evaluate", str(out), "--data", str(fake_imdb_archive), "--limit", "10", "--json")
    assert json.loads(result.stdout)["n"] == 10


def test_train_defaults_to_ngram_and_refits_on_train_plus_validation(fake_imdb_archive, tmp_path):
    out = tmp_path / "model"
    result = run("train", "--data", str(fake_imdb_archive), "--out", str(out), "--set", "n_bits=16", "--quiet")
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert model.kind == "ngram"
    assert model.info_["split"]["refit_with_validation"] is True
    assert model.info_["split"]["train_reviews"] == 80  # all fake labelled training reviews
    assert model.info_["metrics"]["validation"]["n"] == 8
    result = run("evaluate", str(out), "--data", str(fake_imdb_archive), "--json")
    assert json.loads(result.stdout)["accuracy"] >= 0.9


def test_evaluate_on_a_labelled_file(model_dir, tmp_path, toy_reviews_factory):
    texts, labels = toy_reviews_factory(20, seed=12)
    path = tmp_path / "labelled.csv"
    words = ["Negative", "POSITIVE"]
    pd.DataFrame({"review": texts, "sentiment": [words[y] for y in labels]}).to_csv(path, index=False)
    result = run(
        "evaluate",
        str(model_dir),
        "--input",
        str(path),
        "--text-column",
        "review",
        "--label-column",
        "sentiment",
        "--json",
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 20 and metrics["accuracy"] >= 0.9
    assert "test" not in load_model(model_dir).info_["metrics"]  # only the IMDb test split is recorded


def test_predict_texts_stdin_and_output_file(model_dir, tmp_path):
    result = run("predict", str(model_dir), "wonderful superb brilliant loved it", "awful boring terrible waste")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    for row in rows:
        assert set(row) == {"label", "probability", "p_positive"}
        assert row["probability"] == pytest.approx(max(row["p_positive"], 1 - row["p_positive"]), abs=1e-6)

    stdin = "\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(["superb masterpiece", "dreadful waste"]))
    result = run("predict", str(model_dir), "--input", "-", input=stdin)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["label"]) for r in rows] == [(0, "positive"), (1, "negative")]

    output = tmp_path / "out.jsonl"
    result = run("predict", str(model_dir), "--input", "-", "--output", str(output), input="brilliant\nboring\n")
    assert result.exit_code == 0 and result.stdout == ""
    assert [json.loads(line)["label"] for line in output.read_text().splitlines()] == ["positive", "negative"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["evaluate", "/nonexistent/model"], ["not a model directory"]),
        (["predict", "{model}"], ["no reviews given"]),
        (["predict", "{model}", "   "], ["review 1 is empty"]),
        (["predict", "{model}", "--input", "{tmp}/missing.csv"], ["input not found"]),
        (["predict", "{model}", "--input", "{tmp}/reviews.csv", "--text-column", "body"], ["no column 'body'", "text"]),
        (["train", "--model", "crystal-ball"], ["unknown model kind", "bow-mlp"]),
        (["train", "--set", "colour=blue"], ["unknown NgramConfig key", "colour"]),
        (["train", "--epochs", "3"], ["model kind 'ngram' has no 'epochs' setting"]),
        (["train", "--set", "epochs=many"], ["epochs"]),
        (["train", "--data", "/nonexistent/aclImdb.tar.gz"], ["--data points to", "does not exist"]),
        (["data", "--data", "{tmp}/reviews.csv"], ["not a gzip archive"]),
    ],
)
def test_bad_input_gives_one_clear_line(args, fragments, model_dir, tmp_path):
    (tmp_path / "reviews.csv").write_text("text\nfine film\n")
    args = [a.format(model=model_dir, tmp=tmp_path) for a in args]
    assert_one_line_error(run(*args), *fragments)


def test_data_exports_splits_that_train_then_reads(fake_imdb_archive, tmp_path):
    export = tmp_path / "train.parquet"
    result = run("data", "--data", str(fake_imdb_archive), "--export", str(export), "--splits", "train")
    assert result.exit_code == 0, result.output
    assert "exported 80 reviews (train)" in result.stdout and export.is_file()
    out = tmp_path / "model"
    result = run("train", "--model", "bow-mlp", "--data", str(export), "--out", str(out), *TINY)
    assert result.exit_code == 0, result.output
    assert load_model(out).info_["metrics"]["validation"]["n"] > 0
    assert_one_line_error(run("data", "--data", str(export), "--export", str(tmp_path / "x.parquet"), "--splits", "dev"),
                          "splits must be some of", "dev")  # fmt: skip
    # What needs the test split says the export lacks it, in one line.
    assert_one_line_error(run("evaluate", str(out), "--data", str(export)), "holds no test reviews")
    assert_one_line_error(run("summarize", "--split", "test", "--data", str(export), "--output", str(tmp_path / "s")),
                          "holds no test reviews")  # fmt: skip
    assert not (tmp_path / "x.parquet").exists()


def test_data_on_a_non_gzip_file_prints_one_error_line_and_no_progress_bar(fake_imdb_archive, tmp_path, monkeypatch):
    import tqdm.auto

    class ShownBar(tqdm.auto.tqdm):
        """A progress bar that shows even though CliRunner's stderr is not a terminal."""

        def __init__(self, *args, **kwargs):
            if kwargs.get("disable") is None:
                kwargs["disable"] = False
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", ShownBar)
    shown = run("data", "--data", str(fake_imdb_archive))
    assert shown.exit_code == 0, shown.output
    assert "parsing aclImdb_v1.tar.gz" in shown.stderr  # the bar does show on a real archive

    not_gzip = tmp_path / "reviews.csv"
    not_gzip.write_text("text\nfine film\n")
    result = run("data", "--data", str(not_gzip))
    assert_one_line_error(result, "not a gzip archive", str(not_gzip))
    assert "parsing" not in result.stderr


def test_unknown_format_version_is_one_line(model_dir, tmp_path):
    import shutil

    future = tmp_path / "future"
    shutil.copytree(model_dir, future)
    manifest = json.loads((future / "manifest.json").read_text())
    (future / "manifest.json").write_text(json.dumps({**manifest, "format_version": 999}))
    assert_one_line_error(run("predict", str(future), "fine"), "format version 999")


def test_debug_shows_the_traceback():
    result = run("--debug", "evaluate", "/nonexistent/model")
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "ModelError"
