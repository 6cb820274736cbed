"""The ``film`` column on the real Large Movie Review Dataset, read through ``IMDB_DATA``.

The figures asserted here were read off the archive (aclImdb v1.0): each of its 100,000 reviews names
its film in ``urls_*.txt``, with at most 30 reviews per film in each of train, test and unsup, and the
train and test films are disjoint but for one film at the seam between them.
"""

from __future__ import annotations

import pandas as pd
import pytest

from imdb_sentiment import load_imdb

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # parsing the archive takes ~15 s


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The real dataset with its unlabelled reviews, parsed into a private cache (the user's is left alone)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMDB_SENTIMENT_CACHE", str(tmp_path_factory.mktemp("imdb-cache")))
        yield load_imdb(include_unsup=True, progress=False)


def test_every_review_has_a_film_id(real):
    for name in ("train", "validation", "test", "unsup"):
        films = getattr(real, name)["film"]
        assert films.notna().all(), name
        assert films.str.fullmatch(r"tt\d{7}").all(), name


def test_film_counts_and_overlaps(real):
    train = set(pd.concat([real.train, real.validation])["film"])  # validation is carved from train
    test, unsup = set(real.test["film"]), set(real.unsup["film"])
    assert (len(train), len(test), len(unsup)) == (3_456, 3_581, 7_091)
    # One film has reviews in both: the last two of train/neg and the first ones of test/pos and test/neg.
    assert train & test == {"tt0406816"}
    films = pd.concat([real.train, real.validation, real.test]).set_index("id")["film"]
    assert films[films == "tt0406816"].index.str.startswith("train/").sum() == 2
    assert films["train/neg/12499"] == films["test/pos/0"] == films["test/neg/0"] == "tt0406816"
    assert not unsup & (train | test)
    # The dataset's authors kept at most 30 reviews per film.
    for frame in (pd.concat([real.train, real.validation]), real.test, real.unsup):
        assert frame["film"].value_counts().max() == 30
