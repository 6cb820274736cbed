"""What the Analyse, Compare and Model report pages show, computed without Streamlit (and tested so).

Everything is the library's: predictions and explanations from the model, the highlighted review from
:func:`imdb_sentiment.explain.to_html`, the heatmaps from :func:`~imdb_sentiment.explain.plot_attention`
and :func:`~imdb_sentiment.plots.plot_confusion_matrix`; here they are only turned into tables and
PNG bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from imdb_sentiment.explain import Explanation
from imdb_sentiment.labels import Prediction
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.scoring import text_problem

#: Metrics shown in the model report, in this order, when the manifest has them, and how each is written.
REPORT_METRICS = {
    "accuracy": "{:.2%}",
    "f1": "{:.4f}",
    "f1_macro": "{:.4f}",
    "roc_auc": "{:.4f}",
    "log_loss": "{:.4f}",
    "n": "{:,}",
    "reviews_per_s": "{:,.0f}",
}

#: The tooltip of a prediction shown with its stars.
RATING_HELP = "★: the rating out of 10 the model's rating head predicts (the median of its distribution over stars)."


def review_problem(text: str, max_chars: int) -> str | None:
    """Why ``text`` cannot be analysed, or ``None`` when it can: :func:`imdb_sentiment.scoring.text_problem`
    (the check of every surface), with the length problem reworded for the page."""
    problem = text_problem(text, max_chars)
    if problem is None or len(text) <= max_chars:
        return problem
    return (
        f"The review is {len(text):,} characters long; the limit is {max_chars:,} "
        "(IMDB_SENTIMENT_MAX_CHARS). Shorten it, or use the Batch page for many reviews."
    )


def headline(predicted: Prediction) -> str:
    """The label, and the predicted stars beside it when there are any: ``positive · 8★``."""
    return predicted.label if predicted.rating is None else f"{predicted.label} · {predicted.rating}★"


def aspect_table(model: SentimentModel, text: str, p_positive: float) -> pd.DataFrame:
    """What the review says about each aspect it names, in reading order: aspect, says (positive or
    negative), P(positive) of the clause, and the clause (as ``summarize`` reads it)."""
    from imdb_sentiment.audience.polarity import review_aspects

    said = review_aspects(model, text, p_positive)
    return pd.DataFrame(
        {
            "aspect": [s["aspect"] for s in said],
            "says": [s["label"] for s in said],
            "p_positive": [s["p_positive"] for s in said],
            "clause": [s["clause"] for s in said],
        }
    )


def explain(model: SentimentModel, text: str, *, attention: bool = True) -> Explanation:
    """The model's explanation of ``text``; with ``attention``, attention weights where the model has any."""
    return model.explain(text, attention=attention)


def top_words(explanation: Explanation, k: int = 10) -> pd.DataFrame:
    """The ``k`` words that pushed hardest towards each side: columns word, attribution, towards."""
    rows = [
        {"word": t.token, "attribution": round(t.attribution, 4), "towards": "positive" if sign > 0 else "negative"}
        for sign in (1, -1)
        for t in explanation.top(k, sign=sign)
    ]
    return pd.DataFrame(rows, columns=["word", "attribution", "towards"])


def top_words_chart(words: pd.DataFrame) -> pd.DataFrame:
    """:func:`top_words` for a bar chart: one row per distinct word (a word listed once per occurrence is
    summed), most positive first, its attribution in a ``positive`` or a ``negative`` column so that each
    side gets its own colour."""
    totals = words.groupby("word", sort=False)["attribution"].sum().sort_values(ascending=False)
    positive = totals.where(totals > 0, 0.0)
    return pd.DataFrame({"word": totals.index, "positive": positive.values, "negative": (totals - positive).values})


def attention_png(explanation: Explanation, *, layer: int | None, head: int | None) -> bytes:
    """The attention heatmap as PNG bytes: one layer and head, a layer's mean (``head=None``), or the
    rollout over all layers (``layer=None``)."""
    from imdb_sentiment.explain import plot_attention

    with tempfile.TemporaryDirectory() as tmp:
        return plot_attention(explanation, Path(tmp) / "attention.png", layer=layer, head=head).read_bytes()


def confusion_png(matrix: list[list[int]], *, title: str) -> bytes:
    """The confusion matrix heatmap (counts and row shares) as PNG bytes."""
    from imdb_sentiment.plots import plot_confusion_matrix

    with tempfile.TemporaryDirectory() as tmp:
        return plot_confusion_matrix(matrix, Path(tmp) / "confusion.png", title=title).read_bytes()


def metrics_table(metrics: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The stored metrics as text, one column per split (validation before test), one row per metric."""
    splits = sorted(metrics, key=lambda s: ({"validation": 0, "test": 1}.get(s, 2), s))
    rows = {
        name.replace("_", " "): [
            "" if metrics[split].get(name) is None else fmt.format(metrics[split][name]) for split in splits
        ]
        for name, fmt in REPORT_METRICS.items()
        if any(metrics[split].get(name) is not None for split in splits)
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=splits)


def reconfigured_lines(manifest: Mapping[str, Any]) -> list[str]:
    """One sentence per time the model was copied with other inference settings (``reconfigure``), oldest first."""
    lines = []
    for step in manifest.get("reconfigured") or []:
        changes = "; ".join(f"{key} {c['was']!r} → {c['now']!r}" for key, c in step.get("changes", {}).items())
        before = (step.get("previous_validation") or {}).get("accuracy")
        was = f" (validation accuracy before: {before:.2%})" if before is not None else ""
        lines.append(f"Copied from {step.get('from')} with {changes}{was}.")
    return lines


def per_class_table(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Precision, recall, F1 and support of each class for one split (empty when not stored)."""
    per_class = metrics.get("per_class") or {}
    return pd.DataFrame.from_dict(per_class, orient="index")
