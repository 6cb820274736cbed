"""Per-group audience figures: share positive and star ratings of each group's reviews, with intervals.

:func:`summarize_groups` turns scored reviews (one row per review: its group, the model's ``p_positive``
and its distribution over star ratings) into one row per group. With ``adjust="sides"`` or ``"em"`` the
figures are corrected for label shift (:mod:`imdb_sentiment.audience.quantify`): the share positive, and
with ``"em"`` the whole star distribution, while ``"sides"`` spreads each side over its stars as the
group's reviews do; with ``"none"`` they are plain means of the model's outputs. Intervals are
percentile bootstraps of the same estimator (:mod:`imdb_sentiment.audience.resample`). :func:`trend`
gives the plain figures per period of time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from imdb_sentiment.audience.resample import GroupEstimates, estimate
from imdb_sentiment.errors import ConfigError, InputError

#: The estimators :func:`summarize_groups` offers.
ADJUSTMENTS = ("em", "sides", "share", "none")


def summarize_groups(
    reviews: pd.DataFrame,
    *,
    stars: Sequence[int],
    adjust: str = "em",
    share_prior: float = 2.0,
    rating_prior: float = 2.0,
    rating_error: float = 0.0,
    level: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per group: its share of positive reviews and its ratings, with bootstrap intervals.

    Args:
        reviews: One row per review: ``group``, ``p_positive`` (calibrated, from a model trained on
            balanced data), ``stars_<s>`` for each ``s`` in ``stars`` (rows summing to 1); optionally
            ``label`` (true 0/1) and ``true_rating`` (true stars), summarised beside the estimates.
        stars: The star ratings the model predicts, e.g. ``(1, 2, 3, 4, 7, 8, 9, 10)``.
        adjust: ``"em"`` corrects for label shift (each group's share and star distribution by EM, pulled
            towards the pooled estimate); ``"sides"`` corrects the share by EM and spreads each side over its
            stars as the mean of the reviews' distributions does; ``"share"`` corrects the share only
            (the star distribution is the mean of the reviews'); ``"none"`` reports plain means of the
            model's outputs.
        share_prior: Weight of the pooled share in each group's estimate, in pseudo-reviews.
        rating_prior: Weight of the pooled star distribution, in pseudo-reviews.
        rating_error: The model's own error on a group's mean rating (standard deviation, stars), which
            widens the mean rating's interval beyond the bootstrap's (``widen_rating_interval``).
        level: Coverage of the intervals.
        n_boot: Bootstrap resamples per group (0: no intervals, NaN).
        seed: Seed of the resampling.

    Returns:
        Sorted by ``n`` descending, then ``group``: ``group, n, share_positive, share_positive_low,
        share_positive_high, mean_rating, mean_rating_low, mean_rating_high, stars_<s>...``; with
        ``label``: ``true_share_positive``; with ``true_rating``: ``true_mean_rating`` and
        ``true_stars_<s>...`` (the share of reviews with each true rating).

    Raises:
        InputError: A column is missing, a group is empty, or a probability is not one.
        ConfigError: An argument is out of range.
    """
    star_values = check_stars(stars)
    columns = [f"stars_{s}" for s in star_values]
    missing = [c for c in ("group", "p_positive", *columns) if c not in reviews.columns]
    if missing:
        raise InputError(f"reviews lack the column(s) {missing}; they have {list(reviews.columns)}")
    if adjust not in ADJUSTMENTS:
        raise ConfigError(f"adjust must be one of {list(ADJUSTMENTS)}, got {adjust!r}")
    codes, names = group_codes(reviews["group"])
    estimates = estimate(
        codes,
        check_probabilities(reviews["p_positive"]),
        check_distributions(reviews[columns]),
        stars=star_values,
        adjust=adjust,
        share_prior=share_prior,
        rating_prior=rating_prior,
        rating_error=rating_error,
        level=level,
        n_boot=n_boot,
        seed=seed,
    )
    out = pd.DataFrame(
        {
            "group": names,
            "n": estimates.n,
            "share_positive": estimates.share,
            "share_positive_low": estimates.share_low,
            "share_positive_high": estimates.share_high,
            "mean_rating": estimates.rating,
            "mean_rating_low": estimates.rating_low,
            "mean_rating_high": estimates.rating_high,
        }
    )
    for k, column in enumerate(columns):
        out[column] = estimates.distribution[:, k] if len(out) else np.zeros(0)
    by_group = pd.Series(codes)
    if "label" in reviews.columns:
        labels = pd.to_numeric(reviews["label"], errors="coerce").to_numpy(dtype=np.float64)
        out["true_share_positive"] = pd.Series(labels).groupby(by_group).mean().reindex(range(len(out))).to_numpy()
    if "true_rating" in reviews.columns:
        rating = pd.to_numeric(reviews["true_rating"], errors="coerce").to_numpy(dtype=np.float64)
        grouped = pd.Series(rating).groupby(by_group)
        out["true_mean_rating"] = grouped.mean().reindex(range(len(out))).to_numpy()
        known = grouped.count().reindex(range(len(out))).to_numpy()
        for s in star_values:
            hits = pd.Series(rating == s).groupby(by_group).sum().reindex(range(len(out))).to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"true_stars_{s}"] = np.where(known > 0, hits / np.maximum(known, 1), np.nan)
    return out.sort_values(["n", "group"], ascending=[False, True], kind="stable").reset_index(drop=True)


def check_stars(stars: Sequence[int]) -> list[int]:
    """The star ratings as ints, checked: at least two, distinct."""
    values = [int(s) for s in stars]
    if len(values) < 2 or len(set(values)) != len(values):
        raise ConfigError(f"stars must be at least two distinct ratings, e.g. (1, 2, 3, 4, 7, 8, 9, 10); got {stars}")
    return values


def group_codes(groups: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``0..G-1`` of each review's group (as text) and the group names; an empty group is refused."""
    empty = groups.isna()
    if empty.any():
        raise InputError(
            f"{int(empty.sum())} review(s) have no group (first at row {int(np.argmax(empty))}); fill or drop them"
        )
    codes, names = pd.factorize(groups.astype(str), sort=True)
    return codes.astype(np.int64), np.asarray(names, dtype=object)


def check_probabilities(values: pd.Series) -> np.ndarray:
    """``p_positive`` as floats in [0, 1], or :class:`InputError` naming the first bad row."""
    p = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(f"p_positive must be a probability in [0, 1]; row {row} has {values.iloc[row]!r}")
    return p


def check_distributions(frame: pd.DataFrame) -> np.ndarray:
    """The ``stars_<s>`` columns as rows of probabilities summing to 1 (renormalised; a small floor keeps
    every star possible), or :class:`InputError` naming the first bad row."""
    q = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    total = q.sum(axis=1)
    bad = ~(q >= 0).all(axis=1) | ~(np.abs(total - 1) <= 0.01)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"the {list(frame.columns)} of a review must be probabilities summing to 1; row {row} has {q[row].tolist()}"
        )
    q = np.maximum(q, 1e-9)
    return q / q.sum(axis=1, keepdims=True)


#: Period lengths :func:`trend` chooses from, finest first (pandas period codes and their names).
FREQUENCIES = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
#: :func:`trend` picks the finest period giving at most this many periods.
MAX_PERIODS = 60


def trend(
    reviews: pd.DataFrame,
    time: pd.Series,
    *,
    freq: str | None = None,
    top_groups: int = 0,
    level: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Share positive and mean rating per period of time, for all reviews and for the largest groups.

    The figures are plain means of the model's outputs (a period is not a population the model's
    training prior should be corrected towards), with the bootstrap intervals of :func:`summarize_groups`.

    Args:
        reviews: As for :func:`summarize_groups` (``group`` needed only with ``top_groups``); the star
            ratings are read from its ``stars_<s>`` columns (without them ``mean_rating`` is NaN).
        time: When each review was written, aligned with ``reviews`` by position; reviews without a
            parseable time are left out.
        freq: ``"day"``, ``"week"``, ``"month"``, ``"quarter"`` or ``"year"`` (or ``D W M Q Y``); default: the
            finest giving at most :data:`MAX_PERIODS` periods over the span of ``time``.
        top_groups: Also give the series of this many largest groups.
        level, n_boot, seed: As for :func:`summarize_groups`.

    Returns:
        One row per period from the first to the last (periods without reviews have ``n`` 0 and NaN
        figures), all reviews first (``group`` missing), then each group's: ``group, period`` (its start),
        ``freq, n, share_positive, share_positive_low, share_positive_high, mean_rating, mean_rating_low,
        mean_rating_high``.

    Raises:
        InputError: ``time`` is not as long as ``reviews``, or a needed column is missing or invalid.
        ConfigError: ``freq`` is not one of the above.
    """
    if len(time) != len(reviews):
        raise InputError(f"time has {len(time)} values for {len(reviews)} reviews; give one time per review")
    stamps = pd.to_datetime(pd.Series(np.asarray(time)), errors="coerce", utc=True).dt.tz_localize(None)
    keep = stamps.notna().to_numpy()
    reviews, stamps = reviews.iloc[keep].reset_index(drop=True), stamps[keep].reset_index(drop=True)
    star_columns = sorted(
        (c for c in reviews.columns if str(c).startswith("stars_") and str(c)[6:].isdigit()), key=lambda c: int(c[6:])
    )
    columns = ["group", "period", "freq", "n", *_FIGURES]
    if not len(reviews):
        return pd.DataFrame(columns=columns)
    code = _frequency(freq, stamps.min(), stamps.max())
    periods = pd.period_range(stamps.min().to_period(code), stamps.max().to_period(code), freq=code)
    slot = periods.get_indexer(stamps.dt.to_period(code))
    p = check_probabilities(reviews["p_positive"] if "p_positive" in reviews.columns else pd.Series(dtype=float))
    if star_columns:
        stars, q = [int(c[6:]) for c in star_columns], check_distributions(reviews[star_columns])
    else:
        stars, q = [0], np.ones((len(reviews), 1))
    series = [(None, slot, np.ones(len(reviews), dtype=bool))]
    if top_groups > 0:
        codes, names = group_codes(reviews["group"])
        largest = np.argsort(-np.bincount(codes), kind="stable")[:top_groups]
        series += [(names[g], slot, codes == g) for g in largest]
    frames = []
    for name, where, rows in series:
        present, local = np.unique(where[rows], return_inverse=True)
        est = estimate(local, p[rows], q[rows], stars=stars, adjust="none", level=level, n_boot=n_boot, seed=seed)
        frame = pd.DataFrame(index=range(len(periods)), columns=["n", *_FIGURES], dtype=np.float64)
        frame.loc[present, "n"] = est.n
        for column, values in zip(_FIGURES, _figures(est), strict=True):
            frame.loc[present, column] = values
        frame["n"] = frame["n"].fillna(0).astype(np.int64)
        if not star_columns:
            frame[[c for c in _FIGURES if c.startswith("mean_rating")]] = np.nan
        frame.insert(0, "group", pd.Series([name] * len(periods), dtype=object))
        frame.insert(1, "period", periods.start_time)
        frame.insert(2, "freq", FREQUENCIES[code])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)[columns]


_FIGURES = ("share_positive", "share_positive_low", "share_positive_high", "mean_rating", "mean_rating_low",
            "mean_rating_high")  # fmt: skip


def _figures(est: GroupEstimates) -> tuple[np.ndarray, ...]:
    return est.share, est.share_low, est.share_high, est.rating, est.rating_low, est.rating_high


def _frequency(freq: str | None, first: pd.Timestamp, last: pd.Timestamp) -> str:
    """The pandas period code of ``freq``, or of the finest period giving at most MAX_PERIODS periods."""
    if freq is not None:
        by_name = {name: code for code, name in FREQUENCIES.items()}
        code = by_name.get(freq, freq)
        if code not in FREQUENCIES:
            raise ConfigError(f"freq must be one of {list(FREQUENCIES.values())}, got {freq!r}")
        return code
    for code in FREQUENCIES:
        if (last.to_period(code) - first.to_period(code)).n + 1 <= MAX_PERIODS:
            return code
    return "Y"
