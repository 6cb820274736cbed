"""Audience: per group (a film, a product, a platform), how many liked it, the rating they would give, and
what they praised or criticised; from an uploaded file, a sample of IMDb's test split, or a folder that
``imdb-sentiment summarize`` wrote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import streamlit as st

from imdb_sentiment.errors import ImdbSentimentError
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.ui import audience, audience_tables, batch, common
from imdb_sentiment.ui.upload import read_upload

UPLOAD, SPLIT, FOLDER = "Upload a file", "IMDb test split (a sample of films)", "Open a summary folder"
#: The time column's choice for "no time column".
NO_TIME = "(none)"
#: The group column's choice for "one group of all reviews" (a file of reviews of one film or product).
NO_GROUP = "(none: all reviews as one group)"
#: Column names tried, in order, as the default group column.
GROUP_COLUMN_NAMES = ("film", "movie", "title", "group", "product", "platform")

limits = common.settings()
entry = common.current()
st.title("Audience by group")
st.caption(
    "Per group: the share of positive reviews and the mean rating (with 95% intervals), and what the "
    "reviews say about each aspect (acting, story, music...). The same figures as imdb-sentiment summarize."
)
source = st.radio("Reviews", [UPLOAD, SPLIT, FOLDER], key="audience_source", horizontal=True)


def fail(exc: Exception) -> NoReturn:
    st.error(common.plain(str(exc)))
    st.stop()


def rated_model() -> SentimentModel:
    """The sidebar's model; stops the page when it has no rating head (summaries need the stars)."""
    model = common.loaded(entry)
    try:
        audience.check_rates(model, entry.name)
    except ImdbSentimentError as exc:
        fail(exc)
    return model


def make(
    key: tuple[Any, ...], summarise: Callable[[Callable[[int, int], object]], audience.Summary], about: bool
) -> None:
    """Run ``summarise`` under a progress bar and keep what it made for ``key``."""
    bar = st.progress(0.0, text="Scoring...")

    def show(done: int, total: int) -> None:
        if done >= total:
            bar.progress(1.0, text=f"Scored {done:,} reviews; summarising the groups...")
        else:
            bar.progress(done / max(total, 1), text=f"Scored {done:,} of {'about ' if about else ''}{total:,} reviews")

    try:
        summary = summarise(show)
    except ImdbSentimentError as exc:
        bar.empty()
        fail(exc)
    bar.empty()
    keep(key, summary)


def keep(key: tuple[Any, ...], summary: audience.Summary) -> None:
    """Keep ``summary`` (and its plots, drawn once) for this session, so that moving a selector below or
    between pages neither scores nor draws again."""
    with st.spinner("Drawing the plots..."):
        pictures = audience_tables.figures(summary)
    st.session_state["audience"] = (key, summary, pictures)
    st.session_state.pop("audience_drill", None)  # the groups of another summary


if source == UPLOAD:
    st.caption(f"Model: {entry.title}")
    model = rated_model()
    upload = st.file_uploader(
        f"CSV, TSV, JSON (Lines) or Parquet file, up to {limits.max_upload_mb} MB",
        type=[s for s in batch.UPLOAD_SUFFIXES if s != "txt"],
        max_upload_size=limits.max_upload_mb,
        key="audience_upload",
    )
    if upload is None:
        st.info(
            "Upload a file with one review per row and, to compare groups, a column naming each review's group "
            "(a film, a product...)."
        )
        st.stop()
    try:
        frame = read_upload(upload.name, upload.getvalue(), limits)  # within the app's row and size limits
    except ImdbSentimentError as exc:
        fail(exc)
    if frame.empty:
        st.error("The file has no rows.")
        st.stop()
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    text_default = batch.default_text_column(frame) or columns[0]
    lower = {c.lower(): c for c in columns if c != text_default}
    group_default = next(
        (lower[n] for n in GROUP_COLUMN_NAMES if n in lower), next((c for c in columns if c != text_default), NO_GROUP)
    )
    pick_text, pick_group, pick_time = st.columns(3)
    text = pick_text.selectbox(
        "Column with the reviews", columns, index=columns.index(text_default), key="audience_text"
    )
    group_choices = [*columns, NO_GROUP]
    group = pick_group.selectbox(
        "Column with the group", group_choices, index=group_choices.index(group_default), key="audience_group_column"
    )
    time = pick_time.selectbox("Column with the time (optional)", [NO_TIME, *columns], key="audience_time")
    chosen = audience.Columns(text=text, group="" if group == NO_GROUP else group, time="" if time == NO_TIME else time)
    key: tuple[Any, ...] = ("upload", upload.file_id, chosen, entry.folder)
    name = upload.name
    if st.button(f"Summarise {len(frame):,} reviews", type="primary"):
        make(
            key,
            lambda show: audience.summarize_upload(model, frame, chosen, limits, name=name, progress=show),
            about=False,
        )
elif source == SPLIT:
    st.caption(f"Model: {entry.title}")
    model = rated_model()
    most = min(25_000, limits.max_rows)
    reviews = int(
        st.number_input(
            "About how many reviews (whole films are drawn at random until there are this many)",
            min_value=1,
            max_value=most,
            value=min(2_000, most),
            step=500,
            key="audience_reviews",
        )
    )
    key = ("split", reviews, entry.folder)
    if st.button(f"Summarise about {reviews:,} test reviews", type="primary"):
        make(key, lambda show: audience.summarize_split(model, reviews, limits, progress=show), about=True)
else:
    folder = st.text_input(
        "Folder written by imdb-sentiment summarize (it holds groups.csv and aspects.csv)",
        key="audience_folder",
        placeholder="/path/to/summary",
    )
    key = ("folder", folder.strip())
    if st.button("Open the folder", type="primary"):
        try:
            opened = audience.read_summary(folder, limits)
        except ImdbSentimentError as exc:
            fail(exc)
        keep(key, opened)

stored = st.session_state.get("audience")
if stored is None or stored[0] != key:
    st.stop()
summary: audience.Summary = stored[1]
pictures: list[tuple[str, bytes]] = stored[2]

st.divider()
st.text(f"Summary of {summary.source}")  # names a file or a folder: shown as text, never as Markdown
if summary.skipped:
    st.warning(f"{summary.skipped:,} rows were not scored (empty, not text, or too long).")
if summary.undated:
    st.warning(common.plain(summary.undated[:1].upper() + summary.undated[1:]))
if summary.groups.empty:
    st.info("No review could be summarised.")
    st.stop()
figures = audience_tables.overview(summary.groups)
for column, (name, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
    column.metric(name, value)

st.subheader("Groups")
by = st.radio("Rank by", list(audience_tables.RANK_BY), horizontal=True, key="audience_rank")
st.dataframe(audience_tables.groups_table(summary.groups, by=by), hide_index=True, width="stretch")
downloads = st.columns(3)
# The tables hold the user's own group names and sentences: formula-like cells are neutralised.
downloads[0].download_button(
    "Download groups.csv", batch.table_csv_bytes(summary.groups), file_name="groups.csv", mime="text/csv",
    on_click="ignore",
)  # fmt: skip
downloads[1].download_button(
    "Download aspects.csv", batch.table_csv_bytes(summary.aspects), file_name="aspects.csv", mime="text/csv",
    on_click="ignore",
)  # fmt: skip
if summary.report is not None:  # escaped throughout by the report's writer
    downloads[2].download_button(
        "Download report.html", summary.report, file_name="report.html", mime="text/html", on_click="ignore"
    )

if pictures:
    st.subheader("Plots")
    for i in range(0, len(pictures), 2):  # two a row: the ranked plots side by side, then the rest
        for column, (caption, png) in zip(st.columns(2), pictures[i : i + 2], strict=False):
            column.image(png, caption=caption)

st.subheader("One group")
names = summary.groups["group"].tolist()
group_name = st.selectbox("Group (largest first)", names, key="audience_drill")
chosen_figures = audience_tables.group_figures(summary.groups, group_name)
for column, (name, (value, interval)) in zip(st.columns(len(chosen_figures)), chosen_figures.items(), strict=True):
    column.metric(name, value)
    if interval:
        column.caption(interval)
if verdicts := audience_tables.group_verdicts(summary.groups, group_name):
    st.text(verdicts)  # from the folder's groups.csv: shown as text, never as Markdown
aspects = audience_tables.group_aspects(summary.aspects, group_name)
if aspects.empty:
    st.info("No sentence of this group's reviews names an aspect.")
    st.stop()
st.dataframe(aspects, hide_index=True, width="stretch")
examples = audience_tables.group_examples(summary.aspects, group_name)
shown = {"p_positive": st.column_config.NumberColumn("P(positive)", format="%.2f")}
for column, side in zip(st.columns(2), ("positive", "negative"), strict=True):
    column.caption(f"Most {side} sentences, with the review each comes from")
    column.dataframe(
        examples[examples["side"] == side].drop(columns="side"), hide_index=True, width="stretch", column_config=shown
    )
