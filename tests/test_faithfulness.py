"""ERASER faithfulness: word deletion and keeping by hand, and scores on a model whose reasons are known."""

from __future__ import annotations

import numpy as np
import pytest

from explain_fakes import KeywordModel
from imdb_sentiment.explain import TokenAttribution, make_explanation
from imdb_sentiment.explain.faithfulness import (
    DEFAULT_KS,
    Faithfulness,
    delete_words,
    explain_many,
    faithfulness,
    keep_words,
    ranked_support,
)
from imdb_sentiment.text import word_spans

#: Ten words each: at k = 10% exactly one word is deleted or kept.
POSITIVE = ["good film with a plot and music and a cast", "the cast and the plot were good in this film"]
NEGATIVE = ["bad film with a plot and music and a cast", "the cast and the plot were bad in this film"]


def explanation_of(text: str, weights: dict[str, float], p: float = 0.9):
    tokens = tuple(TokenAttribution(w, s, e, weights.get(w, 0.0)) for w, s, e in word_spans(text))
    return make_explanation(text, p, "test", tokens)


def test_delete_words_cuts_exactly_those_words():
    e = explanation_of("a good, fine film", {})
    assert [t.token for t in e.tokens] == ["a", "good", "fine", "film"]  # punctuation is no word
    assert delete_words(e.text, e, [1]) == "a , fine film"
    assert delete_words(e.text, e, np.array([3, 0])) == " good, fine "  # any order
    assert delete_words(e.text, e, []) == e.text


def test_keep_words_in_reading_order():
    e = explanation_of("a good, fine film", {})
    assert keep_words(e, [3, 1]) == "good film"
    assert keep_words(e, []) == ""


@pytest.mark.parametrize(("p", "expected"), [(0.9, ["good", "film", "bad"]), (0.1, ["bad", "film", "good"])])
def test_ranked_support_follows_the_predicted_label(p, expected):
    # Positive prediction: the most positive words first; negative prediction: the most negative first.
    e = explanation_of("good film bad", {"good": 1.0, "film": 0.0, "bad": -1.0}, p=p)
    assert [e.tokens[i].token for i in ranked_support(e)] == expected


def test_faithfulness_of_exact_explanations():
    model = KeywordModel()
    explanations = [model.explain(t) for t in POSITIVE + NEGATIVE]
    result = faithfulness(model, explanations, ks=(0.1,))
    assert result.n == 4 and result.ks == (0.1,)
    # Deleting the keyword leaves p = 0.5: the predicted label's probability drops from 0.9 to 0.5.
    assert result.comprehensiveness[0.1] == pytest.approx(0.4)
    # The keyword alone keeps p at 0.9 (0.1): nothing lost.
    assert result.sufficiency[0.1] == pytest.approx(0.0)
    # One random word of ten: rarely the keyword, so little is lost by deleting it, much by keeping it alone.
    assert result.random_comprehensiveness[0.1] < result.comprehensiveness[0.1]
    assert result.random_sufficiency[0.1] > result.sufficiency[0.1]
    assert faithfulness(model, explanations, ks=(0.1,)) == result  # seeded


def test_misleading_explanations_score_worse_than_exact_ones():
    model = KeywordModel()
    exact = [model.explain(t) for t in POSITIVE]
    # Point at "film" instead of the keyword.
    wrong = [explanation_of(t, {"film": 5.0, "good": -1.0}) for t in POSITIVE]
    good, bad = faithfulness(model, exact, ks=(0.1,)), faithfulness(model, wrong, ks=(0.1,))
    assert bad.comprehensiveness[0.1] == pytest.approx(0.0)
    assert bad.sufficiency[0.1] == pytest.approx(0.4)
    assert bad.comprehensiveness[0.1] < good.comprehensiveness[0.1] and bad.sufficiency[0.1] > good.sufficiency[0.1]


def test_explanations_without_words_are_left_out():
    model = KeywordModel()
    explanations = [model.explain(POSITIVE[0]), make_explanation("<br />", 0.5, "test", ())]
    assert faithfulness(model, explanations, ks=(0.1,)).n == 1


def test_to_dict_names_shares_as_percentages():
    model = KeywordModel()
    result = faithfulness(model, [model.explain(t) for t in POSITIVE + NEGATIVE])
    assert isinstance(result, Faithfulness) and result.ks == DEFAULT_KS
    data = result.to_dict()
    assert list(data["comprehensiveness"]) == ["5%", "10%", "20%"]
    assert data["n"] == 4
    assert data["comprehensiveness_mean"] == pytest.approx(np.mean(list(result.comprehensiveness.values())), abs=1e-4)
    assert data["sufficiency_mean"] == pytest.approx(np.mean(list(result.sufficiency.values())), abs=1e-4)


def test_explain_many_keeps_order_and_passes_options():
    model = KeywordModel()
    explanations, seconds = explain_many(model, POSITIVE + NEGATIVE, attention=False)
    assert [e.text for e in explanations] == POSITIVE + NEGATIVE
    assert [e.label for e in explanations] == ["positive", "positive", "negative", "negative"]
    assert seconds >= 0
    assert model.options == [{"attention": False}] * 4
