"""The audience report (audience/report.py, audience/plots.py): one self-contained, escaped HTML page."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from audience_sim import STARS, star_reviews, times
from imdb_sentiment.audience import plots
from imdb_sentiment.audience.aspect_stats import aspect_trend, pool_aspects, summarize_aspects
from imdb_sentiment.audience.groups import summarize_groups, trend
from imdb_sentiment.audience.report import pooled_from_table, write_report
from pngcheck import assert_png_image

EVIL = "<script>alert('x')</script> $\\frac{1}{0}$ _hidden & co"
IMAGE = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def scored(n_groups=40, size=15, seed=0) -> pd.DataFrame:
    frame, _ = star_reviews(n_groups, size, seed=seed)
    return frame.assign(group=frame["group"].replace({"g0001": EVIL}))


def aspect_mentions(frame: pd.DataFrame, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    picked = frame.sample(len(frame) * 2, replace=True, random_state=seed).reset_index()
    return pd.DataFrame(
        {
            "group": picked["group"],
            "review_id": [f"<i>r{i}</i>" for i in picked["index"]],
            "aspect": rng.choice(["acting", "plot", "music", "<b>effects</b>"], len(picked)),
            "text": [f"Sentence {i} <script>steal()</script> & more" for i in range(len(picked))],
            "p_positive": picked["p_positive"],
        }
    )


def images(page: str, tmp_path) -> list:
    found = IMAGE.findall(page)
    for i, data in enumerate(found):
        path = tmp_path / f"figure{i}.png"
        path.write_bytes(base64.b64decode(data, validate=True))
        assert_png_image(path)
    return found


def test_full_report_is_self_contained_and_escaped(tmp_path):
    frame = scored()
    groups = summarize_groups(frame, stars=STARS, n_boot=30).assign(praised="acting; <b>music</b>", criticised="")
    aspects = summarize_aspects(aspect_mentions(frame))
    series = trend(frame, times(400, len(frame)), top_groups=3, n_boot=20)
    notes = {"model <b>": "minilm & <script>", "input": "films.csv"}
    path = write_report(
        tmp_path / "out", groups=groups, aspects=aspects, trend=series, title="Films <script>", notes=notes
    )
    assert path == tmp_path / "out" / "report.html"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # nothing else, no temporary file
    page = path.read_text(encoding="utf-8")

    assert "<script" not in page.lower() and "javascript:" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page  # the group name, in the table and drill-down
    assert "&lt;i&gt;r" in page and "<i>r" not in page  # review ids
    assert "&lt;b&gt;effects&lt;/b&gt;" in page and "minilm &amp; &lt;script&gt;" in page
    assert "<title>Films &lt;script&gt;</title>" in page
    assert re.search(r"src=\"(?!data:)", page) is None and "<link" not in page  # nothing loaded from elsewhere

    for heading in ("Overview", "Groups ranked", "Ratings", "Groups", "Aspects", "largest groups", "Over time"):
        assert f"<h2>{heading}" in page or f"<h2>The 20 {heading}" in page, heading
    # ranked x2, rating distribution, true vs estimated, aspect bars, heatmap, trend
    assert len(images(page, tmp_path)) == 7
    assert page.count("<details>") == 20
    assert "Sentence" in page and "review &lt;i&gt;r" in page  # example sentences with their review ids
    assert "<b>600</b> reviews" in page and "true share positive" in page
    assert "<th>praised</th><th>criticised</th>" in page and "<td>acting; &lt;b&gt;music&lt;/b&gt;</td>" in page
    assert page.count(" · praised: acting; &lt;b&gt;music&lt;/b&gt;</small></summary>") == 20  # in each drill-down


def test_the_aspects_over_time_are_drawn_when_a_period_has_enough_mentions(tmp_path):
    frame = scored()
    groups = summarize_groups(frame, stars=STARS, n_boot=10)
    mentions = aspect_mentions(frame)
    when = times(400, len(frame))
    series = trend(frame, when, n_boot=10)
    starts = series.loc[series["group"].isna(), "period"]
    by_review = dict(zip(frame.index, when, strict=True))
    mention_times = pd.Series([by_review[int(re.search(r"\d+", r).group())] for r in mentions["review_id"]])
    over_time = aspect_trend(mentions, mention_times, starts)
    assert over_time["mentions"].sum() == len(mentions) and (over_time["mentions"] >= 5).any()
    page = write_report(
        tmp_path / "a", groups=groups, aspects=None, trend=series, aspect_trend=over_time, title="t"
    ).read_text(encoding="utf-8")
    assert 'alt="share of positive mentions per aspect over time"' in page
    few = over_time.assign(mentions=1)  # too few mentions in every period: nothing to draw
    page = write_report(
        tmp_path / "b", groups=groups, aspects=None, trend=series, aspect_trend=few, title="t"
    ).read_text(encoding="utf-8")
    assert "per aspect over time" not in page and "Over time" in page


def test_minimal_report_without_aspects_trend_or_truth(tmp_path):
    frame = scored(n_groups=5, size=4).drop(columns=["label", "true_rating"])
    groups = summarize_groups(frame, stars=STARS, n_boot=10)
    page = write_report(tmp_path, groups=groups, aspects=None, title="t").read_text(encoding="utf-8")
    assert len(images(page, tmp_path)) == 3  # ranked x2 and the rating distribution
    assert "No group has 10 reviews" in page and "No sentence named an aspect" in page
    assert "Over time" not in page and "true" not in page.lower().replace("true_", "")


def test_a_report_of_one_group_leaves_out_the_rankings_and_the_heatmap(tmp_path):
    frame = scored(n_groups=1, size=40)
    groups = summarize_groups(frame, stars=STARS, n_boot=10)
    aspects = summarize_aspects(aspect_mentions(frame))
    page = write_report(tmp_path, groups=groups, aspects=aspects, title="one").read_text(encoding="utf-8")
    assert "Groups ranked" not in page and "<h2>Ratings" in page and "<h2>Aspects" in page
    # the rating distribution, true vs estimated, the aspect bars; no heatmap of one row
    assert len(images(page, tmp_path)) == 3
    assert page.count("<details>") == 1


def test_report_of_no_reviews(tmp_path):
    groups = summarize_groups(scored(2, 3).iloc[:0], stars=STARS)
    page = write_report(tmp_path, groups=groups, aspects=pd.DataFrame(), title="empty").read_text(encoding="utf-8")
    assert "<b>0</b> reviews" in page and not IMAGE.findall(page)


def test_pooled_aspects_from_the_table_match_the_mentions():
    frame = scored(8, 10)
    mentions = aspect_mentions(frame, seed=1)
    derived = pooled_from_table(summarize_aspects(mentions)).set_index("aspect")
    direct = pool_aspects(mentions).set_index("aspect").loc[derived.index]
    for column in ("groups", "mentions", "share_positive", "share_positive_low", "share_positive_high"):
        np.testing.assert_allclose(derived[column], direct[column], err_msg=column)


@pytest.mark.parametrize("name", ["$x^2", "_private", "a" * 80, "\\alpha $ \\", "名前"])
def test_labels_draw_whatever_the_name(name, tmp_path):
    shown = plots.label(name)
    assert len(shown) <= 42 and not shown.startswith("_")
    rows = pd.DataFrame({"group": [name, "b"], "v": [0.4, 0.6], "lo": [0.3, 0.5], "hi": [0.5, 0.7]})
    path = tmp_path / "ranked.png"
    path.write_bytes(plots.ranked(rows, value="v", low="lo", high="hi", title=name, xlabel="x"))
    assert_png_image(path)
