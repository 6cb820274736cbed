"""The records of an explanation: the one label rule, folding span attributions onto words, step checks."""

from __future__ import annotations

import pytest

from imdb_sentiment import InputError
from imdb_sentiment.explain.records import check_steps, fold_onto_words, make_explanation


@pytest.mark.parametrize(
    ("p_positive", "label", "probability"),
    [(0.8, "positive", 0.8), (0.2, "negative", 0.8), (0.5, "positive", 0.5), (0.4999, "negative", 0.5001)],
)
def test_make_explanation_labels_by_the_one_rule(p_positive, label, probability):
    # A tie at exactly 0.5 is positive, as predict() and every surface say (imdb_sentiment.labels).
    explanation = make_explanation("a film", p_positive, "test", ())
    assert explanation.label == label
    assert explanation.probability == pytest.approx(probability)
    assert explanation.p_positive == p_positive


def test_fold_onto_words_shares_a_span_by_the_characters_it_covers():
    text = "superb film"  # words "superb" (0-6) and "film" (7-11)
    # One span over "erb fi" (3 + 2 characters of words), one over the word "film", one over the space.
    tokens, unassigned = fold_onto_words(text, [(3, 9), (7, 11), (6, 7)], [1.0, 2.0, 0.5])
    assert [(t.token, t.start, t.end) for t in tokens] == [("superb", 0, 6), ("film", 7, 11)]
    assert [t.attribution for t in tokens] == pytest.approx([0.6, 0.4 + 2.0])
    assert unassigned == 0.5


@pytest.mark.parametrize("n_steps", [0, -1, 2.5, True, "8"])
def test_check_steps_rejects_anything_but_a_positive_whole_number(n_steps):
    with pytest.raises(InputError, match="n_steps"):
        check_steps(n_steps)


def test_check_steps_accepts_one():
    check_steps(1)
