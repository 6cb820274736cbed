"""Per-aspect figures (audience/aspect_stats.py): counts, Wilson intervals and example sentences."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from imdb_sentiment.audience.aspect_stats import (
    aspect_trend,
    pool_aspects,
    read_examples,
    summarize_aspects,
    verdicts,
    wilson_interval,
)
from imdb_sentiment.errors import ConfigError, InputError

COLUMNS = ["group", "aspect", "mentions", "reviews", "share_positive", "share_positive_low", "share_positive_high",
           "positive_examples", "negative_examples"]  # fmt: skip


def mentions() -> pd.DataFrame:
    rows = [
        ("Alien", "r1", "acting", "The acting is superb.", 0.97),
        ("Alien", "r1", "acting", "Ripley's acting <b>carries</b> it.", 0.91),
        ("Alien", "r2", "acting", "The acting is superb.", 0.95),  # the same words from another review
        ("Alien", "r3", "acting", "Wooden acting throughout.", 0.04),
        ("Alien", "r4", "acting", "The acting is fine.", 0.5),  # a tie is positive, as everywhere
        ("Alien", "r4", "plot", "The plot drags.", 0.2),
        ("Heat", "r9", "acting", "Pacino shouts <script>", 0.3),
        ("Heat", "r8", "music", "A great score.", 0.8),
    ]
    return pd.DataFrame(rows, columns=["group", "review_id", "aspect", "text", "p_positive"])


def test_counts_shares_and_order():
    table = summarize_aspects(mentions())
    assert list(table.columns) == COLUMNS
    assert table[["group", "aspect"]].values.tolist() == [
        ["Alien", "acting"],
        ["Alien", "plot"],
        ["Heat", "acting"],
        ["Heat", "music"],
    ]
    acting = table.iloc[0]
    assert (acting["mentions"], acting["reviews"], acting["share_positive"]) == (5, 4, 0.8)
    assert acting["share_positive_low"] < 0.8 < acting["share_positive_high"]


def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson_interval([8, 0, 10], [10, 10, 10])
    np.testing.assert_allclose(low, [0.4902, 0.0, 0.7225], atol=1e-4)
    np.testing.assert_allclose(high, [0.9433, 0.2775, 1.0], atol=1e-4)
    empty_low, _ = wilson_interval(0, 0)
    assert np.isnan(empty_low)
    with pytest.raises(ConfigError, match="level"):
        wilson_interval(1, 2, level=95)


def test_examples_are_the_strongest_each_way_without_repeats():
    table = summarize_aspects(mentions(), examples=2).set_index(["group", "aspect"])
    positive = read_examples(table.loc[("Alien", "acting"), "positive_examples"])
    assert [e["text"] for e in positive] == ["The acting is superb.", "Ripley's acting <b>carries</b> it."]
    assert positive[0] == {"review_id": "r1", "text": "The acting is superb.", "p_positive": 0.97}
    negative = read_examples(table.loc[("Alien", "acting"), "negative_examples"])
    assert [(e["review_id"], e["p_positive"]) for e in negative] == [("r3", 0.04)]  # 0.5 counts as positive
    assert read_examples(table.loc[("Alien", "plot"), "positive_examples"]) == []
    # The cells are JSON text, the sentence kept verbatim: escaping is the report's job.
    assert json.loads(table.loc[("Heat", "acting"), "negative_examples"])[0]["text"] == "Pacino shouts <script>"
    none = summarize_aspects(mentions(), examples=0)
    assert set(none["positive_examples"]) == {"[]"}


def test_pooled_table_over_all_groups():
    pooled = pool_aspects(mentions(), examples=1)
    assert pooled["aspect"].tolist() == ["acting", "music", "plot"]
    acting = pooled.iloc[0]
    assert (acting["groups"], acting["mentions"], acting["reviews"]) == (2, 6, 5)
    assert acting["share_positive"] == pytest.approx(4 / 6)
    assert len(read_examples(acting["negative_examples"])) == 1


def test_ids_and_groups_are_read_as_text():
    frame = mentions().assign(review_id=range(8), group=[1, 1, 1, 1, 1, 1, 2, 2])
    table = summarize_aspects(frame)
    assert table["group"].tolist()[0] == "1"
    assert read_examples(table["positive_examples"][0])[0]["review_id"] == "0"


def test_no_mentions_gives_an_empty_table():
    table = summarize_aspects(mentions().iloc[:0])
    assert table.empty and list(table.columns) == COLUMNS
    assert pool_aspects(mentions().iloc[:0]).empty


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda f: f.drop(columns="text"), "text"),
        (lambda f: f.assign(p_positive=[0.5] * 7 + [2.0]), "mention 7"),
        (lambda f: f.assign(aspect=[None] + ["plot"] * 7), "no group or aspect"),
    ],
)
def test_bad_mentions_are_refused(change, words):
    with pytest.raises(InputError, match=words):
        summarize_aspects(change(mentions()))


def test_verdicts_name_only_aspects_clearly_on_one_side_most_mentioned_first():
    def said(group: str, aspect: str, positives: int, negatives: int) -> list[tuple]:
        p = [0.9] * positives + [0.1] * negatives
        return [(group, f"r{i}", aspect, f"{aspect} {i}", x) for i, x in enumerate(p)]

    rows = [
        *said("Alien", "acting", 9, 0),  # clearly praised
        *said("Alien", "music", 5, 0),  # praised, fewer mentions: listed after acting
        *said("Alien", "story", 6, 6),  # split: neither
        *said("Alien", "pacing", 0, 7),  # clearly criticised
        *said("Alien", "humour", 4, 0),  # all positive but only 4 mentions: neither
        *said("Heat", "acting", 7, 3),  # 70% positive, but its interval reaches below one half: neither
    ]
    table = summarize_aspects(pd.DataFrame(rows, columns=["group", "review_id", "aspect", "text", "p_positive"]))
    found = verdicts(table)
    assert found.to_dict("records") == [{"group": "Alien", "praised": "acting; music", "criticised": "pacing"}]
    assert verdicts(table, min_mentions=4).loc[0, "praised"] == "acting; music; humour"
    assert verdicts(table, min_mentions=10).empty
    assert list(verdicts(table.iloc[:0]).columns) == ["group", "praised", "criticised"]
    with pytest.raises(ConfigError, match="min_mentions must be >= 1, got 0"):
        verdicts(table, min_mentions=0)


def test_aspect_trend_counts_each_periods_mentions_of_the_most_mentioned_aspects():
    mentions = pd.DataFrame(
        {
            "aspect": ["acting", "acting", "story", "music", "acting", "story", "acting", "story"],
            "p_positive": [0.9, 0.2, 0.8, 0.7, 0.6, 0.1, 0.99, 0.4],
        }
    )
    time = pd.Series(
        pd.to_datetime(
            ["2024-01-05", "2024-01-20", "2024-02-03", None, "2024-03-01", "2024-03-31", "2023-12-31", "2024-04-30"]
        )
    )  # no date: left out; before the first period: left out; after the last start: the last period
    starts = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    table = aspect_trend(mentions, time, starts, top=2)
    assert list(table.columns) == ["period", "aspect", "mentions", "share_positive", "share_positive_low",
                                   "share_positive_high"]  # fmt: skip
    cells = {(str(r.period.date()), r.aspect): (r.mentions, r.share_positive) for r in table.itertuples()}
    assert set(cells) == {(d, a) for d in ("2024-01-01", "2024-02-01", "2024-03-01") for a in ("acting", "story")}
    assert cells["2024-01-01", "acting"] == (2, 0.5)
    assert cells["2024-02-01", "story"] == (1, 1.0)
    assert cells["2024-03-01", "acting"] == (1, 1.0)
    assert cells["2024-03-01", "story"][0] == 2 and cells["2024-03-01", "story"][1] == 0.0
    assert cells["2024-02-01", "acting"][0] == 0 and np.isnan(cells["2024-02-01", "acting"][1])  # none: no share
    assert table["aspect"].iloc[0] == "acting"  # the most mentioned first
    assert aspect_trend(mentions, pd.Series([pd.NaT] * 8), starts).empty
