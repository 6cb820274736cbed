"""The notebook's library functions, on generated reviews and hand-made frames (never real reviews)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import NEGATIVE_WORDS, POSITIVE_WORDS
from imdb_sentiment import ConfigError, InputError, ModelError, available_kinds, get_model_class, insights, load_imdb
from imdb_sentiment.data import stratified_sample
from imdb_sentiment.models.bow_mlp import BowMlpConfig
from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig
from imdb_sentiment.models.transformer.config import TransformerConfig
from imdb_sentiment.peer import PEER_NAME, fit_peer
from imdb_sentiment.plots import DPI
from pngcheck import assert_png_image


def frame_of(texts, labels, ratings=None) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame(
        {
            "id": [f"test/x/{i}" for i in range(n)],
            "split": "test",
            "label": pd.array(labels, dtype="Int8"),
            "rating": ratings if ratings is not None else [9 if y == 1 else 2 for y in labels],
            "text": texts,
        }
    )


@pytest.fixture(scope="module")
def toy_frame(toy_reviews_factory) -> pd.DataFrame:
    texts, labels = toy_reviews_factory(80, seed=3)
    return frame_of(texts, labels)


@pytest.fixture(scope="module")
def ngram(toy_reviews_factory) -> NgramClassifier:
    texts, labels = toy_reviews_factory(80, seed=1)
    return NgramClassifier(config=NgramConfig(n_bits=14)).fit(texts, labels)


# ----------------------------------------------------------------------------------- notebook settings
@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("  ", None), ("400", 400), (" 12 ", 12)])
def test_notebook_sample_reads_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(insights.SAMPLE_ENV, raising=False)
    else:
        monkeypatch.setenv(insights.SAMPLE_ENV, value)
    assert insights.notebook_sample() == expected
    assert insights.notebook_sample({} if value is None else {insights.SAMPLE_ENV: value}) == expected


@pytest.mark.parametrize("value", ["abc", "0", "1", "-5", "1.5", "400 reviews"])
def test_notebook_sample_rejects_garbage_with_the_way_out(value):
    with pytest.raises(ConfigError, match=r"IMDB_NOTEBOOK_SAMPLE must be a whole number .* got '.*'; unset it"):
        insights.notebook_sample({insights.SAMPLE_ENV: value})


def test_notebook_splits_full_and_sampled(fake_imdb_dir):
    data = load_imdb(fake_imdb_dir, progress=False)
    train, test = insights.notebook_splits(data, None)
    assert train is data.train and test is data.test
    train, test = insights.notebook_splits(data, 20)
    assert len(train) == len(test) == 20
    assert train["label"].value_counts().to_dict() == {0: 10, 1: 10} == test["label"].value_counts().to_dict()
    # The same reviews train(kind, limit=20) fits on, so the peer sees what the models see.
    assert train["id"].tolist() == stratified_sample(data.train, 20, seed=data.split.seed)["id"].tolist()
    assert set(train["id"]).isdisjoint(data.validation["id"])
    again, _ = insights.notebook_splits(data, 20)
    assert again["id"].tolist() == train["id"].tolist()


def test_notebook_config_caps_bow_mlp_epochs_only_on_a_sample():
    assert insights.notebook_config("bow-mlp", None) == BowMlpConfig()
    sampled = insights.notebook_config("bow-mlp", 400)
    assert sampled == BowMlpConfig(epochs=insights.SAMPLED_EPOCHS)
    assert insights.notebook_config("ngram", 400) == NgramConfig()
    with pytest.raises(ConfigError):
        insights.notebook_config("no-such-kind", None)


@pytest.mark.parametrize("kind", available_kinds())
def test_notebook_config_caps_the_epochs_of_any_kind_that_has_them(kind):
    defaults = get_model_class(kind).config_class()
    assert insights.notebook_config(kind, None) == defaults
    sampled = insights.notebook_config(kind, 400)
    if hasattr(defaults, "epochs"):
        assert sampled == defaults.replace(epochs=min(defaults.epochs, insights.SAMPLED_EPOCHS))
    else:
        assert sampled == defaults


def test_models_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(insights.MODELS_ENV, raising=False)
    assert str(insights.models_folder()) == "models"
    monkeypatch.setenv(insights.MODELS_ENV, str(tmp_path))
    assert insights.models_folder() == tmp_path
    assert insights.models_folder({insights.MODELS_ENV: "elsewhere"}).name == "elsewhere"


def test_load_saved_models_loads_what_it_can_and_says_why_not(tmp_path, ngram, toy_reviews_factory):
    assert insights.load_saved_models(tmp_path / "absent") == ({}, {})
    ngram.save(tmp_path / "b-ngram")
    ngram.save(tmp_path / "nested" / "deeper")  # not directly under the folder: not loaded
    (tmp_path / "a-damaged").mkdir()
    (tmp_path / "a-damaged" / "manifest.json").write_text("{not json")
    (tmp_path / "not-a-model").mkdir()
    models, skipped = insights.load_saved_models(tmp_path)
    assert list(models) == ["b-ngram"]
    texts, _ = toy_reviews_factory(5, seed=9)
    np.testing.assert_array_equal(models["b-ngram"].predict_proba(texts), ngram.predict_proba(texts))
    assert list(skipped) == ["a-damaged"] and "manifest" in skipped["a-damaged"]


# ------------------------------------------------------------------------------------------------ data
def test_split_sizes_counts_classes_and_unlabelled():
    frames = {
        "train": frame_of(["a", "b", "c"], [1, 0, 1]),
        "unsup": pd.DataFrame({"label": pd.array([None, None], dtype="Int8")}),
    }
    table = insights.split_sizes(frames)
    assert table.to_dict(orient="index") == {
        "train": {"reviews": 3, "negative": 1, "positive": 2, "unlabelled": 0},
        "unsup": {"reviews": 2, "negative": 0, "positive": 0, "unlabelled": 2},
    }


def test_review_lengths_count_words_as_the_models_do():
    texts = ["Great film!<br /><br />Loved it.", "", "Caf&eacute; scene, don't miss"]
    assert insights.review_lengths(texts).tolist() == [5, 0, 4]
    with pytest.raises(InputError, match="not a single string"):
        insights.review_lengths("Great film!")


def test_length_summary_by_class():
    frame = frame_of(["one two", "one two three four", "a b c d e f"], [0, 0, 1])
    table = insights.length_summary(frame)
    assert list(table.index) == ["negative", "positive", "all"]
    assert table.loc["negative", "reviews"] == 2 and table.loc["negative", "mean"] == 3.0
    assert table.loc["positive", "max"] == 6 and table.loc["all", "min"] == 2
    assert table.loc["all", "median"] == 4.0


def test_rating_counts_cover_one_to_ten():
    frame = frame_of(["x"] * 5, [0, 0, 1, 1, 1], ratings=[1, 1, 4, 10, 7])
    frame.loc[len(frame)] = ["train/unsup/0", "unsup", pd.NA, 0, "x"]  # unlabelled reviews are left out
    counts = insights.rating_counts(frame)
    assert counts.index.tolist() == list(range(1, 11))
    assert counts.columns.tolist() == ["negative", "positive"]
    assert counts.loc[1].tolist() == [2, 0] and counts.loc[10].tolist() == [0, 1] and counts.loc[4].tolist() == [0, 1]
    assert counts.loc[5].tolist() == [0, 0] and int(counts.to_numpy().sum()) == 5


def test_data_plots_are_pngs(tmp_path, toy_frame):
    words = insights.separating_words(toy_frame["text"].tolist(), toy_frame["label"].to_numpy("int64"), k=5)
    written = [
        insights.plot_review_lengths(toy_frame, tmp_path / "lengths.png"),
        insights.plot_ratings(toy_frame, tmp_path / "ratings.png"),
        insights.plot_separating_words(words, tmp_path / "words.png"),
    ]
    assert written == [tmp_path / "lengths.png", tmp_path / "ratings.png", tmp_path / "words.png"]
    assert_png_image(written[0], size=(round(6.5 * DPI), round(3.8 * DPI)))
    assert_png_image(written[1], size=(round(6.5 * DPI), round(3.8 * DPI)))
    # One bar per word (5 each way): 0.22 inch each plus an inch of axes.
    assert_png_image(written[2], size=(round(6.5 * DPI), round((0.22 * len(words) + 1) * DPI)))


def test_separating_words_find_the_sentiment_words(toy_frame):
    texts, labels = toy_frame["text"].tolist(), toy_frame["label"].to_numpy("int64")
    table = insights.separating_words(texts, labels, k=5, min_df=2)
    assert table.columns.tolist() == ["word", "log_ratio", "positive_reviews", "negative_reviews", "leans"]
    positive = table[table["leans"] == "positive"]
    negative = table[table["leans"] == "negative"]
    assert set(positive["word"]) == set(POSITIVE_WORDS) and set(negative["word"]) == set(NEGATIVE_WORDS)
    assert (positive["log_ratio"] > 0).all() and positive["log_ratio"].is_monotonic_decreasing
    assert (negative["log_ratio"] < 0).all() and negative["log_ratio"].is_monotonic_increasing
    assert (positive["negative_reviews"] == 0).all() and (negative["positive_reviews"] == 0).all()
    # min_df as a share: only words in at least half of the reviews are left.
    common = insights.separating_words(texts, labels, k=50, min_df=0.5)
    assert ((common["positive_reviews"] + common["negative_reviews"]) >= 40).all()


def test_separating_words_log_ratio_by_hand():
    texts = ["good good film", "good film", "bad film", "bad"]
    table = insights.separating_words(texts, [1, 1, 0, 0], k=3, min_df=1)
    # Binary counts: good (2 pos, 0 neg), film (2, 1), bad (0, 2); with alpha=1: p = [3, 3, 1], q = [1, 2, 3].
    p, q = np.array([3, 3, 1]) / 7, np.array([1, 2, 3]) / 6
    expected = dict(zip(["good", "film", "bad"], np.log(p / q), strict=True))
    assert table["word"].tolist() == ["good", "film", "bad"]
    assert table["log_ratio"].tolist() == pytest.approx([expected[w] for w in table["word"]])


def test_separating_words_rejects_bad_input(toy_frame):
    texts, labels = toy_frame["text"].tolist(), toy_frame["label"].to_numpy("int64")
    with pytest.raises(InputError, match="both classes"):
        insights.separating_words(texts, np.ones(len(texts), dtype=int))
    with pytest.raises(InputError, match="min_df=1000 or more of the 80 reviews"):
        insights.separating_words(texts, labels, min_df=1_000)
    for bad in (0, 1.5, 0.0):
        with pytest.raises(InputError, match="min_df a whole number"):
            insights.separating_words(texts, labels, min_df=bad)
    with pytest.raises(InputError, match="not a single string"):
        insights.separating_words("a review", [1])
    with pytest.raises(InputError, match="k >= 1"):
        insights.separating_words(texts, labels, k=0)


# ---------------------------------------------------------------------------------------------- models
def test_peer_scoring_and_comparison(toy_reviews_factory, ngram):
    train_texts, train_labels = toy_reviews_factory(80, seed=4)
    test_texts, test_labels = toy_reviews_factory(40, seed=5)
    peer, seconds = fit_peer(train_texts, train_labels)
    assert seconds > 0
    assert [type(step).__name__ for _, step in peer.steps] == ["TfidfVectorizer", "LogisticRegression"]
    assert peer.steps[0][1].ngram_range == (1, 2)
    peer_score = insights.score_model(PEER_NAME, peer, test_texts, test_labels, train_seconds=seconds, train_reviews=80)
    assert peer_score.proba.shape == (40, 2) and peer_score.metrics["n"] == 40
    assert peer_score.train_seconds == seconds and peer_score.train_reviews == 80
    ngram.info_["training"] = {"seconds": 1.5, "reviews": 80}  # what train() records
    ngram_score = insights.score_model("ngram", ngram, test_texts, test_labels)
    assert ngram_score.train_seconds == 1.5 and ngram_score.train_reviews == 80
    assert ngram_score.metrics["accuracy"] == 1.0
    np.testing.assert_array_equal(ngram_score.proba, ngram.predict_proba(test_texts))
    worse = insights.ModelScore(
        name="coin", proba=np.full((40, 2), 0.5), metrics={**ngram_score.metrics, "accuracy": 0.5}
    )
    table = insights.comparison_table([worse, peer_score, ngram_score])
    assert table.index[-1] == "coin" and table["accuracy"].is_monotonic_decreasing
    assert table.columns.tolist() == [
        "accuracy", "log_loss", "roc_auc", "f1", "reviews_per_s", "train_seconds", "train_reviews", "n",
    ]  # fmt: skip
    assert table.loc["ngram", "train_seconds"] == 1.5 and table.loc[PEER_NAME, "n"] == 40
    with pytest.raises(InputError, match="not a single string"):
        insights.score_model("ngram", ngram, "one review", [1])
    with pytest.raises(InputError, match="one label per review"):
        fit_peer(train_texts, train_labels[:3])


# -------------------------------------------------------------------------------------------- mistakes
MISTAKES = frame_of(["a", "b", "c", "d", "e", "f"], [0, 0, 0, 1, 1, 1], ratings=[1, 4, 4, 7, 7, 10])
P_POSITIVE = np.array([0.2, 0.9, 0.6, 0.3, 0.95, 0.8])  # wrong: b (0.9), c (0.6), d (0.7 for negative)
PROBA = np.column_stack([1 - P_POSITIVE, P_POSITIVE])


def test_most_confident_errors_strongest_first():
    errors = insights.most_confident_errors(MISTAKES, PROBA, k=5)
    assert errors["text"].tolist() == ["b", "d", "c"]
    assert errors.index.tolist() == [1, 3, 2]  # rows of the frame, original index kept
    assert errors["confidence"].tolist() == pytest.approx([0.9, 0.7, 0.6])
    assert errors["true"].tolist() == ["negative", "positive", "negative"]
    assert errors["predicted"].tolist() == ["positive", "negative", "positive"]
    assert errors["p_positive"].tolist() == pytest.approx([0.9, 0.3, 0.6])
    assert {"id", "rating", "text"} <= set(errors.columns)
    assert len(insights.most_confident_errors(MISTAKES, PROBA, k=1)) == 1
    with pytest.raises(InputError, match=r"shape \(6, 2\)"):
        insights.most_confident_errors(MISTAKES, PROBA[:4])


def test_a_tie_is_a_positive_prediction_in_the_error_analysis():
    # The one label rule (imdb_sentiment.labels): p_positive == 0.5 is positive.
    frame = frame_of(["a", "b"], [0, 1], ratings=[1, 10])
    proba = np.full((2, 2), 0.5)
    errors = insights.most_confident_errors(frame, proba)
    assert errors["text"].tolist() == ["a"] and errors["predicted"].tolist() == ["positive"]
    assert errors["confidence"].tolist() == [0.5]
    assert insights.accuracy_by_rating(frame, {"m": proba})["m"].tolist() == [0.0, 1.0]


def test_accuracy_by_rating_per_model():
    table = insights.accuracy_by_rating(MISTAKES, {"model": PROBA, "perfect": np.eye(2)[[0, 0, 0, 1, 1, 1]]})
    assert table.index.tolist() == [1, 4, 7, 10] and table.index.name == "rating"
    assert table["reviews"].tolist() == [1, 2, 2, 1]
    assert table["model"].tolist() == [1.0, 0.0, 0.5, 1.0]
    assert (table["perfect"] == 1.0).all()
    with pytest.raises(InputError, match="'model'"):
        insights.accuracy_by_rating(MISTAKES, {"model": PROBA[:2]})


def test_accuracy_by_length_in_quantile_groups():
    frame = frame_of(["w " * n for n in (1, 2, 3, 10, 11, 12)], [0, 0, 0, 1, 1, 1])
    proba = np.eye(2)[[0, 1, 0, 1, 1, 0]]  # short: 2 of 3 right; long: 2 of 3 right
    table = insights.accuracy_by_length(frame, {"m": proba}, bins=2)
    assert table.index.name == "words" and len(table) == 2
    assert table["reviews"].tolist() == [3, 3]
    assert table["m"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert table.index.tolist() == ["1-3", "10-12"]
    same = insights.accuracy_by_length(frame.assign(text="w w"), {"m": proba}, bins=4)
    assert same.index.tolist() == ["2-2"] and same["m"].tolist() == pytest.approx([4 / 6])
    with pytest.raises(InputError, match="bins"):
        insights.accuracy_by_length(frame, {"m": proba}, bins=0)


# ------------------------------------------------------------------------------------- explanations
def test_short_reviews_one_of_each_class_seeded():
    texts = ["bad " * 5, "bad " * 100, "bad " * 7, "good " * 3, "good " * 200, "good " * 150]
    frame = frame_of(texts, [0, 0, 0, 1, 1, 1])
    picked = insights.short_reviews(frame, per_class=1, max_words=10)
    assert picked["label"].tolist() == [0, 1]
    assert (picked["words"] <= 10).all() and picked.loc[picked["label"] == 1, "words"].item() == 3
    assert picked.index.tolist() == insights.short_reviews(frame, per_class=1, max_words=10).index.tolist()
    # Not enough short ones: the shortest of the class instead.
    two = insights.short_reviews(frame, per_class=2, max_words=10)
    assert two.loc[two["label"] == 1, "words"].tolist() == [3, 150]
    assert sorted(two.loc[two["label"] == 0, "words"].tolist()) == [5, 7]


class _OnnxLikeTransformer:
    """Says it shows attention, then cannot explain (a model whose weights went missing)."""

    kind = "transformer"
    shows_attention = True

    def explain(self, text):
        raise ModelError("explanations need the PyTorch model")


class _NoAttention:
    """A model that cannot show attention: it must not even be asked to explain."""

    kind = "transformer"
    shows_attention = False

    def explain(self, text):
        raise AssertionError("explain() called on a model without attention")


def test_attention_explanations_only_for_transformers(ngram, tiny_bert, toy_reviews_factory):
    from imdb_sentiment.models.transformer import TransformerClassifier

    texts, labels = toy_reviews_factory(16, seed=2)
    config = TransformerConfig(base_model=str(tiny_bert), max_length=48, stride=8, epochs=1, batch_size=8)
    transformer = TransformerClassifier(config=config).fit(texts, labels)
    models = {"ngram": ngram, "onnx": _OnnxLikeTransformer(), "none": _NoAttention(), "transformer": transformer}
    out = insights.attention_explanations(models, texts[0])  # type: ignore[arg-type]
    assert list(out) == ["transformer"]
    assert out["transformer"].attention is not None and out["transformer"].pieces
    assert insights.attention_explanations({"ngram": ngram}, texts[0]) == {}
