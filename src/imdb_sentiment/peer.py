"""The peer every figure is compared with: scikit-learn's TF-IDF (1-2 grams) + logistic regression.

A well-known, strong, fast baseline measured in the same run as our models (``bench/accuracy.py``, the
notebook), so that each of them is judged against it rather than against a number from elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from imdb_sentiment.models.inputs import check_labels, check_texts

#: How the peer is named in comparison tables.
PEER_NAME = "peer: TfidfVectorizer(1-2) + LogisticRegression"


def fit_peer(texts: Sequence[str], labels: Sequence[int] | np.ndarray) -> tuple[Any, float]:
    """Fit the peer every figure is compared with: scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2))``
    then ``LogisticRegression()``, both with their defaults (as ``bench/accuracy.py`` measures it).

    Args:
        texts: Training reviews.
        labels: Their 0/1 labels.

    Returns:
        ``(pipeline, seconds)``: the fitted pipeline (``predict_proba`` columns ``[negative, positive]``)
        and how long fitting took.

    Raises:
        InputError: bad texts or labels.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = check_texts(texts)
    y = check_labels(labels, len(texts))
    start = time.perf_counter()
    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
    pipeline.fit(texts, y)
    return pipeline, time.perf_counter() - start
