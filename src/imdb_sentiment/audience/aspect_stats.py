"""What each group's reviews say about each aspect: how often it is mentioned, how positively, and the
sentences that say so most strongly either way.

The input is one row per mention: a sentence of a review that names an aspect (found by
:mod:`imdb_sentiment.audience.aspects`), with the model's ``p_positive`` for that sentence. A mention is
positive by the library's one rule (``p_positive >= 0.5``, :mod:`imdb_sentiment.labels`); the share of
positive mentions gets a Wilson score interval, which stays inside [0, 1] and is honest for a handful of
mentions.

Example sentences are kept as JSON text (a list of ``{"review_id", "text", "p_positive"}``), so the table
writes to CSV or Parquet as it is; :func:`read_examples` reads a cell back.
"""

from __future__ import annotations

import json
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from imdb_sentiment.errors import ConfigError, InputError
from imdb_sentiment.labels import THRESHOLD

#: The columns a table of mentions must have.
MENTION_COLUMNS = ("group", "review_id", "aspect", "text", "p_positive")


def summarize_aspects(mentions: pd.DataFrame, *, examples: int = 3, level: float = 0.95) -> pd.DataFrame:
    """One row per (group, aspect): mentions, reviews, share positive with its interval, and examples.

    Args:
        mentions: One row per sentence naming an aspect: ``group, review_id, aspect, text, p_positive``.
        examples: How many of the most positive and of the most negative sentences to keep (a sentence
            repeated word for word is kept once).
        level: Coverage of the Wilson interval.

    Returns:
        Sorted by group, then mentions descending, then aspect: ``group, aspect, mentions, reviews``
        (distinct review ids), ``share_positive`` (share of mentions with ``p_positive >= 0.5``),
        ``share_positive_low, share_positive_high, positive_examples, negative_examples`` (JSON lists of
        ``{"review_id", "text", "p_positive"}``, strongest first).

    Raises:
        InputError: A column is missing or a ``p_positive`` is not a probability.
        ConfigError: ``examples`` is negative or ``level`` is not in (0, 1).
    """
    table = _summarize(_checked(mentions), ["group", "aspect"], examples, level)
    return table.sort_values(["group", "mentions", "aspect"], ascending=[True, False, True], kind="stable").reset_index(
        drop=True
    )


def pool_aspects(mentions: pd.DataFrame, *, examples: int = 3, level: float = 0.95) -> pd.DataFrame:
    """One row per aspect over all groups together: as :func:`summarize_aspects`, with ``groups`` (how
    many groups mention it) in place of ``group``; sorted by mentions descending, then aspect."""
    checked = _checked(mentions)
    table = _summarize(checked, ["aspect"], examples, level)
    groups = checked.groupby("aspect", sort=False)["group"].nunique()
    table.insert(1, "groups", groups.reindex(table["aspect"]).to_numpy())
    return table.sort_values(["mentions", "aspect"], ascending=[False, True], kind="stable").reset_index(drop=True)


def verdicts(aspects: pd.DataFrame, *, min_mentions: int = 5) -> pd.DataFrame:
    """Per group, the aspects its reviews clearly praise and clearly criticise: at least ``min_mentions``
    mentions, and a share positive whose interval lies wholly above (praised) or below (criticised) one
    half. A handful of mentions, or a split audience, calls an aspect neither.

    Args:
        aspects: :func:`summarize_aspects`'s table.
        min_mentions: Mentions an aspect needs before it is called either.

    Returns:
        ``group, praised, criticised``: one row per group with either, the aspects joined by ``"; "``,
        most mentioned first (empty text for none).

    Raises:
        ConfigError: ``min_mentions`` is below 1.
    """
    if min_mentions < 1:
        raise ConfigError(f"min_mentions must be >= 1, got {min_mentions}")
    clear = aspects[aspects["mentions"] >= min_mentions].sort_values(
        ["mentions", "aspect"], ascending=[False, True], kind="stable"
    )
    sides = {
        "praised": clear[clear["share_positive_low"] > 0.5],
        "criticised": clear[clear["share_positive_high"] < 0.5],
    }
    joined = {side: rows.groupby("group", sort=True)["aspect"].agg("; ".join) for side, rows in sides.items()}
    return pd.DataFrame(joined, columns=list(sides)).fillna("").rename_axis("group").reset_index()


def aspect_trend(
    mentions: pd.DataFrame, time: pd.Series, periods: pd.Series, *, top: int = 5, level: float = 0.95
) -> pd.DataFrame:
    """The share of positive mentions of the ``top`` most mentioned aspects per period of time.

    Args:
        mentions: One row per mention: ``aspect, p_positive``.
        time: Each mention's review's time (``NaT``: left out).
        periods: The periods' starts, as :func:`~imdb_sentiment.audience.groups.trend` cut them (evenly
            spaced: a day, week, month, quarter or year apart); a mention belongs to the last period
            starting at or before its time.
        top: How many aspects (the most mentioned over all periods).
        level: Coverage of the Wilson intervals.

    Returns:
        ``period, aspect, mentions, share_positive, share_positive_low, share_positive_high``: one row per
        period and aspect (a period without mentions of it: 0 and NaN), the aspects most mentioned first.
    """
    columns = ["period", "aspect", "mentions", "share_positive", "share_positive_low", "share_positive_high"]
    starts = pd.DatetimeIndex(pd.to_datetime(periods)).sort_values()
    stamps = pd.to_datetime(pd.Series(np.asarray(time)), utc=True).dt.tz_localize(None)
    known = stamps.notna().to_numpy() & (stamps >= starts[0]).to_numpy() if len(starts) else np.zeros(0, bool)
    if not len(starts) or not known.any():
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "slot": starts.searchsorted(stamps[known], side="right") - 1,
            "aspect": mentions["aspect"].to_numpy()[known].astype(str),
            "positive": mentions["p_positive"].to_numpy(dtype=np.float64)[known] >= THRESHOLD,
        }
    )
    chosen = frame["aspect"].value_counts(sort=True).index[:top]
    cells = pd.MultiIndex.from_product([range(len(starts)), chosen], names=["slot", "aspect"])
    counts = frame[frame["aspect"].isin(chosen)].groupby(["slot", "aspect"])["positive"].agg(["size", "sum"])
    counts = counts.reindex(cells, fill_value=0)
    low, high = wilson_interval(counts["sum"], counts["size"], level)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = counts["sum"].to_numpy(dtype=np.float64) / counts["size"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "period": starts[counts.index.get_level_values("slot")],
            "aspect": counts.index.get_level_values("aspect").astype(str),
            "mentions": counts["size"].to_numpy(dtype=np.int64),
            "share_positive": np.where(counts["size"].to_numpy() > 0, share, np.nan),
            "share_positive_low": low,
            "share_positive_high": high,
        }
    )[columns]


def wilson_interval(positives: Any, total: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``positives / total`` (arrays or numbers); NaN where ``total`` is 0."""
    if not 0 < level < 1:
        raise ConfigError(f"level must be between 0 and 1 (e.g. 0.95), got {level}")
    k, n = np.asarray(positives, dtype=np.float64), np.asarray(total, dtype=np.float64)
    z = NormalDist().inv_cdf((1 + level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = k / n
        centre = (share + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(share * (1 - share) / n + z**2 / (4 * n**2))
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def read_examples(cell: str) -> list[dict[str, Any]]:
    """The examples of one ``positive_examples`` or ``negative_examples`` cell, as a list of dicts."""
    if not isinstance(cell, str) or not cell:
        return []
    value = json.loads(cell)
    return value if isinstance(value, list) else []


def _checked(mentions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in MENTION_COLUMNS if c not in mentions.columns]
    if missing:
        raise InputError(f"mentions lack the column(s) {missing}; they have {list(mentions.columns)}")
    frame = mentions[list(MENTION_COLUMNS)].reset_index(drop=True)
    p = pd.to_numeric(frame["p_positive"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"p_positive must be a probability in [0, 1]; mention {row} has {mentions['p_positive'].iloc[row]!r}"
        )
    empty = frame[["group", "aspect"]].isna().any(axis=1)
    if empty.any():
        raise InputError(
            f"{int(empty.sum())} mention(s) have no group or aspect (first at row {int(np.argmax(empty))})"
        )
    return frame.assign(
        group=frame["group"].astype(str),
        aspect=frame["aspect"].astype(str),
        review_id=frame["review_id"].astype(str),
        text=frame["text"].fillna("").astype(str),
        p_positive=p,
        positive=p >= THRESHOLD,
    )


def _summarize(frame: pd.DataFrame, keys: list[str], examples: int, level: float) -> pd.DataFrame:
    if examples < 0:
        raise ConfigError(f"examples must be >= 0, got {examples}")
    table = (
        frame.groupby(keys, sort=True)
        .agg(mentions=("positive", "size"), reviews=("review_id", "nunique"), positives=("positive", "sum"))
        .reset_index()
    )
    low, high = wilson_interval(table["positives"], table["mentions"], level)
    table["share_positive"] = table["positives"] / table["mentions"]
    table["share_positive_low"], table["share_positive_high"] = low, high
    table["positive_examples"] = _examples(frame[frame["positive"]], keys, table, examples, ascending=False)
    table["negative_examples"] = _examples(frame[~frame["positive"]], keys, table, examples, ascending=True)
    return table.drop(columns="positives")


def _examples(frame: pd.DataFrame, keys: list[str], table: pd.DataFrame, count: int, *, ascending: bool) -> list[str]:
    """JSON lists of the ``count`` strongest sentences of each row of ``table``.

    ``ascending=True`` puts the most negative first, ``False`` the most positive.
    """
    ordered = frame.sort_values(
        ["p_positive", "review_id", "text"], ascending=[ascending, True, True], kind="stable"
    ).drop_duplicates([*keys, "text"])
    top = ordered.groupby(keys, sort=False).head(count) if count else ordered.iloc[:0]
    found: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in top.itertuples(index=False):
        key = tuple(getattr(row, k) for k in keys)
        found.setdefault(key, []).append(
            {"review_id": row.review_id, "text": row.text, "p_positive": round(float(row.p_positive), 4)}
        )
    return [
        json.dumps(found.get(key, []), ensure_ascii=False) for key in table[keys].itertuples(index=False, name=None)
    ]
