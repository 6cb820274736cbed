"""What is particular to the ``ngram`` kind: its weights explain its scores exactly, threads change nothing."""

from __future__ import annotations

import numpy as np
import pytest

from imdb_sentiment import get_model_class, load_model
from imdb_sentiment.models.ngram import model as ngram_module
from imdb_sentiment.models.ngram.features import binary_features

NgramClassifier = get_model_class("ngram")


@pytest.fixture(scope="module")
def model(toy_reviews_factory):
    texts, labels = toy_reviews_factory(120, seed=21)
    config = NgramClassifier.config_class(n_bits=16)
    return NgramClassifier(config=config).fit(texts, labels)


@pytest.mark.parametrize("normalize", [True, False])
def test_logit_is_the_sum_of_the_feature_weights(toy_reviews_factory, normalize):
    texts, labels = toy_reviews_factory(120, seed=21)
    fitted = NgramClassifier(config=NgramClassifier.config_class(n_bits=16, normalize=normalize)).fit(texts, labels)
    probe, _ = toy_reviews_factory(15, seed=22)
    x = binary_features(probe, ngram_max=3, n_bits=16).astype(np.float64)
    expected = x @ fitted.feature_weights_
    if normalize:
        expected = expected / np.sqrt(x @ fitted.feature_scale_**2)
    expected += fitted.intercept_
    np.testing.assert_allclose(fitted.decision_function(probe), expected, rtol=1e-10)
    np.testing.assert_allclose(fitted.predict_proba(probe)[:, 1], 1 / (1 + np.exp(-expected)), rtol=1e-10)


def test_sentiment_words_get_weights_of_the_right_sign(model):
    for word, sign in (("superb", 1), ("masterpiece", 1), ("dreadful", -1), ("boring", -1)):
        column = binary_features([word], ngram_max=1, n_bits=16).indices
        assert np.sign(model.feature_weights_[column][0]) == sign, word


def test_threads_and_chunking_do_not_change_results(model, toy_reviews_factory, monkeypatch):
    texts, _ = toy_reviews_factory(50, seed=23)
    monkeypatch.setattr(ngram_module, "_CHUNK", 7)  # many chunks, spread over threads
    model.n_jobs = 1
    one = model.predict_proba(texts)
    model.n_jobs = 3
    many = model.predict_proba(texts)
    monkeypatch.setattr(ngram_module, "_CHUNK", 1000)
    whole = model.predict_proba(texts)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(one, whole)


def test_empty_review_scores_the_intercept(model):
    assert model.decision_function([""])[0] == pytest.approx(model.intercept_)


def test_saved_weights_are_plain_arrays(model, tmp_path):
    model.save(tmp_path / "m")
    with np.load(tmp_path / "m" / "weights.npz", allow_pickle=False) as arrays:
        assert set(arrays.files) == {"feature_weights", "nb_ratio", "idf", "intercept"}
        assert arrays["feature_weights"].shape == (1 << 16,)
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.feature_weights_, model.feature_weights_)


def test_unlabelled_reviews_feed_the_document_frequencies(toy_reviews_factory):
    texts, labels = toy_reviews_factory(60, seed=24)
    unlabeled = ["zeppelin"] * 30
    column = binary_features(["zeppelin"], ngram_max=1, n_bits=16).indices[0]
    config = NgramClassifier.config_class(n_bits=16)
    with_unlabeled = NgramClassifier(config=config).fit(texts, labels, unlabeled=unlabeled)
    without = NgramClassifier(config=config).fit(texts, labels)
    ignored = NgramClassifier(config=config.replace(use_unlabeled=False)).fit(texts, labels, unlabeled=unlabeled)
    # 90 documents, "zeppelin" in 30 of them: idf = ln(91/31) + 1
    assert with_unlabeled.idf_[column] == pytest.approx(np.log(91 / 31) + 1)
    np.testing.assert_array_equal(without.idf_, ignored.idf_)
    assert without.idf_[column] == pytest.approx(np.log(61 / 1) + 1)
