"""Two models' explanations compared: rank agreement by hand, and the report on small fitted models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import make_toy_reviews
from explain_fakes import KeywordModel
from imdb_sentiment.explain import TokenAttribution, compare_explanations, make_explanation, rank_agreement
from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig
from imdb_sentiment.plots import DPI
from pngcheck import assert_png_image

REPORT_FILES = {"index.html", "comparison.json", "agreement.png", "faithfulness.png"}


def explanation(attributions) -> object:
    words = [f"w{i}" for i in range(len(attributions))]
    text = " ".join(words)
    tokens, position = [], 0
    for word, value in zip(words, attributions, strict=True):
        tokens.append(TokenAttribution(word, position, position + len(word), float(value)))
        position += len(word) + 1
    return make_explanation(text, 0.9, "test", tuple(tokens))


# ------------------------------------------------------------------------------------ rank agreement
def test_identical_explanations_agree_fully():
    a = explanation(np.arange(12, 0, -1))
    assert rank_agreement(a, a) == pytest.approx({"top5_overlap": 1, "top10_overlap": 1, "spearman": 1, "kendall": 1})


def test_reversed_rankings():
    a, b = explanation(np.arange(12, 0, -1)), explanation(np.arange(1, 13))
    agreement = rank_agreement(a, b)
    # a's top 5 are words 0-4, b's are words 7-11; top 10: words 0-9 and 2-11 share 8.
    assert agreement["top5_overlap"] == 0.0
    assert agreement["top10_overlap"] == pytest.approx(0.8)
    assert agreement["spearman"] == pytest.approx(-1.0) and agreement["kendall"] == pytest.approx(-1.0)


def test_top_k_is_by_absolute_attribution():
    # A strongly negative word is as much a reason as a strongly positive one.
    a, b = explanation([5, -4, 0.1, 0.2, 0.3, 0.4]), explanation([-5, 4, 0.1, 0.2, 0.3, 0.4])
    assert rank_agreement(a, b)["top5_overlap"] == 1.0
    assert rank_agreement(a, b)["spearman"] < 1.0


def test_short_review_overlap_is_out_of_its_words():
    a, b = explanation([3, 2, 1]), explanation([1, 2, 3])
    agreement = rank_agreement(a, b)
    assert agreement["top5_overlap"] == agreement["top10_overlap"] == 1.0  # all 3 words, out of 3


@pytest.mark.parametrize("values", [[1.0, 1.0, 1.0], [2.0]], ids=["constant", "one-word"])
def test_correlation_is_nan_when_undefined(values):
    agreement = rank_agreement(explanation(values), explanation(list(range(len(values)))))
    assert math.isnan(agreement["spearman"]) and math.isnan(agreement["kendall"])


# ------------------------------------------------------------------------------------------ the report
@pytest.fixture(scope="module")
def reviews():
    return make_toy_reviews(12, seed=21)


@pytest.fixture(scope="module")
def two_models():
    # Different data and hashing sizes: the two disagree on some words but both learn the sentiment words.
    first = NgramClassifier(config=NgramConfig(n_bits=14)).fit(*make_toy_reviews(60, seed=1))
    second = NgramClassifier(config=NgramConfig(n_bits=16)).fit(*make_toy_reviews(20, seed=2))
    return first, second


@pytest.fixture(scope="module")
def report(two_models, reviews, tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare") / "report"
    summary = compare_explanations(*two_models, *reviews, folder, gallery=4)
    return folder, summary


def test_report_files_and_summary(report):
    folder, summary = report
    assert {p.name for p in folder.iterdir()} == REPORT_FILES  # no temporary files left
    assert json.loads((folder / "comparison.json").read_text()) == summary
    assert summary["models"] == ["ngram (A)", "ngram (B)"]  # same kind: told apart
    assert summary["n"] == 12
    assert set(summary["agreement"]) == {"top5_overlap", "top10_overlap", "spearman", "kendall"}
    assert set(summary["faithfulness"]) == set(summary["models"])
    for name in summary["models"]:
        assert summary["faithfulness"][name]["n"] == 12
        assert summary["seconds_per_explanation"][name] >= 0


def test_summary_accuracy_and_disagreements_match_the_models(report, two_models, reviews):
    _, summary = report
    texts, labels = reviews
    labels = np.asarray(labels)
    pred_a, pred_b = (model.predict(texts) for model in two_models)
    name_a, name_b = summary["models"]
    assert summary["accuracy"] == pytest.approx({name_a: (pred_a == labels).mean(), name_b: (pred_b == labels).mean()})
    disagree = pred_a != pred_b
    assert summary["predictions_disagree"] == int(disagree.sum())
    assert summary["when_they_disagree_right"] == {
        name_a: int((pred_a[disagree] == labels[disagree]).sum()),
        name_b: int((pred_b[disagree] == labels[disagree]).sum()),
    }


def test_mean_agreement_is_the_mean_over_reviews(report, two_models, reviews):
    _, summary = report
    per_review = [rank_agreement(a.explain(t), b.explain(t)) for t in reviews[0] for a, b in [two_models]]
    for key in ("top5_overlap", "spearman"):
        assert summary["agreement"][key] == pytest.approx(np.nanmean([g[key] for g in per_review]), abs=1e-4)


def test_report_page_and_figures(report):
    folder, summary = report
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert page.count("<section>") == 4  # the gallery
    assert "<img src='agreement.png'" in page and "<img src='faithfulness.png'" in page
    assert f"{summary['n']} test reviews" in page
    for name in ("agreement.png", "faithfulness.png"):
        assert_png_image(folder / name, size=(10 * DPI, round(3.6 * DPI)))


def test_a_model_compared_with_itself_agrees_fully(two_models, reviews, tmp_path):
    model = two_models[0]
    summary = compare_explanations(model, model, *reviews, tmp_path, names=("left", "right"), gallery=2)
    assert summary["models"] == ["left", "right"]
    assert summary["predictions_disagree"] == 0
    assert summary["when_they_disagree_right"] == {"left": 0, "right": 0}
    assert summary["agreement"]["top5_overlap"] == summary["agreement"]["top10_overlap"] == 1.0
    assert summary["agreement"]["spearman"] == pytest.approx(1.0)
    assert summary["faithfulness"]["left"] == summary["faithfulness"]["right"]


def test_names_are_escaped_and_attention_is_not_asked_for(tmp_path):
    keyword = KeywordModel()
    texts = ["a good film", "a bad film", "good and bad", "the plot"]
    summary = compare_explanations(keyword, keyword, texts, [1, 0, 1, 0], tmp_path, names=("<b>A</b>", "B & C"))
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<b>A</b>" not in page and "&lt;b&gt;A&lt;/b&gt;" in page and "B &amp; C" in page
    # Every kind is offered attention=False; a kind that has no attention drops it (the model contract).
    assert keyword.options == [{"attention": False}] * 8
    # "good and bad" is positive (p = 0.9) and "the plot" a tie at 0.5, positive by the one label rule.
    assert summary["accuracy"]["<b>A</b>"] == pytest.approx(0.75)
