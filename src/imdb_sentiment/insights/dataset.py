"""The dataset, described: reviews per split and class, review lengths, ratings, the words that separate
the classes, and their plots.

Frames are the dataset's (:class:`~imdb_sentiment.data.ImdbData`): columns ``id, split, label, rating, text``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from imdb_sentiment.errors import InputError
from imdb_sentiment.labels import LABELS
from imdb_sentiment.models.inputs import check_labels, check_texts
from imdb_sentiment.plots import pyplot, save_figure
from imdb_sentiment.text import TOKEN_PATTERN, preprocess, tokenize


def split_sizes(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Reviews per split and per class.

    Args:
        frames: Named frames with a ``label`` column (1, 0 or missing for unlabelled reviews).

    Returns:
        One row per name: ``reviews``, ``negative``, ``positive``, ``unlabelled``.
    """
    rows = {}
    for name, frame in frames.items():
        label = frame["label"]
        rows[name] = {
            "reviews": len(frame),
            "negative": int((label == 0).sum()),
            "positive": int((label == 1).sum()),
            "unlabelled": int(label.isna().sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["reviews", "negative", "positive", "unlabelled"])


def review_lengths(texts: Iterable[str]) -> np.ndarray:
    """Words per review, counted as every model counts them (:func:`imdb_sentiment.text.tokenize`).

    Raises:
        InputError: ``texts`` is a bare string or holds non-strings.
    """
    return np.array([len(tokenize(t)) for t in check_texts(texts, allow_empty=True)], dtype=np.int64)


def length_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Review length in words by class: ``reviews``, ``mean``, ``min``, quartiles, ``p90``, ``p99``, ``max``.

    Args:
        frame: Reviews with ``text`` and ``label`` columns.

    Returns:
        One row per class (``negative``, ``positive``) and one for ``all``.
    """
    words = pd.Series(review_lengths(frame["text"]), index=frame.index)
    classes = frame["label"].map(dict(enumerate(LABELS)))
    rows = {}
    for name, values in [*((c, words[classes == c]) for c in LABELS), ("all", words)]:
        if len(values) == 0:
            continue
        quantiles = values.quantile([0.25, 0.5, 0.75, 0.9, 0.99])
        rows[name] = {
            "reviews": len(values),
            "mean": round(float(values.mean()), 1),
            "min": int(values.min()),
            "p25": float(quantiles[0.25]),
            "median": float(quantiles[0.5]),
            "p75": float(quantiles[0.75]),
            "p90": float(quantiles[0.9]),
            "p99": float(quantiles[0.99]),
            "max": int(values.max()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def plot_review_lengths(frame: pd.DataFrame, path: str | Path, *, clip_quantile: float = 0.99) -> Path:
    """Histogram of review lengths in words, one colour per class; the longest 1% are cut off the axis.

    Returns:
        ``path``, a PNG.
    """
    plt = pyplot()
    words = review_lengths(frame["text"])
    labels = frame["label"].to_numpy()
    top = max(float(np.quantile(words, clip_quantile)), 1.0) if len(words) else 1.0
    bins = np.linspace(0, top, 50)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for value, name in enumerate(LABELS):
        ax.hist(np.clip(words[labels == value], 0, top), bins=bins, alpha=0.6, label=name)
    ax.set_xlabel(f"words per review (cut at the {clip_quantile:.0%} quantile, {top:.0f})")
    ax.set_ylabel("reviews")
    ax.set_title("Review length")
    ax.legend()
    return save_figure(fig, path)


def rating_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Reviews per star rating (1-10) and class; ratings 5 and 6 are absent from the labelled data by design.

    Args:
        frame: Reviews with ``rating`` and ``label`` columns.

    Returns:
        Index ``rating`` 1..10; columns ``negative``, ``positive`` (counts, 0 where none).
    """
    labelled = frame[frame["label"].notna()]
    table = pd.crosstab(labelled["rating"].astype(int), labelled["label"].astype(int))
    table = table.reindex(index=range(1, 11), columns=[0, 1], fill_value=0)
    table.index.name, table.columns.name = "rating", None
    return table.set_axis(list(LABELS), axis=1).astype(int)


def plot_ratings(frame: pd.DataFrame, path: str | Path) -> Path:
    """Bar chart of :func:`rating_counts`. Returns ``path``, a PNG."""
    plt = pyplot()
    counts = rating_counts(frame)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.bar(counts.index, counts["negative"], color="tab:red", label="negative")
    ax.bar(counts.index, counts["positive"], bottom=counts["negative"], color="tab:green", label="positive")
    ax.set_xticks(counts.index)
    ax.set_xlabel("reviewer's rating (stars)")
    ax.set_ylabel("reviews")
    ax.set_title("Ratings")
    ax.legend()
    return save_figure(fig, path)


def separating_words(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    k: int = 20,
    min_df: int | float = 0.005,
    alpha: float = 1.0,
) -> pd.DataFrame:
    """The words that most separate the classes, by log-count ratio (Wang & Manning 2012, NBSVM's ``r``).

    For each word (as the models tokenise), ``log((p_w / |p|) / (q_w / |q|))`` where ``p_w`` (``q_w``) is
    ``alpha`` plus the number of positive (negative) reviews that contain it: > 0 leans positive.

    Args:
        texts: Reviews.
        labels: Their 0/1 labels; both classes must be present.
        k: Words to keep on each side.
        min_df: Ignore words in fewer reviews than this (an int) or this share of the reviews (a float,
            as in scikit-learn). Rare words have extreme, noisy ratios: on the full train split, 5 reviews
            lets actors' names top the list, 0.5% (112 reviews) gives "flawless" and "atrocious".
        alpha: Additive smoothing.

    Returns:
        ``2k`` rows at most (the ``k`` most positive, then the ``k`` most negative, strongest first) with
        ``word``, ``log_ratio``, ``positive_reviews``, ``negative_reviews``, ``leans``.

    Raises:
        InputError: bad texts or labels, a single class, or no word in ``min_df`` reviews.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    texts = check_texts(texts)
    y = check_labels(labels, len(texts))
    if len(np.unique(y)) < 2:
        raise InputError("separating_words needs reviews of both classes (labels 0 and 1)")
    min_df_ok = min_df >= 1 if isinstance(min_df, int) else 0 < min_df <= 1
    if k < 1 or not min_df_ok or alpha <= 0:
        raise InputError(
            "need k >= 1, min_df a whole number >= 1 or a share in (0, 1], and alpha > 0; "
            f"got k={k}, min_df={min_df}, alpha={alpha}"
        )
    vectorizer = CountVectorizer(
        preprocessor=preprocess, token_pattern=TOKEN_PATTERN, lowercase=False, binary=True, min_df=min_df
    )
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:
        raise InputError(f"no word occurs in min_df={min_df} or more of the {len(texts)} reviews; lower it") from None
    positive = np.asarray(counts[y == 1].sum(axis=0)).ravel()
    negative = np.asarray(counts[y == 0].sum(axis=0)).ravel()
    p, q = positive + alpha, negative + alpha
    ratio = np.log((p / p.sum()) / (q / q.sum()))
    table = pd.DataFrame(
        {
            "word": vectorizer.get_feature_names_out(),
            "log_ratio": ratio,
            "positive_reviews": positive,
            "negative_reviews": negative,
        }
    )
    # Sort on (ratio, word) so that ties come out the same on every run.
    table = table.sort_values(["log_ratio", "word"], ascending=[False, True], kind="stable")
    top = table[table["log_ratio"] > 0].head(k).assign(leans="positive")
    bottom = table[table["log_ratio"] < 0].sort_values(["log_ratio", "word"], kind="stable").head(k)
    return pd.concat([top, bottom.assign(leans="negative")], ignore_index=True)


def plot_separating_words(table: pd.DataFrame, path: str | Path) -> Path:
    """Horizontal bars of :func:`separating_words`' log-count ratios. Returns ``path``, a PNG."""
    plt = pyplot()
    ordered = table.sort_values("log_ratio")
    fig, ax = plt.subplots(figsize=(6.5, max(3.0, 0.22 * len(ordered) + 1)))
    colours = ["tab:green" if r > 0 else "tab:red" for r in ordered["log_ratio"]]
    ax.barh(range(len(ordered)), ordered["log_ratio"], color=colours)
    ax.set_yticks(range(len(ordered)), ordered["word"], fontsize=8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("log-count ratio (> 0: positive reviews)")
    ax.set_title("Words that separate the classes")
    return save_figure(fig, path)
