"""The one rule from probability to label, and the prediction record every surface reports."""

from __future__ import annotations

import numpy as np
import pytest

from imdb_sentiment.labels import LABELS, Prediction, label_ids, label_names, predictions


def test_labels_are_negative_then_positive():
    assert LABELS == ("negative", "positive")


@pytest.mark.parametrize(
    ("p_positive", "label"),
    [(0.0, "negative"), (0.4999999, "negative"), (0.5, "positive"), (0.5000001, "positive"), (1.0, "positive")],
)
def test_the_rule_puts_a_tie_at_one_half_on_positive(p_positive, label):
    assert label_names(np.array([p_positive]))[0] == label
    assert label_ids(np.array([p_positive]))[0] == LABELS.index(label)
    record = Prediction.from_p_positive(p_positive)
    assert record.label == label
    assert record.probability == max(p_positive, 1 - p_positive) >= 0.5


def test_records_from_predict_proba_round_only_when_asked():
    proba = np.array([[0.123456789, 0.876543211], [0.5, 0.5]])
    first, tie = predictions(proba)
    assert first.to_dict() == {"label": "positive", "probability": 0.876543211, "p_positive": 0.876543211}
    assert first.to_dict(digits=3) == {"label": "positive", "probability": 0.877, "p_positive": 0.877}
    assert tie.label == "positive"
