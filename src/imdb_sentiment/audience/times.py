"""A column of dates or times, as users have them: read to UTC timestamps, checked, and reported.

``summarize --time-column`` adds a trend over time. The column comes from the user's file: ISO dates,
written dates, Unix timestamps from a social platform's export, or the wrong column altogether. This
module reads what can be read (:func:`read_times`), refuses a column that holds no dates before minutes
go into scoring (:func:`check_times`), and words what the trend leaves out (:func:`undated_message`).
"""

from __future__ import annotations

import warnings
from typing import Protocol

import numpy as np
import pandas as pd

from imdb_sentiment.errors import InputError


class Dated(Protocol):
    """What :func:`undated_message` reads (a :class:`~imdb_sentiment.audience.summarize.SummaryResult`)."""

    @property
    def reviews(self) -> int: ...
    @property
    def time_column(self) -> str: ...
    @property
    def dated(self) -> int | None: ...


#: Whole numbers read as Unix time: seconds (1973-2286) or milliseconds (1973-2286).
_EPOCH_SECONDS = (1e8, 1e10)
_EPOCH_MILLISECONDS = (1e11, 1e13)


def read_times(values: pd.Series) -> pd.Series:
    """A column of dates or times as UTC timestamps, ``NaT`` where a value is not one.

    ISO 8601 (``2024-05-01``, ``2024-05-01T20:15:00Z``) is read first, all at once; what is left is read
    one value at a time by ``dateutil`` ("May 1, 2024", "01/05/2024" as month first). Whole numbers of 9
    to 10 digits are Unix seconds and of 12 to 13 digits Unix milliseconds (what platforms export); other
    numbers are read as text ("2024" is that year, "20240501" that day). A time without a zone is UTC.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values, utc=True)
    if pd.api.types.is_float_dtype(values) and values.dropna().mod(1).eq(0).all():
        values = values.astype("Int64")  # whole numbers (a float column only for its missing values): 2024, not 2024.0
    text = values.astype("string").str.strip()
    number = pd.to_numeric(text.where(text.str.fullmatch(r"\d+(?:\.0+)?", na=False)), errors="coerce")
    when = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    for (low, high), unit in ((_EPOCH_SECONDS, "s"), (_EPOCH_MILLISECONDS, "ms")):
        epoch = number.between(low, high, inclusive="left").fillna(False).to_numpy(dtype=bool)
        if epoch.any():
            when[epoch] = pd.to_datetime(number[epoch].astype(np.int64), unit=unit, utc=True)
    rest = when.isna() & text.notna() & (text != "")
    when[rest] = pd.to_datetime(text[rest], errors="coerce", utc=True, format="ISO8601")
    rest &= when.isna()
    if rest.any():
        with warnings.catch_warnings():  # pandas warns that it reads them one by one: that is the point
            warnings.simplefilter("ignore", UserWarning)
            when[rest] = pd.to_datetime(text[rest], errors="coerce", utc=True, format="mixed")
    return when


def check_times(first: pd.Series, column: str) -> None:
    """Refuse a time column none of whose ``first`` values is a date (the wrong column was named).

    Raises:
        InputError: every given value of ``first`` is unreadable.
    """
    given = first.dropna()
    given = given[given.astype(str).str.strip() != ""]  # blanks are missing dates, not a wrong column
    if len(given) and read_times(given).isna().all():
        example = str(given.iloc[0])[:40]
        raise InputError(
            f"the time column {column!r} holds no dates (its first value is {example!r}); "
            "give a column of dates such as 2024-05-01"
        )


def undated_message(result: Dated) -> str:
    """What to tell the user about reviews without a readable date (empty when there are none)."""
    if result.dated is None or result.dated >= result.reviews:
        return ""
    if not result.dated:
        return (
            f"no review has a readable date in column {result.time_column!r} (ISO dates such as 2024-05-01 "
            "read best), so there is no trend over time"
        )
    missing = result.reviews - result.dated
    verb = "has" if missing == 1 else "have"
    return (
        f"{missing:,} of {result.reviews:,} reviews {verb} no readable date in column {result.time_column!r}: "
        "the trend leaves them out"
    )
