"""Batch: upload a table of reviews, pick the text column, score it, look at and download the predictions."""

from __future__ import annotations

import streamlit as st

from imdb_sentiment.errors import ImdbSentimentError
from imdb_sentiment.ui import batch, common
from imdb_sentiment.ui.upload import read_upload

limits = common.settings()
entry = common.current()
st.title("Score a file of reviews")
st.caption(f"Model: {entry.title}")
upload = st.file_uploader(
    f"CSV, TSV, JSON (Lines), Parquet or text file (one review per line), up to {limits.max_upload_mb} MB",
    type=list(batch.UPLOAD_SUFFIXES),
    max_upload_size=limits.max_upload_mb,
)
if upload is None:
    st.info("Upload a file with one review per row; you then pick the column that holds the reviews.")
    st.stop()
try:
    # Within the upload, row and decoded-size limits, checked before the file is read whole.
    frame = read_upload(upload.name, upload.getvalue(), limits)
except ImdbSentimentError as exc:
    st.error(common.plain(str(exc)))
    st.stop()
if frame.empty or not len(frame.columns):
    st.error("The file has no rows to score.")
    st.stop()

columns = [str(c) for c in frame.columns]
frame.columns = columns
default = batch.default_text_column(frame)
column = st.selectbox("Column with the reviews", columns, index=columns.index(default) if default else 0)
# Scoring waits for the button (the column must be chosen first), and the result is kept for this file,
# column and model, so downloading or moving between pages does not score the file again.
key = (upload.file_id, column, entry.folder)
if st.button(f"Score {len(frame):,} reviews", type="primary"):
    bar = st.progress(0.0, text="Scoring...")
    try:
        scored = batch.score_table(
            common.loaded(entry),
            frame,
            column,
            max_chars=limits.max_chars,
            chunk_size=limits.batch_chunk,
            progress=lambda done, total: bar.progress(done / max(total, 1), text=f"Scored {done:,} of {total:,}"),
        )
    except ImdbSentimentError as exc:
        st.error(common.plain(str(exc)))
        st.stop()
    bar.empty()
    st.session_state["batch"] = (key, scored)
stored = st.session_state.get("batch")
if stored is None or stored[0] != key:
    st.stop()
result: batch.BatchResult = stored[1]

if not result.problems.empty:
    st.warning(f"{len(result.problems):,} of {len(frame):,} rows were not scored (empty, not text, or too long).")
    st.dataframe(result.problems, hide_index=True)
if result.predictions.empty:
    st.error(f"No row of column {common.plain(repr(column))} holds a review to score.")
    st.stop()

predictions = result.predictions
positive = int((predictions[result.label_column] == "positive").sum())
figures = st.columns(3 if result.rating_column else 2)
figures[0].metric("Reviews scored", f"{len(predictions):,}")
figures[1].metric("Positive", f"{positive / len(predictions):.1%}")
if result.rating_column:  # the model has a rating head: each row's stars are in the table and the CSV
    figures[2].metric("Mean rating", f"{predictions[result.rating_column].mean():.1f}★")
st.dataframe(predictions, hide_index=True, width="stretch")
st.download_button(
    "Download predictions (CSV)",
    batch.to_csv_bytes(result),
    file_name=f"{upload.name.rsplit('.', 1)[0]}-predictions.csv",
    mime="text/csv",
    on_click="ignore",
)

st.subheader("Sentiment distribution")
st.bar_chart(batch.distribution(result), x_label="P(positive)", y_label="reviews", color=["#dc2626", "#16a34a"])
most_positive, most_negative = batch.extremes(result, k=5)
left, right = st.columns(2)
left.subheader("Most positive")
left.dataframe(most_positive, hide_index=True, width="stretch")
right.subheader("Most negative")
right.dataframe(most_negative, hide_index=True, width="stretch")
