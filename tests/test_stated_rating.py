"""The score a review states for itself ("8/10"), and the rating head that reads it."""

from __future__ import annotations

import numpy as np
import pytest

from imdb_sentiment.models.rating import STARS, RatingConfig, RatingHead, median_stars
from imdb_sentiment.models.stated_rating import STATED, stated_columns, stated_rating


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Overall I give it 8/10.", 8.0),
        ("A solid 7.5 / 10 from me", 7.5),
        ("seven out of ten", 7.0),
        ("Seven Out Of Ten", 7.0),
        ("I'd give it a 3. The cast tried.", 3.0),
        ("give the film an eight", 8.0),
        ("4 out of 10 the first time, but 9/10 now", 9.0),  # the last one is the verdict
        ("give it a 2 now; 6/10 on a second look", 6.0),  # "x/10" before "give it a x"
        ("0/10, avoid", 1.0),
        ("-5/10", 1.0),
        ("11/10!", 10.0),
    ],
)
def test_a_stated_score_is_read_on_a_scale_of_one_to_ten(text, score):
    assert stated_rating(text) == score


@pytest.mark.parametrize(
    "text",
    [
        "No score here, only praise.",
        "It opened on 9/10/2001 in New York.",  # a date
        "barely 1/10th of the budget",  # a fraction
        "the A1/10 road",
        "open 24/7",
        "4 stars",  # no scale
        "3/5",  # another scale
        "I'd give it a 2 hour nap",
        "give it a 15",
    ],
)
def test_what_is_not_a_score_out_of_ten_is_not_read(text):
    assert stated_rating(text) is None


def test_the_columns_are_a_one_hot_of_the_rounded_score():
    cols = stated_columns(["8/10", "nothing", "7.5/10", "0.4/10"])
    assert cols.shape == (4, len(STATED))
    assert cols.sum(axis=1).tolist() == [1, 0, 1, 1]
    assert [STATED[i] for i in cols.argmax(axis=1)[[0, 2, 3]]] == [8, 8, 1]  # halves round up


def _stating_reviews(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Reviews whose words say nothing; a third of them state their stars."""
    rng = np.random.default_rng(seed)
    stars = rng.choice(STARS, n)
    texts = [f"a film. {s}/10" if i % 3 == 0 else "a film." for i, s in enumerate(stars)]
    return texts, stars


def test_the_head_trusts_a_stated_score_and_an_old_head_without_it_still_loads(tmp_path):
    texts, stars = _stating_reviews(1500, seed=0)
    p_positive = np.where(stars >= 7, 0.8, 0.2)
    fusion = np.arange(len(texts)) % 2 == 0
    # The text stage learns "8/10" as words too, but as one linear score among all the words: only the
    # stated score's own inputs let the fusion put a review on exactly its star.
    reads = RatingHead(RatingConfig(n_bits=10)).fit(texts, stars, p_positive, fusion)
    blind = RatingHead(RatingConfig(n_bits=10, stated=False)).fit(texts, stars, p_positive, fusion)
    new_texts, new_stars = _stating_reviews(600, seed=1)
    stating = np.arange(600) % 3 == 0
    new_p = np.where(new_stars >= 7, 0.8, 0.2)

    def exact(head):
        return (median_stars(head.predict_stars(new_texts, new_p))[stating] == new_stars[stating]).mean()

    assert exact(reads) > 0.95 > 0.8 > exact(blind)
    # A head saved before the stated score existed: no "stated" in its config, no weights for it.
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    entry = blind.save(tmp_path / "old")
    entry["config"].pop("stated")
    old = RatingHead.load(tmp_path / "old", entry)
    assert not old.config.stated
    np.testing.assert_array_equal(old.predict_stars(new_texts, new_p), blind.predict_stars(new_texts, new_p))
    new = RatingHead.load(tmp_path / "new", reads.save(tmp_path / "new"))
    assert new.config.stated
    np.testing.assert_array_equal(new.predict_stars(new_texts, new_p), reads.predict_stars(new_texts, new_p))
