"""Sentence crops for the transformer's training (``models/transformer/crops.py``): splitting, sampling, teacher weights."""

from __future__ import annotations

import numpy as np
import pytest

from imdb_sentiment.models.transformer.crops import sample_crops, split_sentences, teacher_weights, weighted_crops


def test_split_sentences_keeps_closing_quotes_and_drops_markup():
    text = 'I loved it. The acting was great!<br /><br />But the ending... "It sucked." 10/10 would not watch again?'
    assert split_sentences(text) == [
        "I loved it.",
        "The acting was great!",
        "But the ending...",
        '"It sucked."',
        "10/10 would not watch again?",
    ]
    assert split_sentences("no full stop at all") == ["no full stop at all"]


def test_crops_are_consecutive_sentences_of_their_review_and_seeded():
    reviews = [
        "First one here. Second one here. Third one here. Fourth one here.",
        "Only a single sentence in this review",
        "Alpha sentence is long enough. Beta sentence is long enough.",
    ]
    crops, owners = sample_crops(reviews, 30, max_sentences=2, seed=3)
    assert len(crops) == 30 and len(owners) == 30
    assert 1 not in owners  # a one-sentence review has no crop that is not the whole review
    for crop, owner in zip(crops, owners, strict=True):
        sentences = split_sentences(reviews[owner])
        parts = split_sentences(crop)
        assert 1 <= len(parts) <= 2 and len(parts) < len(sentences)
        start = sentences.index(parts[0])
        assert sentences[start : start + len(parts)] == parts
    again, again_owners = sample_crops(reviews, 30, max_sentences=2, seed=3)
    assert again == crops and np.array_equal(again_owners, owners)


def test_sampling_gives_up_on_reviews_without_crops():
    crops, owners = sample_crops(["one sentence only", "Short. Tiny."], 5, max_sentences=3, seed=0)
    assert crops == [] and len(owners) == 0


@pytest.fixture(scope="module")
def polar_reviews(toy_reviews_factory):
    texts, labels = toy_reviews_factory(200, seed=4)
    return texts, np.asarray(labels)


def test_teacher_weighs_crops_that_say_their_reviews_label(polar_reviews):
    texts, labels = polar_reviews
    crops = ["Superb and wonderful, a masterpiece I loved.", "The film was a dreadful, boring waste.", "The plot."]
    # Crop i is said to come from a positive review (owners 0..2 all positive).
    positive = np.flatnonzero(labels == 1)[:3]
    weights = teacher_weights(texts, labels, crops, positive, seed=0)
    assert weights.shape == (3,) and np.all((weights >= 0) & (weights <= 1))
    assert weights[0] > 0.5  # says what its review says
    assert weights[1] == 0.0  # says the opposite: no weight
    assert weights[1] <= weights[2] < weights[0]  # neutral in between


def test_weighted_crops_drop_the_weightless_and_keep_labels_of_their_reviews(polar_reviews):
    texts, labels = polar_reviews
    crops, crop_labels, weights = weighted_crops(texts, labels, 100, max_sentences=2, teacher=True, seed=1)
    assert 0 < len(crops) <= 100 and len(crop_labels) == len(weights) == len(crops)
    assert np.all(weights >= 0.05)
    plain, plain_labels, ones = weighted_crops(texts, labels, 100, max_sentences=2, teacher=False, seed=1)
    assert len(plain) == 100 and np.all(ones == 1.0)
    # the toy reviews' classes never share a sentiment word: a crop's label shows in its words
    for crop, label in zip(plain, plain_labels, strict=True):
        lowered = crop.lower()
        if any(w in lowered for w in ("superb", "wonderful", "brilliant", "loved", "masterpiece")):
            assert label == 1
