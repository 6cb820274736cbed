"""The star-rating head: two stages fitted on reviews' stars, saved in the model folder, loaded with it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conftest import make_rated_reviews, tar_fake_imdb, write_fake_imdb
from imdb_sentiment import data as data_module
from imdb_sentiment import load_model
from imdb_sentiment.audience.polarity import clause_span, clause_text, mentions
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.errors import InputError, ModelError
from imdb_sentiment.models.ngram import NgramConfig
from imdb_sentiment.models.rating import (
    RATING_FILE,
    STARS,
    RatingConfig,
    RatingHead,
    attach_rating,
    median_stars,
    positive_mass,
)
from imdb_sentiment.models.transformer import TransformerClassifier
from imdb_sentiment.models.transformer.config import TransformerConfig
from imdb_sentiment.training import rating_metrics, train, train_rating

rated_reviews = make_rated_reviews


@pytest.fixture(scope="module")
def fitted() -> tuple[RatingHead, list[str], np.ndarray, np.ndarray]:
    texts, stars = rated_reviews(1200)
    p_positive = np.where(stars >= 7, 0.8, 0.2)  # a classifier that knows the side, not the intensity
    fusion = np.arange(len(texts)) % 2 == 0
    head = RatingHead(RatingConfig(n_bits=14)).fit(texts, stars, p_positive, fusion)
    return head, texts, stars, p_positive


def test_the_head_learns_the_intensity_the_classifier_does_not_know(fitted):
    head, _, _, _ = fitted
    texts, stars = rated_reviews(400, seed=1)
    dist = head.predict_stars(texts, np.where(stars >= 7, 0.8, 0.2))
    assert dist.shape == (400, len(STARS))
    np.testing.assert_allclose(dist.sum(axis=1), 1.0)
    predicted = median_stars(dist)
    assert set(predicted) <= set(STARS)
    assert (predicted == stars).mean() > 0.9
    assert rating_metrics(stars, predicted)["mae"] < 0.3


def test_the_positive_mass_is_the_probability_of_seven_stars_or_more(fitted):
    head, _, _, _ = fitted
    texts, stars = rated_reviews(200, seed=2)
    dist = head.predict_stars(texts, np.where(stars >= 7, 0.8, 0.2))
    mass = positive_mass(dist)
    np.testing.assert_allclose(mass, dist[:, 4:].sum(axis=1))
    assert ((mass >= 0.5) == (stars >= 7)).mean() > 0.95
    assert positive_mass(np.eye(len(STARS))).tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_save_and_load_give_the_same_distributions(fitted, tmp_path):
    head, texts, _, p_positive = fitted
    entry = head.save(tmp_path)
    assert json.loads(json.dumps(entry))["stars"] == list(STARS)
    again = RatingHead.load(tmp_path, entry)
    np.testing.assert_array_equal(again.predict_stars(texts, p_positive), head.predict_stars(texts, p_positive))


def test_a_rating_file_of_the_wrong_shape_is_refused_in_one_line(fitted, tmp_path):
    head, _, _, _ = fitted
    entry = head.save(tmp_path)
    with np.load(tmp_path / RATING_FILE) as w:
        arrays = dict(w)
    arrays["fuse_coef"] = arrays["fuse_coef"][:, :3]
    np.savez(tmp_path / RATING_FILE, **arrays)
    with pytest.raises(ModelError, match="fuse_coef is not a float array of shape"):
        RatingHead.load(tmp_path, entry)
    with pytest.raises(ModelError, match="'rating' entry"):
        RatingHead.load(tmp_path, {**entry, "stars": [1, 10]})


def test_a_head_reads_the_models_features_when_it_has_them_and_needs_them_from_then_on(tmp_path):
    rng = np.random.default_rng(0)
    n = 1200
    texts = ["a film"] * n  # words that say nothing: only the features know the intensity
    stars = rng.choice(STARS, n)
    p_positive = np.where(stars >= 7, 0.8, 0.2)
    # As in a network's features, the signal runs along a direction shared by many of them.
    features = (rng.normal(size=(n, 16)) + np.outer(stars, rng.normal(size=16))).astype(np.float32)
    fusion = np.arange(n) % 2 == 0
    held = ~fusion
    reads = RatingHead(RatingConfig(n_bits=10, features=4)).fit(texts, stars, p_positive, fusion, features)
    blind = RatingHead(RatingConfig(n_bits=10)).fit(texts, stars, p_positive, fusion)
    assert reads.uses_features and reads.n_components == 4 and reads.info_["feature_components"] == 4
    assert not blind.uses_features  # no features given: the fusion reads none, whatever the config says

    def mae(head, given):
        dist = head.predict_stars(np.array(texts)[held].tolist(), p_positive[held], given)
        return np.abs(median_stars(dist) - stars[held]).mean()

    assert mae(reads, features[held]) < 0.5 * mae(blind, None)
    again = RatingHead.load(tmp_path, reads.save(tmp_path))
    np.testing.assert_array_equal(
        again.predict_stars(texts[:50], p_positive[:50], features[:50]),
        reads.predict_stars(texts[:50], p_positive[:50], features[:50]),
    )
    with pytest.raises(ModelError, match="reads the model's features"):
        again.predict_stars(texts[:5], p_positive[:5])
    with pytest.raises(ModelError, match="expects 16 features"):
        again.predict_stars(texts[:5], p_positive[:5], features[:5, :8])


def test_bad_training_input_is_refused(fitted):
    texts, stars = rated_reviews(300)
    with pytest.raises(InputError, match="ratings must be among"):
        RatingHead().fit(texts, np.full(300, 5), np.full(300, 0.5), np.ones(300, bool))
    with pytest.raises(InputError, match="at least 100 reviews"):
        RatingHead().fit(texts, stars, np.full(300, 0.5), np.zeros(300, bool))


def test_attach_keeps_the_models_files_and_every_surface_loads_the_head(fitted, toy_ngram_dir, tmp_path):
    head, texts, _, _ = fitted
    out = attach_rating(toy_ngram_dir, head, tmp_path / "rated")
    before = json.loads((toy_ngram_dir / "manifest.json").read_text())["files"]
    after = json.loads((out / "manifest.json").read_text())["files"]
    assert {k: v for k, v in after.items() if k != RATING_FILE} == before
    model = load_model(out)
    assert model.rates and not load_model(toy_ngram_dir).rates
    proba, stars = model.predict_proba_and_stars(texts[:5])
    np.testing.assert_array_equal(proba, load_model(toy_ngram_dir).predict_proba(texts[:5]))
    assert stars is not None and stars.shape == (5, len(STARS))
    # A re-save keeps the head.
    model.save(tmp_path / "resaved")
    assert load_model(tmp_path / "resaved").rates


def test_an_unlisted_rating_file_is_refused(fitted, toy_ngram_dir, tmp_path):
    import shutil

    copy = shutil.copytree(toy_ngram_dir, tmp_path / "copy")
    fitted[0].save(copy)
    with pytest.raises(ModelError, match=RATING_FILE):
        load_model(copy)


def test_train_rating_fits_on_validation_when_the_model_saw_all_of_train(tmp_path, monkeypatch):
    counts = {
        ("train", "pos"): 600,
        ("train", "neg"): 600,
        ("train", "unsup"): 2,
        ("test", "pos"): 4,
        ("test", "neg"): 4,
    }
    monkeypatch.setattr(data_module, "EXPECTED_COUNTS", counts)
    archive = tar_fake_imdb(write_fake_imdb(tmp_path / "x", counts), tmp_path / "aclImdb_v1.tar.gz")
    train("ngram", config=NgramConfig(n_bits=14), data=archive, split=SplitConfig(0.1, seed=0), out=tmp_path / "m")
    model = train_rating(tmp_path / "m", out=tmp_path / "rated", config=RatingConfig(n_bits=14), data=archive)
    entry = json.loads((tmp_path / "rated" / "manifest.json").read_text())["rating"]
    validation = entry["metrics"]["validation"]
    assert validation["n"] == 120 and validation["fusion_fitted_on_it"] is True
    assert validation["polarity_accuracy"] > 0.9  # the generated reviews' side is easy; their stars are noise
    assert load_model(tmp_path / "rated").rates and model.rates
    with pytest.raises(InputError, match="records no train/validation split"):
        model.info_["split"] = None
        model.rating_head_ = None
        model.save(tmp_path / "nosplit")
        train_rating(tmp_path / "nosplit", data=archive)


def test_a_transformer_trained_on_a_subset_names_the_reviews_it_left_out():
    texts = [f"review {i}" for i in range(40)]
    labels = np.array([i % 2 for i in range(40)])
    unseen = TransformerClassifier(config=TransformerConfig(subset=10)).unseen_training_rows(texts, labels)
    assert unseen.sum() == 30
    assert TransformerClassifier(config=TransformerConfig(subset=0)).unseen_training_rows(texts, labels).sum() == 0


@pytest.mark.parametrize(
    ("sentence", "term", "clause"),
    [
        ("The acting is fine but the plot is dumb.", "plot", "but the plot is dumb."),
        ("The acting is fine but the plot is dumb.", "acting", "The acting is fine "),
        ("Although the acting is good, the film is a mess.", "acting", "Although the acting is good"),
        ("Although the acting is good, the film is a mess.", "film", ", the film is a mess."),
        ("Great music; awful effects.", "effects", "; awful effects."),
        ("A film with no term here.", "ending", "A film with no term here."),
        # An aside is its own clause for a term inside it, cut like a sentence ...
        ("A dull plot (though superb music) sinks it.", "music", "though superb music"),
        ("A dull film (the leads are fine; the script is not).", "script", "; the script is not"),
        ("The story is thin (and the ending worse", "ending", "and the ending worse"),
        # ... and is never cut into for a term outside it.
        (
            "The acting (though uneven) is strong, but the plot is dumb.",
            "acting",
            "The acting (though uneven) is strong, ",
        ),
    ],
)
def test_an_aspect_is_judged_on_its_clause(sentence, term, clause):
    at = re.search(rf"\b{term}\b", sentence).start() if term in sentence else -1
    start, end = clause_span(sentence, at)
    assert sentence[start:end] == clause


def test_a_clause_leaves_out_the_asides_its_term_is_not_in():
    sentence = "The plot (done well the first time) is repeated over and over, but the music (what music?) is fine."
    assert clause_text(sentence, sentence.index("plot")) == "The plot is repeated over and over,"
    assert clause_text(sentence, sentence.index("music")) == "but the music is fine."
    assert clause_text(sentence, sentence.index("what")) == "what music?"


def test_mentions_score_each_term_on_its_own_clause(rated_toy_dir):
    model = load_model(rated_toy_dir)
    texts = ["I'm not intending to say it is great, but the ending (a twist) is a mess.", "The acting is superb."]
    found = mentions(texts, np.array([0.5, 0.9]), model)
    assert list(found["term"]) == ["ending", "twist", "acting"]
    assert list(found["clause"]) == ["but the ending is a mess.", "a twist", "The acting is superb."]
    expected = model.rating_head_.predict_clauses(list(found["clause"]), np.array([0.5, 0.5, 0.9]))
    assert np.allclose(found["p_positive"], expected)


# Reviews written for this test (none from the dataset): the labelled data has no 5s and 6s, so a mixed
# review cannot be taught its middling rating; the shipped head should still keep it off the extremes and
# say it is unsure (a spread-out distribution), where a clear review gets a sharp one at an end.
MIXED = [
    "The acting is superb and the photography is beautiful, but the story is thin and the last hour drags. "
    "Worth seeing once, no more.",
    "Some scenes are wonderful and others are dreadful. I laughed a lot in the first half and was bored in the "
    "second. An uneven film.",
    "Not great, not terrible. The cast does what it can with a so-so script. Average in every way.",
    "Good performances and a lovely score, though the plot is predictable and the ending is weak.",
]
CLEAR = [
    "A masterpiece. The finest film of the decade, flawless from start to finish.",
    "The worst film I have ever seen. Awful acting, no plot, a total waste of time.",
]


def test_the_shipped_head_keeps_mixed_reviews_off_the_extremes_and_unsure():
    from imdb_sentiment.pretrained import resolve

    model = load_model(resolve(None))
    assert model.rates
    _, mixed = model.predict_proba_and_stars(MIXED)
    _, clear = model.predict_proba_and_stars(CLEAR)
    assert set(median_stars(mixed)) <= {3, 4, 7, 8}
    assert list(median_stars(clear)) == [10, 1]

    def entropy(dist):
        return -(dist * np.log(np.clip(dist, 1e-12, 1))).sum(axis=1)

    assert entropy(mixed).min() > entropy(clear).max()


def test_the_cli_shows_the_rating_beside_the_label_when_the_model_rates(rated_toy_dir, toy_ngram_dir):
    from typer.testing import CliRunner

    from imdb_sentiment.cli import app

    runner = CliRunner()
    text = "the story and the music were a masterpiece"
    predicted = json.loads(runner.invoke(app, ["predict", str(rated_toy_dir), text]).output)
    assert predicted["rating"] in STARS
    assert "rating" not in json.loads(runner.invoke(app, ["predict", str(toy_ngram_dir), text]).output)
    explained = json.loads(runner.invoke(app, ["explain", str(rated_toy_dir), text, "--json"]).output)
    assert explained["rating"] == predicted["rating"]
    assert "predicted rating:" in runner.invoke(app, ["explain", str(rated_toy_dir), text]).output
    assert "predicted rating" not in runner.invoke(app, ["explain", str(toy_ngram_dir), text]).output
