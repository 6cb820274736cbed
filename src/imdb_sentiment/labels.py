"""The two labels, the one rule that turns a probability into a label, and the prediction record.

Every surface (``predict``, ``score``, the API, the app, explanations, ``evaluate``) goes through
:func:`label_ids` / :func:`label_names` / :class:`Prediction`, so a review scored at exactly
``p_positive == 0.5`` gets the same label everywhere: **positive** (the rule is ``p_positive >= 0.5``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Column order of ``predict_proba`` and meaning of the integer labels 0 and 1.
LABELS: tuple[str, str] = ("negative", "positive")
#: A review is positive when its probability of being positive is at least this.
THRESHOLD = 0.5


def label_ids(p_positive: np.ndarray) -> np.ndarray:
    """0 (negative) or 1 (positive) per probability of *positive*; a tie at 0.5 is positive."""
    return (np.asarray(p_positive, dtype=np.float64) >= THRESHOLD).astype(np.int64)


def label_names(p_positive: np.ndarray) -> np.ndarray:
    """``"negative"`` or ``"positive"`` per probability of *positive* (the rule of :func:`label_ids`)."""
    return np.asarray(LABELS, dtype=object)[label_ids(p_positive)]


@dataclass(frozen=True)
class Prediction:
    """One review's prediction, as every surface reports it.

    ``probability`` is the probability of the predicted label (at least 0.5), ``p_positive`` that of
    *positive*; ``rating`` the predicted 1-10 stars when the model carries a rating head, else ``None``.
    """

    label: str
    probability: float
    p_positive: float
    rating: int | None = None

    @classmethod
    def from_p_positive(cls, p_positive: float, rating: int | None = None) -> Prediction:
        p = float(p_positive)
        stars = None if rating is None else int(rating)
        return cls(label=LABELS[int(p >= THRESHOLD)], probability=max(p, 1.0 - p), p_positive=p, rating=stars)

    def to_dict(self, *, digits: int | None = None) -> dict[str, Any]:
        """``{"label", "probability", "p_positive", "rating"}``, probabilities rounded to ``digits`` if given
        (``rating`` only when the model rates)."""

        def rnd(x: float) -> float:
            return round(x, digits) if digits is not None else x

        out: dict[str, Any] = {
            "label": self.label,
            "probability": rnd(self.probability),
            "p_positive": rnd(self.p_positive),
        }
        if self.rating is not None:
            out["rating"] = self.rating
        return out


def predictions(proba: np.ndarray) -> Iterator[Prediction]:
    """One :class:`Prediction` per row of a ``predict_proba`` result (columns ``[negative, positive]``)."""
    for p in np.asarray(proba, dtype=np.float64)[:, 1]:
        yield Prediction.from_p_positive(p)
