"""A model kind that exists only in the tests: it proves a new kind needs no change outside ``models/``.

It learns one weight per word (the smoothed log-ratio of the word's counts in positive and negative
reviews) and scores a review by the sum of its words' weights. Nothing in ``src/`` knows its name.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from imdb_sentiment.config import Config
from imdb_sentiment.errors import ConfigError
from imdb_sentiment.explain import Explanation, TokenAttribution, make_explanation
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.text import word_spans

KIND = "keyword-test"


@dataclasses.dataclass(frozen=True)
class KeywordConfig(Config):
    smoothing: float = 1.0

    def __post_init__(self) -> None:
        if self.smoothing <= 0:
            raise ConfigError("KeywordConfig: smoothing must be positive")


class KeywordClassifier(SentimentModel):
    kind: ClassVar[str] = KIND
    config_class: ClassVar[type[Config]] = KeywordConfig

    def _fit(self, texts, labels, validation, unlabeled) -> dict[str, list[float]]:
        counts: dict[str, np.ndarray] = {}
        for text, label in zip(texts, labels, strict=True):
            for word, _, _ in word_spans(text.lower()):
                counts.setdefault(word, np.zeros(2))[label] += 1
        alpha = self.resolved_config.smoothing  # type: ignore[attr-defined]
        self.words_ = np.array(sorted(counts), dtype=str)
        self.weights_ = np.array([np.log((counts[w][1] + alpha) / (counts[w][0] + alpha)) for w in self.words_])
        return {}

    def _weights_of(self, words: list[str]) -> np.ndarray:
        at = np.searchsorted(self.words_, words)
        known = (at < len(self.words_)) & (self.words_[np.minimum(at, len(self.words_) - 1)] == words)
        return np.where(known, self.weights_[np.minimum(at, len(self.words_) - 1)], 0.0)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        logits = np.array([self._weights_of([w for w, _, _ in word_spans(t.lower())]).sum() for t in texts])
        positive = 1 / (1 + np.exp(-logits))
        return np.column_stack((1 - positive, positive))

    def _explain(self, text: str, **options: Any) -> Explanation:
        words = word_spans(text)
        weights = self._weights_of([w.lower() for w, _, _ in words]) if words else np.zeros(0)
        tokens = tuple(
            TokenAttribution(token=w, start=s, end=e, attribution=float(a))
            for (w, s, e), a in zip(words, weights, strict=True)
        )
        return make_explanation(text, float(self.predict_proba([text])[0, 1]), "word log-ratios", tokens)

    def _save_weights(self, folder: Path) -> None:
        np.savez(folder / "weights.npz", words=self.words_, weights=self.weights_)

    def _load_weights(self, folder: Path) -> None:
        with np.load(folder / "weights.npz", allow_pickle=False) as saved:
            self.words_, self.weights_ = saved["words"], saved["weights"]
