"""``summarize``: a file of reviews of any size into per-group figures, aspects and a report."""

from __future__ import annotations

import dataclasses
import inspect
import json
import warnings

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import make_rated_reviews
from imdb_sentiment.audience.aspect_stats import verdicts
from imdb_sentiment.audience.summarize import (
    ALL_REVIEWS,
    SummarizeConfig,
    group_inputs,
    summarize,
    summary_tables,
)
from imdb_sentiment.audience.times import undated_message
from imdb_sentiment.cli import app
from imdb_sentiment.cli.audience import summarize as summarize_command
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import ConfigError, InputError
from imdb_sentiment.models.rating import STARS, positive_mass

GROUP_COLUMNS = [
    "group",
    "n",
    "share_positive",
    "share_positive_low",
    "share_positive_high",
    "mean_rating",
    "mean_rating_low",
    "mean_rating_high",
]


@pytest.fixture
def reviews_csv(tmp_path):
    texts, stars = make_rated_reviews(90, seed=5)
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(90)],
            # Film A gets the good reviews, film C the bad ones, <script> a mix: the groups must differ.
            "film": np.where(stars >= 9, "A", np.where(stars <= 2, "C", "<script>alert(1)</script>")),
            "date": [f"2024-{1 + i % 12:02d}-01" for i in range(90)],
            "text": texts,
            "stars": stars,
        }
    )
    frame.loc[3, "text"] = ""  # a row that cannot be scored: it goes to the errors file, not the figures
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_summarize_writes_groups_aspects_a_report_and_the_scored_reviews(rated_toy_dir, reviews_csv, tmp_path):
    path, frame = reviews_csv
    out = tmp_path / "summary"
    result = summarize(rated_toy_dir, path, out, SummarizeConfig(time_column="date", n_boot=50), progress=False)
    assert (result.reviews, result.errors) == (89, 1)
    groups = pd.read_csv(out / "groups.csv")
    assert list(groups.columns[: len(GROUP_COLUMNS)]) == GROUP_COLUMNS
    assert groups["n"].sum() == 89 and set(groups["group"]) == set(frame["film"])
    by = groups.set_index("group")
    mixed = "<script>alert(1)</script>"
    assert by.loc["A", "mean_rating"] > by.loc[mixed, "mean_rating"] > by.loc["C", "mean_rating"]
    assert by.loc["A", "mean_rating"] - by.loc["C", "mean_rating"] > 3
    assert by.loc["A", "share_positive"] > by.loc[mixed, "share_positive"] > by.loc["C", "share_positive"]
    assert (groups["share_positive_low"] <= groups["share_positive"]).all()
    assert (groups["share_positive"] <= groups["share_positive_high"]).all()
    aspects = pd.read_csv(out / "aspects.csv")
    assert {"story", "acting", "music"} <= set(aspects["aspect"])
    # Beside each group's figures: the aspects its reviews clearly praise and criticise, from aspects.csv.
    said = groups.set_index("group")[["praised", "criticised"]].fillna("")
    expected = verdicts(aspects).set_index("group").reindex(said.index).fillna("")
    assert said.equals(expected) and (said != "").any(axis=None)
    assert said.loc["A", "praised"] and not said.loc["A", "criticised"] and not said.loc["C", "praised"]
    example = json.loads(aspects["positive_examples"].dropna().iloc[0])[0]
    assert example["review_id"] in set(frame["id"])
    reviews = pq.read_table(out / "reviews.parquet").to_pandas()
    assert {"id", "film", "date", "label", "p_positive", "rating", "stars_1", "stars_10", "aspects"} <= set(reviews)
    assert set(reviews["rating"].dropna()) <= {1, 2, 3, 4, 7, 8, 9, 10}
    html = (out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_missing_group_column_or_a_model_without_rating_is_one_clear_error(
    rated_toy_dir, toy_ngram_dir, reviews_csv, tmp_path
):
    path, _ = reviews_csv
    with pytest.raises(InputError, match="no column 'region'"):
        summarize(rated_toy_dir, path, tmp_path / "a", SummarizeConfig(group_column="region"), progress=False)
    with pytest.raises(InputError, match="no rating head; add one with `imdb-sentiment train-rating"):
        summarize(toy_ngram_dir, path, tmp_path / "b", progress=False)
    with pytest.raises(InputError, match="either an input file or --split"):
        summarize(rated_toy_dir, None, tmp_path / "c", progress=False)
    with pytest.raises(ConfigError, match="adjust must be one of em, sides, share, none"):
        SummarizeConfig(adjust="median")
    # The CLI spells its default out (it starts without pandas): it must be the config's.
    assert inspect.signature(summarize_command).parameters["adjust"].default == SummarizeConfig().adjust
    with pytest.raises(ConfigError, match="share_from must be rating or classifier"):
        SummarizeConfig(share_from="votes")
    with pytest.raises(ConfigError, match="rating_error must be >= 0"):
        SummarizeConfig(rating_error=-0.5)


@pytest.mark.parametrize("source", ["rating", "classifier"])
def test_a_groups_share_comes_from_the_probability_share_from_names(rated_toy_dir, reviews_csv, tmp_path, source):
    path, _ = reviews_csv
    out = tmp_path / source
    summarize(rated_toy_dir, path, out, SummarizeConfig(adjust="none", n_boot=0, share_from=source), progress=False)
    reviews = pq.read_table(out / "reviews.parquet").to_pandas().dropna(subset=["p_positive"])
    stars = reviews[[f"stars_{s}" for s in STARS]].to_numpy()
    p = positive_mass(stars) if source == "rating" else reviews["p_positive"].to_numpy()
    expected = pd.Series(p).groupby(reviews["film"].to_numpy()).mean()
    groups = pd.read_csv(out / "groups.csv").set_index("group")
    assert groups["share_positive"].to_dict() == pytest.approx(expected.to_dict())
    # The rating head's mass on 7-10 stars is what "rating" reads: the groups' star columns agree with it.
    if source == "rating":
        assert groups[[f"stars_{s}" for s in STARS if s >= 7]].sum(axis=1).to_dict() == pytest.approx(
            expected.to_dict()
        )


def test_group_inputs_take_the_share_source_and_the_truth():
    reviews = pd.DataFrame({"film": ["a", None], "p_positive": [0.9, 0.2], "rating": [8, 3]})
    reviews[[f"stars_{s}" for s in STARS]] = [[0, 0, 0, 0.1, 0.2, 0.3, 0.2, 0.2], [0.5, 0.2, 0.1, 0.1, 0.1, 0, 0, 0]]
    rated = group_inputs(reviews, SummarizeConfig(), truth=True)
    assert rated["p_positive"].tolist() == pytest.approx([0.9, 0.1])
    assert rated["group"].tolist() == ["a", "(none)"]
    assert rated["label"].tolist() == [1, 0] and rated["true_rating"].tolist() == [8, 3]
    plain = group_inputs(reviews, SummarizeConfig(share_from="classifier"))
    assert plain["p_positive"].tolist() == [0.9, 0.2] and "label" not in plain
    # A blank name (a CSV's empty cell may read as "") is no name either; names keep their own spaces.
    named = group_inputs(reviews.assign(film=["", " b "]), SummarizeConfig())
    assert named["group"].tolist() == ["(none)", " b "]


def test_the_cli_summarizes_and_reports_bad_input_in_one_line(rated_toy_dir, reviews_csv, tmp_path):
    path, _ = reviews_csv
    runner = CliRunner()
    ok = runner.invoke(
        app, ["summarize", str(path), "--output", str(tmp_path / "s"), "--model", str(rated_toy_dir), "--quiet"]
    )
    assert ok.exit_code == 0, ok.output
    assert "summarised 89 reviews in 3 groups" in ok.output
    bad = runner.invoke(
        app,
        ["summarize", str(path), "--output", str(tmp_path / "t"), "--model", str(rated_toy_dir), "--group-column", "x"],
    )
    assert bad.exit_code == 2
    assert bad.output.strip().count("\n") == 0 and "no column 'x'" in bad.output
    source = runner.invoke(
        app,
        ["summarize", str(path), "--output", str(tmp_path / "u"), "--model", str(rated_toy_dir), "--share-from", "x"],
    )
    assert source.exit_code == 2
    assert source.output.strip().count("\n") == 0 and "share_from must be rating or classifier" in source.output


def test_split_summarises_imdb_by_film_with_the_true_figures(rated_toy_dir, fake_imdb_archive, tmp_path):
    out = tmp_path / "imdb"
    result = summarize(
        rated_toy_dir, None, out, SummarizeConfig(n_boot=20), split="test", data=fake_imdb_archive, progress=False
    )
    groups = pd.read_csv(out / "groups.csv")
    assert result.reviews == groups["n"].sum() == 40
    assert {"true_share_positive", "true_mean_rating"} <= set(groups.columns)
    assert groups["group"].str.match(r"tt\d{7}$").all()
    assert not list(out.glob(".*"))  # the split's reviews written for the scorer are gone


def test_the_ray_engine_gives_the_local_engines_summary(rated_toy_dir, reviews_csv, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed: pip install -e '.[ray]'")
    path, _ = reviews_csv
    config = SummarizeConfig(n_boot=20)
    summarize(rated_toy_dir, path, tmp_path / "local", config, ScoreConfig(batch_size=32), progress=False)
    summarize(
        rated_toy_dir,
        path,
        tmp_path / "ray",
        config,
        ScoreConfig(batch_size=32, engine="ray", workers=2),
        progress=False,
    )
    for name in ("groups.csv", "aspects.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "local" / name), pd.read_csv(tmp_path / "ray" / name))


def summarize_cli(*args):
    """``imdb-sentiment summarize ARGS...`` (paths as text), through typer's test runner."""
    return CliRunner().invoke(app, ["summarize", *map(str, args)])


def test_reviews_without_a_readable_date_are_counted_and_reported(rated_toy_dir, reviews_csv, tmp_path):
    path, frame = reviews_csv
    frame.loc[[10, 20], "date"] = ["someday", "n/a"]
    frame.loc[30, "date"] = "March 3, 2024"  # not ISO, but a date
    frame.to_csv(path, index=False)
    out = tmp_path / "summary"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = summarize(rated_toy_dir, path, out, SummarizeConfig(time_column="date", n_boot=20), progress=False)
    assert (result.time_column, result.dated, result.reviews) == ("date", 87, 89)
    assert (
        undated_message(result) == "2 of 89 reviews have no readable date in column 'date': the trend leaves them out"
    )
    assert "87 of 89" in (out / "report.html").read_text()
    # The aspects over time count every dated mention of the most mentioned aspects, and no undated one.
    reviews = pq.read_table(out / "reviews.parquet").to_pandas()
    tables = summary_tables(reviews, SummarizeConfig(time_column="date", n_boot=0), "id", truth=False)
    dated = reviews[~reviews["date"].isin(["someday", "n/a"])]
    said = pd.Series([m["aspect"] for row in dated["aspects"] for m in row])
    top = said.value_counts().index[:5]
    assert tables.aspect_trend["mentions"].sum() == said.isin(top).sum()
    assert set(tables.aspect_trend["aspect"]) == set(top)
    assert "Over time" in (out / "report.html").read_text()
    one = dataclasses.replace(result, dated=88)
    assert undated_message(one).startswith("1 of 89 reviews has no readable date")
    assert undated_message(dataclasses.replace(result, dated=89)) == ""
    assert undated_message(dataclasses.replace(result, time_column="", dated=None)) == ""
    cli = summarize_cli(path, "--output", tmp_path / "c", "--model", rated_toy_dir, "--time-column", "date", "--quiet")
    assert cli.exit_code == 0, cli.output
    assert "warning: 2 of 89 reviews have no readable date in column 'date'" in cli.output


def test_a_time_column_without_dates_is_refused_before_any_scoring(rated_toy_dir, reviews_csv, tmp_path):
    path, _ = reviews_csv
    out = tmp_path / "summary"
    with pytest.raises(InputError, match=r"the time column 'film' holds no dates \(its first value is '.+'\)"):
        summarize(rated_toy_dir, path, out, SummarizeConfig(time_column="film"), progress=False)
    assert not (out / "reviews.parquet").exists()
    # The group column may be the time column too: grouped by day, with a trend.
    result = summarize(
        rated_toy_dir, path, out, SummarizeConfig(group_column="date", time_column="date", n_boot=20), progress=False
    )
    assert result.groups == 12 and result.dated == 89
    bad = summarize_cli(path, "--output", tmp_path / "c", "--model", rated_toy_dir, "--time-column", "film")
    assert bad.exit_code == 2 and bad.output.strip().count("\n") == 0 and "holds no dates" in bad.output


def test_an_empty_group_column_summarises_all_reviews_as_one_group(rated_toy_dir, reviews_csv, tmp_path):
    path, frame = reviews_csv
    texts = tmp_path / "reviews.txt"  # a plain file of reviews, one per line: no column to group by
    texts.write_text("\n".join(frame["text"].drop(index=3)) + "\n", encoding="utf-8")
    missing = summarize_cli(texts, "--output", tmp_path / "m", "--model", rated_toy_dir)
    assert missing.exit_code == 2 and missing.output.strip().count("\n") == 0
    assert "no column 'film'; its columns are: text (an empty group column, --group-column ''," in missing.output
    out = tmp_path / "one"
    ok = summarize_cli(texts, "--output", out, "--model", rated_toy_dir, "--group-column", "", "--quiet")
    assert ok.exit_code == 0, ok.output
    assert "summarised 89 reviews in 1 group (" in ok.output
    groups = pd.read_csv(out / "groups.csv")
    assert groups["group"].tolist() == [ALL_REVIEWS] and groups["n"].tolist() == [89]
    # the one group's figures are those of every review of the file, grouped as usual
    by_film = summarize(rated_toy_dir, path, tmp_path / "films", SummarizeConfig(n_boot=20), progress=False)
    films = pd.read_csv(tmp_path / "films" / "groups.csv")
    assert by_film.reviews == 89 and abs(float(films["n"] @ films["mean_rating"]) / 89 - groups["mean_rating"][0]) < 0.3
    aspects = pd.read_csv(out / "aspects.csv")
    assert set(aspects["group"]) == {ALL_REVIEWS} and aspects["mentions"].sum() > 0
    page = (out / "report.html").read_text()
    assert "<title>reviews.txt, all reviews</title>" in page and "Groups ranked" not in page


def test_the_cli_sets_examples_min_reviews_and_a_limit_on_the_split(rated_toy_dir, fake_imdb_archive, tmp_path):
    base = ["--split", "test", "--data", fake_imdb_archive, "--model", rated_toy_dir, "--quiet"]
    whole = summarize_cli(*base, "--output", tmp_path / "all")
    assert whole.exit_code == 0, whole.output
    films = pd.read_csv(tmp_path / "all" / "groups.csv")
    some = summarize_cli(*base, "--output", tmp_path / "s", "--limit", 15, "--examples", 1, "--min-reviews", 2)
    assert some.exit_code == 0, some.output
    groups = pd.read_csv(tmp_path / "s" / "groups.csv")
    # Whole films only, until about 15 reviews: every chosen film keeps all its reviews.
    assert 15 <= groups["n"].sum() < films["n"].sum()
    assert groups.set_index("group")["n"].to_dict().items() <= films.set_index("group")["n"].to_dict().items()
    aspects = pd.read_csv(tmp_path / "s" / "aspects.csv")
    assert aspects["positive_examples"].dropna().map(lambda cell: len(json.loads(cell))).max() == 1
    assert f"at least 2 reviews ({len(groups)} of {len(groups)})" in (tmp_path / "s" / "report.html").read_text()
    for extra, needle in (
        (["--limit", "-1"], "--limit takes a positive number of reviews"),
        (["--min-reviews", "0"], "min_reviews must be >= 1, got 0"),
        (["--examples", "-2"], "examples must be >= 0, got -2"),
    ):
        bad = summarize_cli(*base, "--output", tmp_path / "bad", *extra)
        assert bad.exit_code == 2 and bad.output.strip().count("\n") == 0 and needle in bad.output, bad.output
