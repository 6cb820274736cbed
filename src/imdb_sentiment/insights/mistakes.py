"""Where a model goes wrong: its most confident mistakes, and its accuracy by star rating and by length.

Predicted labels follow :func:`imdb_sentiment.labels.label_ids` (positive iff ``p_positive >= 0.5``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from imdb_sentiment.errors import InputError
from imdb_sentiment.insights.dataset import review_lengths
from imdb_sentiment.labels import LABELS, label_ids


def _check_proba(frame: pd.DataFrame, proba: np.ndarray, what: str = "proba") -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape != (len(frame), 2):
        raise InputError(
            f"{what} must have shape ({len(frame)}, 2), one row per review of the frame; got {proba.shape}"
        )
    return proba


def most_confident_errors(frame: pd.DataFrame, proba: np.ndarray, *, k: int = 5) -> pd.DataFrame:
    """The ``k`` reviews a model got wrong with the highest confidence.

    Args:
        frame: Reviews with ``text`` and ``label`` (and usually ``id``, ``rating``) columns.
        proba: The model's ``(len(frame), 2)`` probabilities.
        k: How many to return.

    Returns:
        Those rows of ``frame`` (same columns, original index), strongest mistake first, with ``true``,
        ``predicted`` (label names), ``p_positive`` and ``confidence`` (probability of the wrong label) added.

    Raises:
        InputError: ``proba`` does not match ``frame``.
    """
    proba = _check_proba(frame, proba)
    labels = frame["label"].to_numpy("int64")
    predicted = label_ids(proba[:, 1])
    out = frame.assign(
        true=[LABELS[i] for i in labels],
        predicted=[LABELS[i] for i in predicted],
        p_positive=proba[:, 1],
        confidence=proba[np.arange(len(proba)), predicted],
    )[predicted != labels]
    return out.sort_values("confidence", ascending=False, kind="stable").head(k)


def _accuracy_by(groups: pd.Series, frame: pd.DataFrame, probas: Mapping[str, np.ndarray]) -> pd.DataFrame:
    labels = frame["label"].to_numpy("int64")
    columns: dict[str, Any] = {"reviews": pd.Series(1, index=frame.index).groupby(groups, observed=True).sum()}
    for name, proba in probas.items():
        proba = _check_proba(frame, proba, what=f"probabilities of {name!r}")
        correct = pd.Series(label_ids(proba[:, 1]) == labels, index=frame.index)
        columns[name] = correct.groupby(groups, observed=True).mean()
    return pd.DataFrame(columns)


def accuracy_by_rating(frame: pd.DataFrame, probas: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Accuracy of each model per star rating: mistakes gather near the middle of the scale (4 and 7).

    Args:
        frame: Reviews with ``label`` and ``rating`` columns.
        probas: Model name -> its ``(len(frame), 2)`` probabilities.

    Returns:
        Index ``rating`` (those present); columns ``reviews`` then one accuracy column per model.

    Raises:
        InputError: a probability array does not match ``frame``.
    """
    return _accuracy_by(frame["rating"].astype(int).rename("rating"), frame, probas)


def accuracy_by_length(frame: pd.DataFrame, probas: Mapping[str, np.ndarray], *, bins: int = 4) -> pd.DataFrame:
    """Accuracy of each model per review length, in ``bins`` groups of about equal size (length quantiles).

    Args:
        frame: Reviews with ``text`` and ``label`` columns.
        probas: Model name -> its ``(len(frame), 2)`` probabilities.
        bins: Number of length groups (fewer when lengths repeat).

    Returns:
        Index ``words`` (each group's shortest and longest review in words, e.g. ``"87-126"``, shortest
        group first); columns ``reviews`` then one accuracy column per model.

    Raises:
        InputError: a probability array does not match ``frame``, or ``bins`` < 1.
    """
    if bins < 1:
        raise InputError(f"bins must be >= 1, got {bins}")
    words = pd.Series(review_lengths(frame["text"]), index=frame.index)
    # When every review has the same length qcut finds no edges and returns NaN: one group then.
    codes = pd.qcut(words, q=bins, duplicates="drop", labels=False).fillna(0).astype(np.int64)
    # Name each group by the shortest and longest review in it ("87-126"), in length order.
    spans = words.groupby(codes).agg(["min", "max"])
    names = [f"{lo}-{hi}" for lo, hi in zip(spans["min"], spans["max"], strict=True)]
    groups = pd.Series(pd.Categorical.from_codes(codes.to_numpy(), names, ordered=True), index=frame.index)
    return _accuracy_by(groups.rename("words"), frame, probas)
