"""``summarize_texts``: the per-group figures and aspects of reviews held in memory, as JSON-ready dicts.

What :func:`~imdb_sentiment.audience.summarize.summarize` writes for a file, computed by the same steps
(the same per-review detail, the same tables) without writing anything: for the Python API and the HTTP
API's ``POST /v1/summarize``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from imdb_sentiment.audience.summarize import ALL_REVIEWS, SummarizeConfig, summary_tables
from imdb_sentiment.errors import InputError
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.rating import STARS


def summarize_texts(
    model: SentimentModel | str | Path,
    texts: Sequence[str],
    groups: Sequence[str | None] | None = None,
    ids: Sequence[str | None] | None = None,
    times: Sequence[str | None] | None = None,
    config: SummarizeConfig | None = None,
    *,
    p_positive: np.ndarray | None = None,
    stars: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per-group figures and aspects of a list of reviews held in memory, as JSON-ready lists of dicts.

    The same figures as :func:`summarize` gives for a file of these reviews (the same detail columns and
    the same tables), without writing anything: for the Python API and the HTTP API's ``/v1/summarize``.
    Missing figures (an interval without resamples) are ``None``, never NaN.

    Args:
        model: A fitted model with a rating head, or a saved model's folder.
        texts: The reviews.
        groups: Each review's group (a film, a platform), as text; ``None`` for one: the group ``(none)``.
            ``None`` (or ``None`` for every review): one group of all reviews,
            :data:`~imdb_sentiment.audience.summarize.ALL_REVIEWS`.
        ids: Each review's id in the aspect examples (``None`` for one: its 1-based position).
        times: Each review's date or time, ISO 8601 (``"2024-05-01"``, ``"2024-05-01T20:15:00+02:00"``) or
            ``None``; given, the result has a ``trend`` over time.
        config: Estimation settings (``adjust``, priors, ``examples``, ``n_boot``, ``seed``); its column
            names are not used.
        p_positive: The model's P(positive) per review when already computed (the HTTP API scores through
            its micro-batcher); default: computed here.
        stars: With ``p_positive``, the rating head's distributions per review; default: computed here.

    Returns:
        ``{"groups": [...], "aspects": [...], "trend": [...] or None}``. A group: ``group, n,
        share_positive, share_positive_low, share_positive_high, mean_rating, mean_rating_low,
        mean_rating_high``, ``stars`` (``{"1": p, ..., "10": p}``, the estimated distribution), and
        ``praised`` and ``criticised`` (lists of aspects: :func:`~imdb_sentiment.audience.aspect_stats.verdicts`). An aspect
        row: the columns of :func:`~imdb_sentiment.audience.aspect_stats.summarize_aspects`, its examples
        as lists of ``{"review_id", "text", "p_positive"}``. A trend row: the columns of
        :func:`~imdb_sentiment.audience.groups.trend` (``group`` ``None`` for all reviews; ``period`` the
        ISO date it starts).

    Raises:
        InputError: a review is empty or not text, the lists differ in length, a time is not ISO 8601, or
            the model has no rating head.
        ConfigError: ``config`` is invalid.
    """
    from imdb_sentiment.audience.aspect_stats import read_examples
    from imdb_sentiment.audience.detail import detail_columns
    from imdb_sentiment.models.registry import load_model
    from imdb_sentiment.scoring import check_texts

    config = config or SummarizeConfig()
    if not isinstance(model, SentimentModel):
        model = load_model(model)
    if isinstance(texts, str):
        raise InputError("expected a list of reviews, got one string; wrap it in a list: [text]")
    texts = check_texts(texts, None, lambda i: f"review {i + 1}")
    n = len(texts)
    if n == 0:
        raise InputError("give at least one review to summarise")
    for name, values in (("groups", groups), ("ids", ids), ("times", times)):
        if values is not None and (isinstance(values, str) or len(values) != n):
            got = "one string" if isinstance(values, str) else len(values)
            raise InputError(f"give one of {name} per review: a list of {n}, got {got}")
    if model.rating_head_ is None:
        raise InputError("the model has no rating head; add one with `imdb-sentiment train-rating MODEL_DIR`")
    if groups is None or all(g is None for g in groups):
        groups = [ALL_REVIEWS] * n
    frame = pd.DataFrame({"group": pd.Series(list(groups), dtype=object)})
    when = _parse_times(times) if times is not None and any(t is not None for t in times) else None
    if when is not None:
        frame["time"] = when
    if ids is not None:
        frame["id"] = [str(i + 1) if v is None else str(v) for i, v in enumerate(ids)]
    if p_positive is None:
        proba, stars = model.predict_proba_and_stars(texts)
        p_positive = proba[:, 1]
    p_positive = np.asarray(p_positive, dtype=np.float64)
    if stars is None:
        stars = model.predict_stars(texts, p_positive)
    frame["p_positive"] = p_positive
    # The per-review detail summarize() writes to reviews.parquet, read back the same way.
    detail = pa.table(detail_columns(model, texts, np.ones(n, dtype=bool), p_positive, stars)).to_pandas()
    frame = pd.concat([frame, detail], axis=1)
    columns = dataclasses.replace(
        config, group_column="group", time_column="time" if when is not None else "", id_column=""
    )
    groups_table, aspects_table, trend_table, _ = summary_tables(
        frame, columns, "id" if ids is not None else "", truth=False
    )
    star_names = [f"stars_{s}" for s in STARS]
    out_groups = []
    for row in groups_table.to_dict("records"):
        item = {k: _plain(v) for k, v in row.items() if k not in star_names}
        item["stars"] = {name[6:]: _plain(row[name]) for name in star_names}
        for side in ("praised", "criticised"):
            item[side] = [aspect for aspect in str(row[side]).split("; ") if aspect]
        out_groups.append(item)
    out_aspects = []
    for row in aspects_table.to_dict("records"):
        item = {k: _plain(v) for k, v in row.items()}
        for side in ("positive_examples", "negative_examples"):
            item[side] = read_examples(row[side])
        out_aspects.append(item)
    out_trend = None
    if trend_table is not None:
        out_trend = [{k: _plain(v) for k, v in row.items()} for row in trend_table.to_dict("records")]
    return {"groups": out_groups, "aspects": out_aspects, "trend": out_trend}


def parse_time(value: str) -> datetime:
    """A review's date or time in ISO 8601 (``2024-05-01``, ``2024-05-01T20:15:00Z``, ``2024-05-01 20:15+02:00``).

    Raises:
        InputError: ``value`` is not one.
    """
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(
            f"{str(value)[:40]!r} is not an ISO 8601 date or time (e.g. 2024-05-01 or 2024-05-01T20:15:00Z)"
        ) from None


def _parse_times(times: Sequence[str | None]) -> pd.Series:
    """:func:`parse_time` of each, as UTC timestamps (a time without a zone is taken as UTC; NaT for ``None``)."""
    parsed = []
    for i, value in enumerate(times):
        try:
            parsed.append(None if value is None else parse_time(value))
        except InputError as exc:
            raise InputError(f"review {i + 1}'s time {exc}") from None
    return pd.to_datetime(pd.Series(parsed, dtype=object), errors="coerce", utc=True)


def _plain(value: object) -> object:
    """A table cell as plain JSON: NumPy numbers as Python's, NaN and NaT as ``None``, timestamps as ISO text."""
    if value is None or value is pd.NaT or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value
