"""Metrics agree with scikit-learn, reports hold real images, and ``evaluate_model`` does the CLI's job."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from imdb_sentiment import InputError, ModelError, load_imdb, load_model, train
from imdb_sentiment import evaluate as evaluate_module
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.evaluate import compute_metrics, evaluate_model, evaluation_set, write_report
from imdb_sentiment.models.ngram import NgramConfig
from imdb_sentiment.plots import DPI
from pngcheck import assert_png_image

# A hand-made example: 4 negatives, 4 positives; predictions 3/4 right on each side.
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1])
P_POSITIVE = np.array([0.1, 0.3, 0.2, 0.7, 0.9, 0.6, 0.4, 0.8])
PROBA = np.column_stack([1 - P_POSITIVE, P_POSITIVE])
HISTORY = {
    "loss": [0.7, 0.5, 0.4],
    "val_loss": [0.69, 0.55, 0.6],
    "accuracy": [0.5, 0.8, 0.9],
    "val_accuracy": [0.5, 0.7, 0.65],
}


#: Pixel size of each report figure: its figsize in inches times the DPI.
FIGURE_SIZES = {
    "training_curves.png": (10 * DPI, round(3.8 * DPI)),  # two metrics side by side, 5 inches each
    "confusion_matrix.png": (round(4.6 * DPI), 4 * DPI),
    "roc_curve.png": (round(4.6 * DPI), round(4.2 * DPI)),
    "probability_distribution.png": (round(5.5 * DPI), round(3.8 * DPI)),
}


def test_metrics_match_sklearn():
    m = compute_metrics(LABELS, PROBA)
    pred = (P_POSITIVE > 0.5).astype(int)
    assert m["n"] == 8
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(LABELS, pred)) == pytest.approx(0.75)
    assert m["log_loss"] == pytest.approx(skm.log_loss(LABELS, P_POSITIVE))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(LABELS, P_POSITIVE))
    assert m["f1"] == pytest.approx(skm.f1_score(LABELS, pred))
    assert m["f1_macro"] == pytest.approx(skm.f1_score(LABELS, pred, average="macro"))
    assert m["per_class"]["positive"] == pytest.approx(
        {
            "precision": skm.precision_score(LABELS, pred),
            "recall": skm.recall_score(LABELS, pred),
            "f1": skm.f1_score(LABELS, pred),
            "n": 4,
        }
    )
    assert m["per_class"]["negative"]["recall"] == pytest.approx(skm.recall_score(LABELS, pred, pos_label=0))
    assert m["reviews_per_s"] is None
    json.dumps(m)  # plain JSON-ready values


def test_confusion_matrix_rows_are_true_columns_predicted():
    labels = np.array([0, 0, 0, 1])
    proba = np.array([[0.2, 0.8], [0.1, 0.9], [0.9, 0.1], [0.3, 0.7]])  # two negatives called positive
    m = compute_metrics(labels, proba)
    assert m["confusion_matrix"] == [[1, 2], [0, 1]]
    assert m["per_class"]["negative"]["n"] == 3 and m["per_class"]["positive"]["n"] == 1
    assert m["per_class"]["positive"]["precision"] == pytest.approx(1 / 3)


def test_prediction_follows_the_larger_column():
    # Columns are [negative, positive]: the first row is a confident negative.
    m = compute_metrics([0, 1], np.array([[0.99, 0.01], [0.02, 0.98]]))
    assert m["accuracy"] == 1.0 and m["confusion_matrix"] == [[1, 0], [0, 1]]


def test_a_tie_at_one_half_is_positive():
    # The one label rule (imdb_sentiment.labels): p_positive >= 0.5 is positive, as predict() says.
    m = compute_metrics([1, 0], np.array([[0.5, 0.5], [0.5, 0.5]]))
    assert m["confusion_matrix"] == [[0, 1], [0, 1]]
    assert m["accuracy"] == 0.5 and m["per_class"]["positive"]["recall"] == 1.0


def test_reviews_per_second():
    assert compute_metrics(LABELS, PROBA, seconds=2.0)["reviews_per_s"] == pytest.approx(4.0)
    assert compute_metrics(LABELS, PROBA, seconds=0.5)["reviews_per_s"] == pytest.approx(16.0)


def test_single_class_has_no_roc_auc():
    m = compute_metrics([1, 1, 1], np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]))
    assert m["roc_auc"] is None
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["confusion_matrix"] == [[0, 0], [1, 2]]
    assert math.isfinite(m["log_loss"])


def test_confident_mistakes_give_a_finite_log_loss():
    m = compute_metrics([0, 1], np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert m["accuracy"] == 0.0
    # Probabilities are clipped to [1e-7, 1 - 1e-7] before the log.
    assert m["log_loss"] == pytest.approx(-math.log(1e-7), rel=1e-6)


def test_write_report_with_history(tmp_path):
    metrics = compute_metrics(LABELS, PROBA, seconds=1.0)
    folder = tmp_path / "report" / "nested"
    written = write_report(folder, LABELS, PROBA, metrics, history=HISTORY, title="(test)")
    names = {
        "metrics.json",
        "training_curves.png",
        "confusion_matrix.png",
        "roc_curve.png",
        "probability_distribution.png",
    }
    assert {p.name for p in written} == names
    assert {p.name for p in folder.iterdir()} == names  # no temporary files left
    assert json.loads((folder / "metrics.json").read_text()) == metrics
    for path in written:
        if path.suffix == ".png":
            assert_png_image(path, size=FIGURE_SIZES[path.name])


def test_write_report_without_history_or_second_class(tmp_path):
    labels = np.array([1, 1, 1, 1])
    proba = PROBA[4:]
    metrics = compute_metrics(labels, proba)
    written = write_report(tmp_path, labels, proba, metrics)
    assert {p.name for p in written} == {"metrics.json", "confusion_matrix.png", "probability_distribution.png"}
    assert not (tmp_path / "training_curves.png").exists() and not (tmp_path / "roc_curve.png").exists()
    assert json.loads((tmp_path / "metrics.json").read_text())["roc_auc"] is None
    for path in written:
        if path.suffix == ".png":
            assert_png_image(path, size=FIGURE_SIZES[path.name])


# ----------------------------------------------------------------------------------- evaluate_model
@pytest.fixture
def trained_dir(fake_imdb_archive, tmp_path):
    """An ngram model trained by train() on the fake dataset, with a 20% validation split of seed 3."""
    out = tmp_path / "model"
    train(
        "ngram",
        config=NgramConfig(n_bits=14),
        data=fake_imdb_archive,
        split=SplitConfig(validation_fraction=0.2, seed=3),
        out=out,
    )
    return out


def test_evaluate_model_on_the_test_split_records_the_metrics(trained_dir, fake_imdb_archive, tmp_path):
    metrics = evaluate_model(trained_dir, data=fake_imdb_archive, report=tmp_path / "report")
    assert metrics["model"] == str(trained_dir) and metrics["kind"] == "ngram"
    assert metrics["dataset"] == "imdb-test" and metrics["n"] == 40
    model = load_model(trained_dir)
    texts = load_imdb(fake_imdb_archive, progress=False).test["text"].tolist()
    assert (
        metrics["accuracy"]
        == compute_metrics(
            load_imdb(fake_imdb_archive, progress=False).test["label"].to_numpy("int64"), model.predict_proba(texts)
        )["accuracy"]
    )
    recorded = model.info_["metrics"]["test"]
    assert recorded["accuracy"] == metrics["accuracy"] and "model" not in recorded and "dataset" not in recorded
    assert (tmp_path / "report" / "metrics.json").is_file()
    assert_png_image(tmp_path / "report" / "confusion_matrix.png", size=FIGURE_SIZES["confusion_matrix.png"])


def test_evaluate_model_rebuilds_the_validation_split_from_the_manifest(trained_dir, fake_imdb_archive):
    metrics = evaluate_model(trained_dir, split="validation", data=fake_imdb_archive)
    # 20% of the 80 fake training reviews, as stored in the manifest, not the default 10%.
    assert metrics["dataset"] == "imdb-validation" and metrics["n"] == 16
    texts, _, _ = evaluation_set(load_model(trained_dir), split="validation", data=fake_imdb_archive)
    expected = load_imdb(fake_imdb_archive, split=SplitConfig(validation_fraction=0.2, seed=3), progress=False)
    assert texts == expected.validation["text"].tolist()
    assert "test" not in load_model(trained_dir).info_["metrics"]  # only the test split is recorded


@pytest.mark.parametrize("split", ["test", "train"])
def test_evaluate_model_on_a_sample_records_nothing(trained_dir, fake_imdb_archive, split):
    metrics = evaluate_model(trained_dir, split=split, data=fake_imdb_archive, limit=10, seed=1)
    assert metrics["n"] == 10
    assert "test" not in load_model(trained_dir).info_["metrics"]
    texts, labels, _ = evaluation_set(load_model(trained_dir), split=split, data=fake_imdb_archive, limit=10, seed=1)
    assert len(texts) == 10 and sorted(labels.tolist()) == [0] * 5 + [1] * 5  # stratified


def test_evaluate_model_does_not_write_into_the_shipped_model(trained_dir, fake_imdb_archive, monkeypatch):
    monkeypatch.setattr(evaluate_module, "is_shipped", lambda path: True)
    before = (trained_dir / "manifest.json").read_bytes()
    evaluate_model(trained_dir, data=fake_imdb_archive)
    assert (trained_dir / "manifest.json").read_bytes() == before


def test_evaluate_model_on_a_labelled_file(trained_dir, tmp_path, toy_reviews_factory):
    texts, labels = toy_reviews_factory(12, seed=4)
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": texts, "stars": [["neg", "POS"][y] for y in labels]}).to_csv(path, index=False)
    metrics = evaluate_model(trained_dir, file=path, text_column="review", label_column="stars")
    assert metrics["dataset"] == "reviews.csv" and metrics["n"] == 12
    expected = compute_metrics(labels, load_model(trained_dir).predict_proba(texts))
    assert metrics["confusion_matrix"] == expected["confusion_matrix"]
    assert evaluate_model(trained_dir, file=path, text_column="review", label_column="stars", limit=4)["n"] == 4
    assert "test" not in load_model(trained_dir).info_["metrics"]


def test_evaluate_model_takes_a_fitted_model(toy_reviews_factory, tmp_path, fake_imdb_archive):
    texts, labels = toy_reviews_factory(40, seed=6)
    from imdb_sentiment.models.ngram import NgramClassifier

    model = NgramClassifier(config=NgramConfig(n_bits=14)).fit(texts, labels)
    metrics = evaluate_model(model, data=fake_imdb_archive)
    assert metrics["model"] is None and metrics["n"] == 40  # nothing to record it in


def test_evaluate_model_errors(trained_dir, tmp_path, fake_imdb_archive):
    with pytest.raises(InputError, match="split must be one of train, validation, test"):
        evaluate_model(trained_dir, split="dev", data=fake_imdb_archive)
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n")
    with pytest.raises(InputError):
        evaluate_model(trained_dir, file=empty)
    with pytest.raises(ModelError, match="not a model directory"):
        evaluate_model(tmp_path / "nowhere", data=fake_imdb_archive)
