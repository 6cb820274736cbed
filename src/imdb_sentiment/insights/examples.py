"""Reviews worth explaining in the notebook, and the explanations that show attention."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from imdb_sentiment.errors import ModelError
from imdb_sentiment.explain.records import Explanation
from imdb_sentiment.insights.dataset import review_lengths
from imdb_sentiment.models.base import SentimentModel


def short_reviews(frame: pd.DataFrame, *, per_class: int = 1, max_words: int = 60, seed: int = 0) -> pd.DataFrame:
    """Pick reviews short enough to read in an explanation: ``per_class`` of each class, seeded.

    Reviews of at most ``max_words`` words are drawn at random; a class without enough of them gives its
    shortest reviews instead.

    Args:
        frame: Reviews with ``text`` and ``label`` columns.
        per_class: Reviews to pick of each class.
        max_words: What counts as short.
        seed: Seed of the draw.

    Returns:
        The chosen rows of ``frame`` (negative ones first), with a ``words`` column added.
    """
    words = pd.Series(review_lengths(frame["text"]), index=frame.index)
    chosen = []
    for value in (0, 1):
        members = words[frame["label"] == value]
        short = members[members <= max_words]
        if len(short) >= per_class:
            picked = short.sample(per_class, random_state=seed).index
        else:
            picked = members.sort_values(kind="stable").head(per_class).index
        chosen.extend(picked)
    return frame.loc[chosen].assign(words=words.loc[chosen])


def attention_explanations(models: Mapping[str, SentimentModel], text: str) -> dict[str, Explanation]:
    """Explain ``text`` with every model that can show attention (``model.shows_attention``).

    Models that cannot (an n-gram model, an ONNX-only copy of a transformer), or whose explanation fails
    with a :class:`~imdb_sentiment.errors.ModelError`, are left out.

    Args:
        models: Model name -> model.
        text: One review.

    Returns:
        Model name -> its explanation, whose ``attention`` and ``pieces`` are set.
    """
    out = {}
    for name, model in models.items():
        if not model.shows_attention:
            continue
        try:
            explanation = model.explain(text)
        except ModelError:
            continue
        if explanation.attention is not None:
            out[name] = explanation
    return out
