"""The records of an explanation: which words pushed a prediction towards *positive* or *negative*.

Every model kind explains through :meth:`SentimentModel.explain <imdb_sentiment.models.base.SentimentModel.explain>`,
which returns an :class:`Explanation`. Attributions are in the same unit for every kind -- the log-odds of
*positive*, ``log(p / (1 - p))`` -- and on the same words (:func:`imdb_sentiment.text.word_spans`), so the
explanations of two models can be compared word by word and an ensemble's are its members' weighted sum.

This module holds the records and the helpers the models build them with; it draws nothing and imports
no model (:mod:`imdb_sentiment.explain.render` shows explanations).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from imdb_sentiment.errors import InputError
from imdb_sentiment.labels import Prediction
from imdb_sentiment.text import word_spans


@dataclasses.dataclass(frozen=True)
class TokenAttribution:
    """One word of the review and how much it pushed the prediction towards *positive* (negative: away)."""

    token: str
    #: Character span of the word in the review as given (``text[start:end] == token``).
    start: int
    end: int
    #: Signed contribution to the log-odds of *positive*.
    attribution: float


@dataclasses.dataclass(frozen=True)
class Explanation:
    """Why a model predicted what it did for one review.

    JSON-serialisable through :meth:`to_dict` / :meth:`to_json`; ``attention`` (transformers only, an array
    of shape ``(layers, heads, pieces, pieces)``) is left out of the JSON unless asked for.
    """

    text: str
    label: str
    #: Probability of the predicted label.
    probability: float
    p_positive: float
    #: How the attributions were computed, e.g. ``"exact linear contributions"``.
    method: str
    tokens: tuple[TokenAttribution, ...]
    #: Method-specific figures: the baseline, the integrated-gradients convergence delta, the intercept ...
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Word pieces and attention weights for transformer models, else ``None``.
    pieces: tuple[str, ...] | None = None
    attention: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)

    def top(self, k: int = 10, *, sign: int = 0) -> list[TokenAttribution]:
        """The ``k`` words with the largest absolute attribution.

        Args:
            k: How many words.
            sign: 1 / -1: only words pushing towards / away from *positive*; 0: both.

        Returns:
            Strongest first.
        """
        tokens = [t for t in self.tokens if sign == 0 or np.sign(t.attribution) == sign]
        return sorted(tokens, key=lambda t: -abs(t.attribution))[:k]

    def to_dict(self, *, attention: bool = False) -> dict[str, Any]:
        """Plain JSON-compatible values; ``attention=True`` includes the attention weights as nested lists."""
        out: dict[str, Any] = {
            "text": self.text,
            "label": self.label,
            "probability": self.probability,
            "p_positive": self.p_positive,
            "method": self.method,
            "tokens": [dataclasses.asdict(t) for t in self.tokens],
            "details": self.details,
        }
        if self.pieces is not None:
            out["pieces"] = list(self.pieces)
        if attention and self.attention is not None:
            out["attention"] = np.round(self.attention, 5).tolist()
        return out

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string (keyword arguments go to :meth:`to_dict`)."""
        return json.dumps(self.to_dict(**kwargs))


def fold_onto_words(
    text: str, spans: Sequence[tuple[int, int]], values: Sequence[float] | np.ndarray
) -> tuple[tuple[TokenAttribution, ...], float]:
    """Add up attributions given on character spans (word pieces, n-grams) onto the review's words.

    A span's value goes to the words it overlaps, shared in proportion to the characters of each word it
    covers.

    Args:
        text: The review.
        spans: ``(start, end)`` character spans in ``text``.
        values: One attribution per span.

    Returns:
        The word attributions, and the total that fell on no word (punctuation, special tokens).
    """
    words = word_spans(text)
    totals = np.zeros(len(words))
    starts = np.array([w[1] for w in words], dtype=np.int64)
    ends = np.array([w[2] for w in words], dtype=np.int64)
    unassigned = 0.0
    for (start, end), value in zip(spans, values, strict=True):
        overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0, None)
        covered = overlap.sum()
        if covered == 0:
            unassigned += float(value)
            continue
        totals += value * overlap / covered
    tokens = tuple(
        TokenAttribution(token=w[0], start=w[1], end=w[2], attribution=float(a))
        for w, a in zip(words, totals, strict=True)
    )
    return tokens, unassigned


def make_explanation(
    text: str, p_positive: float, method: str, tokens: tuple[TokenAttribution, ...], **extra: Any
) -> Explanation:
    """Build an :class:`Explanation`, its label and probability from ``p_positive``.

    The label follows the one rule of :mod:`imdb_sentiment.labels` (positive iff ``p_positive >= 0.5``),
    so an explanation never names another label than ``predict`` gives the same review.

    Args:
        text: The review.
        p_positive: The model's probability of *positive*.
        method: How the attributions were computed.
        tokens: The word attributions.
        **extra: Other :class:`Explanation` fields (``details``, ``pieces``, ``attention``).

    Returns:
        The explanation.
    """
    prediction = Prediction.from_p_positive(p_positive)
    return Explanation(
        text=text,
        label=prediction.label,
        probability=prediction.probability,
        p_positive=prediction.p_positive,
        method=method,
        tokens=tokens,
        **extra,
    )


def check_steps(n_steps: int) -> None:
    """Reject an integrated-gradients step count below 1 (Captum would fail with a bare assertion).

    Raises:
        InputError: ``n_steps`` is not a whole number >= 1.
    """
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise InputError(f"n_steps must be a whole number >= 1, got {n_steps!r}")
