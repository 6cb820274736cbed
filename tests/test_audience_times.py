"""Reading a time column as users have them (audience/times.py): ISO, written dates, Unix time, and
what is not a date."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from imdb_sentiment.audience.times import check_times, read_times
from imdb_sentiment.errors import InputError


def test_read_times_reads_iso_and_common_dates_and_leaves_the_rest_missing():
    values = pd.Series(
        ["2024-05-01", "2024-05-01T20:15:00Z", "May 3, 2024", "06/07/2024", " 2024-06-02 ", "2023", "soon", "", None]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' "reads them one by one" warning is not the user's business
        when = read_times(values)
    assert str(when.dt.tz) == "UTC"
    days = [None if pd.isna(t) else t.strftime("%Y-%m-%d %H:%M") for t in when]
    assert days == [
        "2024-05-01 00:00",
        "2024-05-01 20:15",
        "2024-05-03 00:00",
        "2024-06-07 00:00",  # month first, as dateutil reads it
        "2024-06-02 00:00",
        "2023-01-01 00:00",
        None,
        None,
        None,
    ]
    # Whole numbers: years and yyyymmdd days, never nanoseconds since 1970; Unix seconds and milliseconds
    # (a platform's export); a float column of whole numbers (missing values make it one) reads the same.
    assert read_times(pd.Series([2021, 2022])).dt.year.tolist() == [2021, 2022]
    numbers = read_times(pd.Series([20240501, 1714521600, 1714608000123, 2023, None]))
    assert [None if pd.isna(t) else t.isoformat() for t in numbers] == [
        "2024-05-01T00:00:00+00:00",
        "2024-05-01T00:00:00+00:00",
        "2024-05-02T00:00:00.123000+00:00",
        "2023-01-01T00:00:00+00:00",
        None,
    ]
    assert read_times(pd.Series(["1714521600", "1714521600.0"])).tolist() == [pd.Timestamp("2024-05-01", tz="UTC")] * 2
    assert read_times(pd.Series([1.5, 12.0])).isna().all()  # neither a time nor a year
    stamps = pd.Series(pd.to_datetime(["2020-02-29 12:00"]))
    assert read_times(stamps).iloc[0] == pd.Timestamp("2020-02-29 12:00", tz="UTC")


def test_check_times_refuses_a_column_of_no_dates_and_passes_one_of_some():
    with pytest.raises(InputError, match=r"the time column 'film' holds no dates \(its first value is 'Alpha'\)"):
        check_times(pd.Series(["Alpha", "Beta", None]), "film")
    check_times(pd.Series(["soon", "2024-05-01"]), "date")  # one date is enough: the rest is counted later
    check_times(pd.Series([None, None], dtype=object), "date")  # nothing given yet: nothing to judge
    check_times(pd.Series(["", "  ", None]), "date")  # blanks too: the dates may start further down
