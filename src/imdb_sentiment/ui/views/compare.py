"""Compare: the same review through two models, side by side."""

from __future__ import annotations

import streamlit as st

from imdb_sentiment.explain import to_html
from imdb_sentiment.scoring import predict_one
from imdb_sentiment.ui import analysis, common
from imdb_sentiment.ui.analysis import RATING_HELP

limits = common.settings()
options = common.entries()
st.title("Compare two models")
if len(options) < 2:
    st.info("Only one model is loaded. Start the app with two or more: imdb-sentiment app MODEL_DIR MODEL_DIR")

first = options.index(common.current())
pick_a, pick_b = st.columns(2)
with pick_a:
    model_a = common.pick("Model A", key="compare_a", index=first)
with pick_b:
    model_b = common.pick("Model B", key="compare_b", index=first + 1)
text = st.text_area("Review", key="compare_review", height=160, placeholder="Paste or type a movie review.")
st.button("Compare", type="primary")

problem = analysis.review_problem(text, limits.max_chars)
if problem == "empty":
    st.warning("Enter a review to compare the two models on: the text box is empty.")
    st.stop()
if problem is not None:
    st.error(problem)
    st.stop()

# Attention is left out: the heatmaps are on the Analyse page, and computing them costs time here.
results = [(entry, common.explained(entry, text, attention=False)) for entry in (model_a, model_b)]
labels = []
for column, (entry, explanation) in zip(st.columns(2), results, strict=True):
    with column:
        st.subheader(entry.title)
        predicted = predict_one(
            common.loaded(entry), text, p_positive=None if explanation is None else explanation.p_positive
        )
        labels.append(predicted.label)
        label, probability = st.columns(2)
        label.metric(
            "Prediction", analysis.headline(predicted), help=RATING_HELP if predicted.rating is not None else None
        )
        probability.metric("P(positive)", f"{predicted.p_positive:.3f}")
        if explanation is None:
            continue
        st.html(to_html(explanation))  # the review is escaped by to_html
        st.dataframe(analysis.top_words(explanation, k=5), hide_index=True, width="stretch")

if len(set(labels)) == 2:
    st.info("The two models disagree on this review.")
