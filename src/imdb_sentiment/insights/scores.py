"""Models side by side: each one's predictions on the same reviews, timed, and a table of their figures.

Works for the library's models and for anything else with ``predict_proba`` (the scikit-learn peer of
:mod:`imdb_sentiment.peer`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from imdb_sentiment.evaluate import compute_metrics
from imdb_sentiment.models.inputs import check_labels, check_texts


class Predictor(Protocol):
    """Anything with ``predict_proba(texts) -> (n, 2)``: a :class:`SentimentModel` or a scikit-learn pipeline."""

    def predict_proba(self, texts: Sequence[str], /) -> np.ndarray: ...


@dataclasses.dataclass(frozen=True)
class ModelScore:
    """One model's predictions on an evaluation set and what they add up to."""

    name: str
    #: ``(n, 2)`` probabilities, columns ``[negative, positive]``.
    proba: np.ndarray = dataclasses.field(repr=False)
    #: :func:`~imdb_sentiment.evaluate.compute_metrics` of ``proba``.
    metrics: dict[str, Any]
    train_seconds: float | None = None
    train_reviews: int | None = None


def score_model(
    name: str,
    model: Predictor,
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    train_seconds: float | None = None,
    train_reviews: int | None = None,
) -> ModelScore:
    """Predict ``texts`` with ``model``, timed, and compute the metrics.

    Args:
        name: How the model is named in tables.
        model: A :class:`~imdb_sentiment.SentimentModel` or anything with ``predict_proba``.
        texts: Evaluation reviews.
        labels: Their 0/1 labels.
        train_seconds: Training time; default: the model's ``info_["training"]["seconds"]`` if it has one.
        train_reviews: Reviews it was trained on; default: ``info_["training"]["reviews"]``.

    Returns:
        The :class:`ModelScore`.

    Raises:
        InputError: bad texts or labels.
    """
    texts = check_texts(texts)
    y = check_labels(labels, len(texts))
    training = (getattr(model, "info_", None) or {}).get("training") or {}
    start = time.perf_counter()
    proba = np.asarray(model.predict_proba(texts), dtype=np.float64)
    metrics = compute_metrics(y, proba, seconds=time.perf_counter() - start)
    return ModelScore(
        name=name,
        proba=proba,
        metrics=metrics,
        train_seconds=train_seconds if train_seconds is not None else training.get("seconds"),
        train_reviews=train_reviews if train_reviews is not None else training.get("reviews"),
    )


def comparison_table(scores: Iterable[ModelScore]) -> pd.DataFrame:
    """The models' figures side by side.

    Args:
        scores: What :func:`score_model` returned for each model.

    Returns:
        One row per model, best accuracy first: ``accuracy``, ``log_loss``, ``roc_auc``, ``f1``,
        ``reviews_per_s`` (inference), ``train_seconds``, ``train_reviews``, ``n`` (reviews scored).
    """
    rows = {
        score.name: {
            "accuracy": score.metrics["accuracy"],
            "log_loss": score.metrics["log_loss"],
            "roc_auc": score.metrics["roc_auc"],
            "f1": score.metrics["f1"],
            "reviews_per_s": score.metrics["reviews_per_s"],
            "train_seconds": score.train_seconds,
            "train_reviews": score.train_reviews,
            "n": score.metrics["n"],
        }
        for score in scores
    }
    columns = ["accuracy", "log_loss", "roc_auc", "f1", "reviews_per_s", "train_seconds", "train_reviews", "n"]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    return table.sort_values("accuracy", ascending=False, kind="stable")
