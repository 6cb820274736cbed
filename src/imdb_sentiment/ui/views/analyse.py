"""Analyse: one review -> the label, its probability, the words that decided it (and attention heatmaps)."""

from __future__ import annotations

import streamlit as st

from imdb_sentiment.explain import to_html
from imdb_sentiment.scoring import predict_one
from imdb_sentiment.ui import analysis, common
from imdb_sentiment.ui.analysis import RATING_HELP

limits = common.settings()
entry = common.current()
st.title("Analyse a review")
st.caption(f"Model: {entry.title}")
text = st.text_area(
    "Review", key="review", height=200, placeholder="Paste or type a movie review, then press Analyse (or Ctrl+Enter)."
)
# The text box hands its value over when it loses focus; the button is there to be that moment. What is
# shown depends on the text only, so it stays when a selector below makes the page run again.
st.button("Analyse", type="primary")

problem = analysis.review_problem(text, limits.max_chars)
if problem == "empty":
    st.warning("Enter a review to analyse: the text box is empty.")
    st.stop()
if problem is not None:
    st.error(problem)
    st.stop()

explanation = common.explained(entry, text)
# Without an explanation (the reason is shown above) the prediction needs the model run; with one, only
# the rating head (when the model has one) runs, on the explanation's P(positive).
predicted = predict_one(common.loaded(entry), text, p_positive=None if explanation is None else explanation.p_positive)
label, probability, positive = st.columns(3)
label.metric("Prediction", analysis.headline(predicted), help=RATING_HELP if predicted.rating is not None else None)
probability.metric("Probability", f"{predicted.probability:.1%}")
positive.metric("P(positive)", f"{predicted.p_positive:.3f}")
if explanation is None:
    st.stop()

st.subheader("Why")
st.caption("Green words pushed towards positive, red towards negative; hover a word for its value.")
st.html(to_html(explanation))  # to_html escapes the review: nothing the user typed is rendered as HTML

words = analysis.top_words(explanation, k=10)
if words.empty:
    st.info("No word moved the prediction: the model knows none of them.")
else:
    table, chart = st.columns(2)
    table.dataframe(words, hide_index=True, width="stretch")
    chart.bar_chart(
        analysis.top_words_chart(words),
        x="word",
        y=["negative", "positive"],
        y_label="attribution (log-odds of positive)",
        color=["#dc2626", "#16a34a"],
        horizontal=True,
        sort=False,
    )

aspects = analysis.aspect_table(common.loaded(entry), text, explanation.p_positive)
if len(aspects):
    st.subheader("What it says about")
    st.caption("Each aspect the review names (acting, story, music...), judged on its clause as Audience does.")
    st.dataframe(
        aspects,
        hide_index=True,
        width="stretch",
        column_config={"p_positive": st.column_config.NumberColumn("P(positive)", format="%.2f")},
    )

with st.expander("Details"):
    st.json({"method": explanation.method, "details": explanation.details})

if explanation.attention is not None:
    st.subheader("Attention")
    layers, heads = explanation.attention.shape[:2]
    # Plain string options: they keep the widgets' state simple; the dicts map them back to indices.
    layer_of = {"rollout (all layers)": None, **{f"layer {i}": i for i in range(layers)}}
    head_of = {"mean over heads": None, **{f"head {i}": i for i in range(heads)}}
    pick_layer, pick_head = st.columns(2)
    layer = layer_of[pick_layer.selectbox("Layer", list(layer_of), key="attention_layer")]
    head = head_of[
        pick_head.selectbox(
            "Head",
            list(head_of),
            disabled=layer is None,
            help="The rollout always mixes every head.",
            key="attention_head",
        )
    ]
    st.image(analysis.attention_png(explanation, layer=layer, head=None if layer is None else head))
elif common.loaded(entry).shows_attention:
    st.caption("No attention heatmap for this review.")
