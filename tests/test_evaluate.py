"""Metrics agree with scikit-learn, and reports hold real files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from imdb_sentiment.evaluate import compute_metrics, write_report

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


def png_ok(path) -> bool:
    content = path.read_bytes()
    return content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) > 5_000


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
            assert png_ok(path), path.name


def test_write_report_without_history_or_second_class(tmp_path):
    labels = np.array([1, 1, 1, 1])
    proba = PROBA[4:]
    metrics = compute_metrics(labels, proba)
    written = write_report(tmp_path, labels, proba, metrics)
    assert {p.name for p in written} == {"metrics.json", "confusion_matrix.png", "probability_distribution.png"}
    assert not (tmp_path / "training_curves.png").exists() and not (tmp_path / "roc_curve.png").exists()
    assert json.loads((tmp_path / "metrics.json").read_text())["roc_auc"] is None
    assert all(png_ok(p) for p in written if p.suffix == ".png")
