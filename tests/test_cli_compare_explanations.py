"""``imdb-sentiment compare-explanations``: two saved models on a sample of the fake test split."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import make_toy_reviews
from imdb_sentiment.cli import app
from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare-cli")
    first = NgramClassifier(config=NgramConfig(n_bits=14)).fit(*make_toy_reviews(60, seed=1)).save(root / "first")
    second = NgramClassifier(config=NgramConfig(n_bits=16)).fit(*make_toy_reviews(30, seed=2)).save(root / "second")
    return first, second


def test_compare_explanations_writes_the_report(model_dirs, fake_imdb_archive, tmp_path):
    report = tmp_path / "report"
    result = run("compare-explanations", *model_dirs, "--report", report, "--n", 10, "--data", fake_imdb_archive)
    assert result.exit_code == 0, result.output
    summary = json.loads((report / "comparison.json").read_text())
    assert summary["models"] == ["ngram: first", "ngram: second"]  # kind and folder name
    assert summary["n"] == 10
    assert {p.name for p in report.iterdir()} == {"index.html", "comparison.json", "agreement.png", "faithfulness.png"}
    out = " ".join(result.stdout.split())  # the table may wrap
    assert "agreement of word rankings: top5_overlap" in out
    assert f"predictions differ on {summary['predictions_disagree']} reviews" in out
    assert "comprehensiveness mean" in out and "accuracy" in out


def test_compare_explanations_uses_a_seeded_sample(model_dirs, fake_imdb_archive, tmp_path):
    args = ("compare-explanations", *model_dirs, "--n", 6, "--seed", 3, "--data", fake_imdb_archive)
    first, again = run(*args, "--report", tmp_path / "a"), run(*args, "--report", tmp_path / "b")
    assert first.exit_code == again.exit_code == 0, first.output
    a = json.loads((tmp_path / "a" / "comparison.json").read_text())
    b = json.loads((tmp_path / "b" / "comparison.json").read_text())
    assert a["accuracy"] == b["accuracy"] and a["agreement"] == b["agreement"]


def test_compare_explanations_caps_n_at_the_test_split(model_dirs, fake_imdb_archive, tmp_path):
    result = run("compare-explanations", *model_dirs, "--report", tmp_path, "--n", 1000, "--data", fake_imdb_archive)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "comparison.json").read_text())["n"] == 40  # the whole fake test split


def assert_one_line_error(result, fragment: str, code: int) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_too_few_reviews_is_one_line(model_dirs, fake_imdb_archive, tmp_path):
    result = run("compare-explanations", *model_dirs, "--report", tmp_path / "r", "--n", 1, "--data", fake_imdb_archive)
    assert_one_line_error(result, "--n must be at least 2", code=2)
    assert not (tmp_path / "r").exists()


def test_a_missing_model_is_one_line(model_dirs, fake_imdb_archive, tmp_path):
    result = run("compare-explanations", model_dirs[0], tmp_path / "missing", "--report", tmp_path / "r",
                 "--data", fake_imdb_archive)  # fmt: skip
    assert_one_line_error(result, "not a model directory", code=1)
    assert not (tmp_path / "r").exists()


def test_compare_explanations_needs_a_report_folder(model_dirs):
    result = run("compare-explanations", *model_dirs)
    assert result.exit_code == 2 and "--report" in result.output
