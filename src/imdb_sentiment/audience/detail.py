"""The per-review detail ``summarize`` aggregates, as extra columns of a scored chunk (``ScoreConfig.detail``):
each review's star distribution and its aspect mentions, computed where the review is scored, so that
both engines of :func:`imdb_sentiment.batch.score` (local threads, Ray actors) produce them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.rating import STARS

#: One aspect mention: which aspect, the sentence (index, span, text), the clause judged and its P(positive).
MENTION = pa.struct(
    [
        ("aspect", pa.string()),
        ("sentence", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
        ("clause", pa.string()),
        ("p_positive", pa.float64()),
    ]
)


def star_columns() -> list[str]:
    """The names of the star-distribution columns, in :data:`STARS` order."""
    return [f"stars_{s}" for s in STARS]


def detail_columns(
    model: SentimentModel,
    values: Sequence[object],
    scored: np.ndarray,
    p_positive: np.ndarray,
    stars: np.ndarray | None,
) -> dict[str, pa.Array]:
    """``stars_<s>`` (null where not scored or the model does not rate) and ``aspects`` (a list per row,
    null where not scored) for a chunk whose rows :func:`~imdb_sentiment.scoring.score_rows` scored
    (``scored`` mask, ``p_positive`` and ``stars`` as it gives them)."""
    from imdb_sentiment.audience.polarity import mentions

    n = len(values)
    stars = stars if stars is not None else np.full((n, len(STARS)), np.nan)
    columns: dict[str, pa.Array] = {
        name: pa.array(stars[:, j], pa.float64(), mask=~scored | np.isnan(stars[:, j]))
        for j, name in enumerate(star_columns())
    }
    good = np.flatnonzero(scored)
    texts = [str(values[int(i)]) for i in good]
    found = mentions(texts, p_positive[good], model) if texts else None
    counts = np.zeros(n, dtype=np.int64)
    if found is not None and len(found):
        np.add.at(counts, good[found["review"].to_numpy()], 1)
        values_array = pa.StructArray.from_arrays(
            [
                pa.array(found["aspect"].astype(str).tolist(), pa.string()),
                pa.array(found["sentence"].to_numpy(), pa.int32()),
                pa.array(found["start"].to_numpy(), pa.int32()),
                pa.array(found["end"].to_numpy(), pa.int32()),
                pa.array(found["text"].tolist(), pa.string()),
                pa.array(found["clause"].tolist(), pa.string()),
                pa.array(found["p_positive"].to_numpy(), pa.float64()),
            ],
            fields=list(MENTION),
        )
    else:
        values_array = pa.array([], MENTION)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    listed = pa.ListArray.from_arrays(offsets, values_array, mask=pa.array(~scored))
    columns["aspects"] = listed
    return columns
