"""A keyword model whose probabilities and explanations are known by hand, for explanation tests.

``good`` makes a review positive (p = 0.9), else ``bad`` makes it negative (p = 0.1), else p = 0.5; its
explanations give ``good`` +2, ``bad`` -2 and every other word 0, so the words it points at are exactly
the ones it relies on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from imdb_sentiment.explain import Explanation, TokenAttribution, make_explanation
from imdb_sentiment.text import word_spans

WEIGHTS = {"good": 2.0, "bad": -2.0}


def p_positive(text: str) -> float:
    words = {w.lower() for w, _, _ in word_spans(text)}
    return 0.9 if "good" in words else 0.1 if "bad" in words else 0.5


class KeywordModel:
    """Duck-types the parts of a model that explanations use; remembers the options ``explain`` got."""

    kind = "keyword"

    def __init__(self) -> None:
        self.options: list[dict[str, Any]] = []

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        p = np.array([p_positive(t) for t in texts], dtype=np.float64)
        return np.column_stack([1 - p, p])

    def explain(self, text: str, **options: Any) -> Explanation:
        self.options.append(options)
        tokens = tuple(TokenAttribution(w, s, e, WEIGHTS.get(w.lower(), 0.0)) for w, s, e in word_spans(text))
        return make_explanation(text, p_positive(text), "keyword weights", tokens)
