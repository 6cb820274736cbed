"""The Audience page and the rating shown beside predictions: the plain functions (ui/audience.py,
ui/audience_tables.py), the page through Streamlit's AppTest, and the page in a real browser."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import make_rated_reviews
from imdb_sentiment import load_model
from imdb_sentiment.audience.summarize import SummarizeConfig, summarize
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import InputError, ModelError
from imdb_sentiment.scoring import predict_one
from imdb_sentiment.settings import UiSettings
from imdb_sentiment.ui import analysis, audience, audience_tables, batch, launch
from pngcheck import assert_png_image

SCRIPT = "<script>alert('x')</script>"
FORMULA = '=HYPERLINK("http://x")'
#: The generated films and how many reviews each gets (the script-named one is the largest).
FILMS = {SCRIPT: 40, "Film B": 30, FORMULA: 14, "NA": 6}
LIMITS = UiSettings()


def reviews_frame(seed: int = 4) -> pd.DataFrame:
    """Rated generated reviews of :data:`FILMS`, with an id and a date each."""
    n = sum(FILMS.values())
    texts, stars = make_rated_reviews(n, seed=seed)
    films = [film for film, count in FILMS.items() for _ in range(count)]
    dates = pd.date_range("2021-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
    return pd.DataFrame(
        {"id": [f"r{i}" for i in range(n)], "film": films, "review": texts, "date": dates, "stars": stars}
    )


@pytest.fixture(scope="module")
def summary_dir(rated_toy_dir, tmp_path_factory) -> Path:
    """What ``imdb-sentiment summarize --group-column film`` writes for :func:`reviews_frame`."""
    root = tmp_path_factory.mktemp("audience")
    reviews_frame().to_csv(root / "reviews.csv", index=False)
    config = SummarizeConfig(group_column="film", time_column="date", n_boot=20, min_reviews=5)
    score_config = ScoreConfig(text_column="review", workers=1)
    summarize(rated_toy_dir, root / "reviews.csv", root / "summary", config, score_config, progress=False)
    return root / "summary"


@pytest.fixture(scope="module")
def summary(summary_dir) -> audience.Summary:
    return audience.read_summary(summary_dir, LIMITS)


# ------------------------------------------------------------------------------- reading a summary folder
def test_a_summary_folder_is_read_back_with_group_names_as_text(summary, summary_dir):
    groups = summary.groups
    assert groups["group"].tolist() == list(FILMS)  # largest first; "NA" stays a name, not a missing value
    assert groups["n"].tolist() == list(FILMS.values())
    assert groups["share_positive"].between(0, 1).all() and groups["mean_rating"].between(1, 10).all()
    assert set(summary.aspects["group"]) <= set(FILMS) and len(summary.aspects)
    assert summary.report is not None and summary.report.startswith(b"<!DOCTYPE html>")
    assert summary.source == str(summary_dir) and summary.skipped == 0


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda root: root / "missing", "there is no such folder"),
        (lambda root: (root / "file.txt").write_text("x") and root / "file.txt", "it is a file"),
        (lambda root: root, "it has no groups.csv"),
        (lambda root: (root / "groups.csv").write_text("group,n\nA,3\n") and root, "has no column(s) share_positive"),
        (lambda root: (root / "groups.csv").write_bytes(b"\xff\xfe\x00bad") and root, "cannot read groups.csv"),
    ],
)
def test_a_folder_that_is_not_a_summary_is_refused_in_one_line(tmp_path, make, fragment):
    folder = make(tmp_path)
    with pytest.raises(InputError, match="not a folder written by imdb-sentiment summarize") as caught:
        audience.read_summary(folder, LIMITS)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_a_summary_over_the_apps_limits_is_refused(summary_dir):
    with pytest.raises(InputError, match="IMDB_SENTIMENT_MAX_ROWS"):
        audience.read_summary(summary_dir, UiSettings(max_rows=2))
    with pytest.raises(InputError, match="give the path"):
        audience.read_summary("  ", LIMITS)


def test_examples_that_are_not_json_are_left_out(summary_dir, tmp_path):
    folder = shutil.copytree(summary_dir, tmp_path / "copy")
    aspects = pd.read_csv(folder / "aspects.csv")
    aspects["positive_examples"] = "{not json"
    aspects.to_csv(folder / "aspects.csv", index=False)
    (folder / "report.html").unlink()
    opened = audience.read_summary(folder)
    assert opened.report is None
    examples = audience_tables.group_examples(opened.aspects, SCRIPT)
    assert set(examples["side"]) == {"negative"}


# ------------------------------------------------------------------------------------- what is shown
@pytest.mark.parametrize("by", list(audience_tables.RANK_BY))
def test_the_groups_table_is_ranked_with_intervals_as_text(summary, by):
    table = audience_tables.groups_table(summary.groups, by=by)
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert sorted(table["group"]) == sorted(FILMS)
    column = {"mean rating": "mean rating", "share positive": "share positive %", "reviews": "reviews"}[by]
    assert table[column].is_monotonic_decreasing
    assert all(" – " in cell for cell in table["share interval"]) and all(" – " in c for c in table["rating interval"])
    assert "true mean rating" not in table.columns  # an upload has no truth
    # What each group's reviews clearly praise and criticise: text, blank for none (never "nan").
    assert table["praised"].map(type).eq(str).all() and table["criticised"].map(type).eq(str).all()
    assert "nan" not in set(table["praised"]) | set(table["criticised"])


def test_one_groups_verdicts_are_one_line_and_empty_without_any():
    groups = pd.DataFrame(
        {"group": ["A", "B", "C"], "praised": ["acting; music", "", ""], "criticised": ["pacing", "story", ""]}
    )
    lines = [audience_tables.group_verdicts(groups, g) for g in "ABC"]
    assert lines == ["Praised: acting; music. Criticised: pacing.", "Criticised: story.", ""]
    assert audience_tables.group_verdicts(groups.drop(columns=["praised", "criticised"]), "A") == ""  # older folder


def test_the_true_figures_are_shown_when_the_summary_has_them(summary):
    groups = summary.groups.assign(true_share_positive=0.5, true_mean_rating=6.0)
    table = audience_tables.groups_table(groups)
    assert table["true share positive %"].tolist() == [50.0] * 4 and table["true mean rating"].tolist() == [6.0] * 4
    assert audience_tables.overview(groups)["True mean rating"] == "6.00"


def test_the_overview_weights_each_group_by_its_reviews(summary):
    figures = audience_tables.overview(summary.groups)
    groups = summary.groups
    expected = float(np.average(groups["mean_rating"], weights=groups["n"]))
    assert figures == {
        "Reviews": f"{sum(FILMS.values()):,}",
        "Groups": "4",
        "Share positive": f"{np.average(groups['share_positive'], weights=groups['n']):.1%}",
        "Mean rating": f"{expected:.2f}",
    }


def test_the_plots_are_the_reports_figures(summary, tmp_path):
    pictures = audience_tables.figures(summary, min_reviews=5)
    assert [caption for caption, _ in pictures] == [
        "Groups by share positive, with 95% intervals",
        "Groups by mean rating, with 95% intervals",
        "Distribution of ratings",
        "Share of positive mentions per group and aspect",
    ]
    for i, (_, png) in enumerate(pictures):
        (tmp_path / f"{i}.png").write_bytes(png)
        assert_png_image(tmp_path / f"{i}.png")
    no_aspects = audience.Summary(summary.groups, summary.aspects.iloc[:0], None, "x")
    assert len(audience_tables.figures(no_aspects)) == 3
    assert audience_tables.figures(audience.Summary(summary.groups.iloc[:0], summary.aspects, None, "x")) == []


def test_one_groups_figures_aspects_and_example_sentences(summary):
    figures = audience_tables.group_figures(summary.groups, SCRIPT)
    row = summary.groups.set_index("group").loc[SCRIPT]
    assert figures["Reviews"] == ("40", "")
    assert figures["Share positive"][0] == f"{row['share_positive']:.1%}"
    assert figures["Mean rating"] == (
        f"{row['mean_rating']:.2f}",
        f"95% interval {row['mean_rating_low']:.2f} – {row['mean_rating_high']:.2f}",
    )
    aspects = audience_tables.group_aspects(summary.aspects, SCRIPT)
    assert list(aspects.columns) == ["aspect", "mentions", "reviews", "share positive %", "interval"]
    assert aspects["mentions"].is_monotonic_decreasing and len(aspects)
    examples = audience_tables.group_examples(summary.aspects, SCRIPT)
    assert list(examples.columns) == ["aspect", "side", "sentence", "review", "p_positive"]
    assert set(examples["side"]) <= {"positive", "negative"} and len(examples)
    ids = set(reviews_frame().query("film == @SCRIPT")["id"])
    assert set(examples["review"]) <= ids  # the upload's own review ids
    assert audience_tables.group_aspects(summary.aspects, "no such group").empty


def test_the_downloads_neutralise_formula_cells(summary):
    text = batch.table_csv_bytes(summary.groups).decode("utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and text.endswith("\r\n")
    again = pd.read_csv(io.BytesIO(batch.table_csv_bytes(summary.aspects)))
    assert list(again.columns) == list(summary.aspects.columns)


# ------------------------------------------------------------------------------------ making a summary
def test_upload_table_keeps_the_chosen_columns_and_the_ids():
    frame = reviews_frame().assign(review=lambda f: f["review"].astype(object))
    frame.loc[3, "review"] = 42  # not text: left empty, and reported as such by the scorer
    table, id_column = audience.upload_table(frame, audience.Columns(text="review", group="film", time="date"))
    assert id_column == "id" and list(table.columns) == ["review", "film", "date", "id"]
    assert pd.isna(table.loc[3, "review"]) and table.loc[0, "film"] == SCRIPT
    table, id_column = audience.upload_table(frame.drop(columns="id"), audience.Columns(text="review", group="film"))
    assert id_column == "row" and table["row"].tolist() == list(range(1, len(frame) + 1))


@pytest.mark.parametrize(
    ("columns", "fragment"),
    [
        (audience.Columns(text="text", group="film"), "no column 'text' (the reviews)"),
        (audience.Columns(text="review", group="cinema"), "no column 'cinema' (the group)"),
        (audience.Columns(text="review", group="review"), "choose different columns"),
    ],
)
def test_upload_table_refuses_a_missing_or_twice_chosen_column(columns, fragment):
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        audience.upload_table(reviews_frame(), columns)


def test_an_upload_is_summarised_with_progress_as_summarize_does(rated_toy_dir, summary):
    frame = reviews_frame()
    frame.loc[5, "review"] = "   "  # not scored, and counted
    calls: list[tuple[int, int]] = []
    made = audience.summarize_upload(
        load_model(rated_toy_dir),
        frame,
        audience.Columns(text="review", group="film", time="date"),
        UiSettings(batch_chunk=16),
        name="reviews.csv",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert made.source == "reviews.csv by film" and made.skipped == 1
    assert made.groups["n"].tolist() == [FILMS[SCRIPT] - 1, *list(FILMS.values())[1:]]
    assert made.report is not None and SCRIPT.encode() not in made.report  # escaped in the report
    assert calls and all(total == len(frame) for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)  # never goes back


def test_an_upload_says_which_reviews_have_no_date_and_refuses_a_time_column_of_none(rated_toy_dir):
    frame = reviews_frame()
    frame.loc[[0, 1, 2], "date"] = ["soon", None, "2021-13-45"]
    made = audience.summarize_upload(
        load_model(rated_toy_dir), frame, audience.Columns(text="review", group="film", time="date"), LIMITS
    )
    assert made.undated == "3 of 90 reviews have no readable date in column 'date': the trend leaves them out"
    assert (
        audience.summarize_upload(
            load_model(rated_toy_dir), reviews_frame(), audience.Columns(text="review", group="film"), LIMITS
        ).undated
        == ""
    )
    with pytest.raises(InputError, match="the time column 'film' holds no dates"):
        audience.summarize_upload(
            load_model(rated_toy_dir), frame, audience.Columns(text="review", group="id", time="film"), LIMITS
        )


def test_an_upload_without_a_group_column_is_one_group_of_all_reviews(rated_toy_dir):
    frame = reviews_frame()[["review", "stars"]]
    made = audience.summarize_upload(
        load_model(rated_toy_dir), frame, audience.Columns(text="review", group=""), LIMITS, name="one.csv"
    )
    assert made.source == "one.csv, all reviews"
    assert made.groups["group"].tolist() == ["all reviews"] and made.groups["n"].tolist() == [len(frame)]
    assert set(made.aspects["group"]) == {"all reviews"}


def test_a_model_without_a_rating_head_is_refused_before_scoring(toy_ngram_dir):
    with pytest.raises(ModelError, match=r"no rating head.*train-rating"):
        audience.summarize_upload(
            load_model(toy_ngram_dir), reviews_frame(), audience.Columns("review", "film"), LIMITS
        )
    with pytest.raises(ModelError, match="no rating head"):
        audience.summarize_split(load_model(toy_ngram_dir), 10, LIMITS)


def test_the_test_split_is_summarised_by_film_but_never_downloaded(rated_toy_dir, fake_imdb_archive):
    model = load_model(rated_toy_dir)
    with pytest.raises(InputError, match=r"IMDb dataset is not on this server.*IMDB_DATA"):
        audience.summarize_split(model, 10, LIMITS)  # no IMDB_DATA, nothing in the cache
    made = audience.summarize_split(model, 10, LIMITS, data=fake_imdb_archive)
    assert made.groups["n"].sum() >= 10 and made.groups["group"].str.startswith("tt").all()
    assert "true_mean_rating" in made.groups.columns
    assert "true mean rating" in audience_tables.groups_table(made.groups).columns


def test_scored_so_far_reads_the_scorings_progress_record(tmp_path):
    assert audience.scored_so_far(tmp_path, 100) == 0
    record = tmp_path / "reviews.parquet.partial" / "progress.json"
    record.parent.mkdir()
    record.write_text(json.dumps({"rows": 64}))
    assert audience.scored_so_far(tmp_path, 100) == 64
    (tmp_path / "reviews.parquet").write_bytes(b"")
    assert audience.scored_so_far(tmp_path, 100) == 100


# ------------------------------------------------------------------------------- ratings beside labels
def test_predictions_carry_the_rating_when_the_model_rates(rated_toy_dir, toy_ngram_dir):
    text = "the film story cast music masterpiece again saw."
    rated = predict_one(load_model(rated_toy_dir), text)
    assert rated.rating in (7, 8, 9, 10) and analysis.headline(rated) == f"{rated.label} · {rated.rating}★"
    again = predict_one(load_model(rated_toy_dir), text, p_positive=rated.p_positive)
    assert again == rated  # from an explanation's P(positive): the same prediction
    plain = predict_one(load_model(toy_ngram_dir), text)
    assert plain.rating is None and analysis.headline(plain) == plain.label


def test_the_batch_table_and_its_csv_gain_the_rating_column(rated_toy_dir, toy_ngram_dir):
    frame = reviews_frame()[["id", "review"]].head(12)
    frame.loc[2, "review"] = ""
    result = batch.score_table(load_model(rated_toy_dir), frame, "review", max_chars=1000, chunk_size=5)
    assert result.rating_column == "rating"
    assert list(result.predictions.columns) == ["label", "p_positive", "rating", "id", "review"]
    assert set(result.predictions["rating"]) <= {1, 2, 3, 4, 7, 8, 9, 10} and len(result.predictions) == 11
    again = pd.read_csv(io.BytesIO(batch.to_csv_bytes(result)))
    assert again["rating"].tolist() == result.predictions["rating"].tolist()
    positive, _ = batch.extremes(result, k=2)
    assert list(positive.columns) == ["p_positive", "rating", "review"]
    unrated = batch.score_table(load_model(toy_ngram_dir), frame, "review", max_chars=1000)
    assert unrated.rating_column is None and "rating" not in unrated.predictions.columns


# ------------------------------------------------------------------------------------ the page (AppTest)
@pytest.fixture
def app_test(rated_toy_dir, monkeypatch):
    pytest.importorskip("streamlit", reason="the app extra is not installed: pip install -e '.[app]'")
    from streamlit.testing.v1 import AppTest

    def make(*dirs, page: str = "audience"):
        monkeypatch.setenv(launch.MODELS_ENV, os.pathsep.join(str(d) for d in dirs or [rated_toy_dir]))
        at = AppTest.from_file(str(launch.APP_PATH), default_timeout=120)
        at.run()
        if page != "analyse":
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, at.exception
        return at

    return make


def messages(elements) -> str:
    """The elements' text, without the backslashes that escape Markdown in messages quoting user input."""
    return re.sub(r"\\(.)", r"\1", " ".join(str(e.value) for e in elements))


def test_the_page_opens_a_summary_folder_and_drills_into_a_group(app_test, summary_dir):
    at = app_test()
    at.radio(key="audience_source").set_value("Open a summary folder").run()
    at.text_input(key="audience_folder").input(str(summary_dir)).run()
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert messages(at.text) == f"Summary of {summary_dir}"
    ranked = at.dataframe[0].value
    assert sorted(ranked["group"]) == sorted(FILMS)
    assert len(at.image) == 4
    assert at.selectbox(key="audience_drill").value == SCRIPT  # the largest group
    aspects, positive, negative = (d.value for d in at.dataframe[1:4])
    assert len(aspects) and {"sentence", "review"} <= set(positive.columns) and "sentence" in negative.columns
    at.selectbox(key="audience_drill").set_value("Film B").run()
    assert not at.exception and {m.label: m.value for m in at.metric}["Reviews"] == "30"
    at.radio(key="audience_rank").set_value("reviews").run()
    assert at.dataframe[0].value["group"].tolist() == list(FILMS)


def test_the_page_says_why_a_folder_cannot_be_opened(app_test, tmp_path):
    at = app_test()
    at.radio(key="audience_source").set_value("Open a summary folder").run()
    at.text_input(key="audience_folder").input(str(tmp_path)).run()
    at.button[0].click().run()
    assert not at.exception
    assert "not a folder written by imdb" in messages(at.error) and "groups.csv" in messages(at.error)
    assert not at.dataframe


def test_the_page_says_when_the_imdb_dataset_is_not_on_the_server(app_test):
    at = app_test()
    at.radio(key="audience_source").set_value("IMDb test split (a sample of films)").run()
    at.number_input(key="audience_reviews").set_value(500).run()
    at.button[0].click().run()
    assert not at.exception
    assert "IMDb dataset is not on this server" in messages(at.error) and not at.dataframe


def test_the_page_refuses_a_model_without_a_rating_head(app_test, toy_ngram_dir):
    at = app_test(toy_ngram_dir)
    assert not at.exception
    assert "no rating head" in messages(at.error) and "train-rating" in messages(at.error)


def test_the_analyse_page_shows_the_rating_beside_the_label(app_test):
    at = app_test(page="analyse")
    at.text_area(key="review").input("the film story cast music masterpiece again saw.").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Prediction"].startswith("positive · ")
    assert {m.label: m.value for m in at.metric}["Prediction"].endswith("★")
    # What it says about each aspect it names, judged on the clause as Audience judges it.
    at.text_area(key="review").input("The acting was superb, but the plot was dull and stupid. <b>Music</b>!").run()
    assert not at.exception
    aspects = next(d.value for d in at.dataframe if "aspect" in d.value.columns)
    assert aspects["aspect"].tolist() == ["acting", "story", "music"]
    assert aspects["clause"].tolist()[:2] == ["The acting was superb,", "but the plot was dull and stupid."]
    assert set(aspects["says"]) <= {"positive", "negative"} and aspects["p_positive"].between(0, 1).all()


def test_aspect_table_is_empty_for_a_review_that_names_no_aspect(rated_toy_dir):
    table = analysis.aspect_table(load_model(rated_toy_dir), "Nothing to see here.", 0.4)
    assert table.empty and list(table.columns) == ["aspect", "says", "p_positive", "clause"]


# ------------------------------------------------------------------------------------ the page (browser)
@pytest.mark.slow
def test_the_audience_page_in_a_real_browser(rated_toy_dir, summary_dir, tmp_path):
    pytest.importorskip("streamlit", reason="the app extra is not installed: pip install -e '.[app]'")
    pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[dev]'")
    from playwright.sync_api import expect, sync_playwright

    import test_ui_browser as browser_test  # its browser, port and server helpers

    chromium = os.environ.get("IMDB_SENTIMENT_CHROMIUM") or browser_test.find_chromium()
    if chromium is None:
        pytest.skip(f"no Chromium browser: none of {', '.join(browser_test.BROWSERS)} is on the PATH")
    frame = reviews_frame(seed=7)
    csv = tmp_path / "reviews.csv"
    frame.to_csv(csv, index=False)
    single = tmp_path / "one.csv"
    frame[["review"]].to_csv(single, index=False)
    dialogs: list[str] = []
    with browser_test.running_app(rated_toy_dir, tmp_path) as (url, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.set_default_timeout(browser_test.STEP_MS)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            page.goto(url)
            page.get_by_role("textbox", name="Review").fill("the film story cast music masterpiece again.")
            page.get_by_role("button", name="Analyse").click()
            expect(page.get_by_test_id("stMetricValue").first).to_contain_text("★")

            page.get_by_role("link", name="Audience").click()
            page.get_by_text("Open a summary folder").click()
            page.get_by_role("textbox", name="Folder written by imdb-sentiment summarize").fill(str(summary_dir))
            page.get_by_role("button", name="Open the folder").click()
            expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
            expect(page.get_by_test_id("stImage").first).to_be_visible()
            image = page.get_by_test_id("stImage").first.locator("img")
            # Visible is not yet decoded: wait (up to the step timeout) for a real picture, not a broken one.
            page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=image.element_handle())
            expect(page.get_by_text("One group")).to_be_visible()
            # The largest group is drilled into: its name, a <script> tag, is shown as text.
            expect(page.get_by_role("combobox", name="Group (largest first)")).to_have_value(SCRIPT)
            expect(page.get_by_text("Most positive sentences, with the review each comes from")).to_be_visible()
            assert page.get_by_test_id("stDataFrame").count() >= 4
            assert page.locator("script").filter(has_text="alert('x')").count() == 0
            expect(page.get_by_role("button", name="Download groups.csv")).to_be_visible()
            shot = tmp_path / "ui-audience.png"
            page.screenshot(path=str(shot), full_page=True)
            browser_test.keep(shot)

            # An upload, summarised in the app: the review and group columns are found by name.
            page.get_by_text("Upload a file").click()
            page.locator("input[type=file]").set_input_files(str(csv))
            page.get_by_role("button", name=f"Summarise {len(frame)} reviews").click()
            expect(page.get_by_text("Summary of reviews.csv by film")).to_be_visible()
            expect(page.get_by_role("combobox", name="Group (largest first)")).to_have_value(SCRIPT)
            expect(page.get_by_test_id("stImage").first).to_be_visible()

            # A file of reviews alone: one group of all of them (the group column's default is "none").
            page.locator("input[type=file]").set_input_files(str(single))
            group_column = page.get_by_role("combobox", name="Column with the group")
            expect(group_column).to_have_value("(none: all reviews as one group)")  # the new file is read
            page.get_by_role("button", name=f"Summarise {len(frame)} reviews").click()
            expect(page.get_by_text("Summary of one.csv, all reviews")).to_be_visible(timeout=browser_test.STEP_MS)
            expect(page.get_by_role("combobox", name="Group (largest first)")).to_have_value("all reviews")
        finally:
            browser.close()
    assert dialogs == [], "a script in a group name ran"
