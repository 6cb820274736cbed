"""What the walkthrough notebook shows, as plain functions: the data, the peer, model comparisons, errors.

``notebooks/sentiment_analysis.ipynb`` only calls functions (here, in :mod:`~imdb_sentiment.evaluate` and
in :mod:`~imdb_sentiment.explain`) and displays what they return, so everything it shows is tested here.

* the notebook's settings: :func:`notebook_sample` (``IMDB_NOTEBOOK_SAMPLE``), :func:`notebook_splits`,
  :func:`notebook_config`, :func:`models_folder` (``IMDB_NOTEBOOK_MODELS``), :func:`load_saved_models`;
* the data: :func:`split_sizes`, :func:`review_lengths`, :func:`length_summary`, :func:`rating_counts`,
  :func:`separating_words` and their plots;
* models: :func:`fit_peer` (the scikit-learn baseline every figure is compared with), :func:`score_model`,
  :func:`comparison_table`;
* mistakes: :func:`most_confident_errors`, :func:`accuracy_by_rating`, :func:`accuracy_by_length`;
* explanations: :func:`short_reviews` (reviews short enough to read), :func:`attention_explanations`.

Frames are the dataset's (:class:`~imdb_sentiment.data.ImdbData`): columns ``id, split, label, rating, text``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from imdb_sentiment.config import Config
from imdb_sentiment.data import ImdbData, stratified_sample
from imdb_sentiment.errors import ConfigError, ImdbSentimentError, InputError, ModelError
from imdb_sentiment.evaluate import _pyplot, _save, compute_metrics
from imdb_sentiment.explain import Explanation
from imdb_sentiment.models.base import LABELS, MANIFEST, SentimentModel, check_labels, check_texts
from imdb_sentiment.models.registry import get_model_class, load_model
from imdb_sentiment.text import TOKEN_PATTERN, preprocess, tokenize

#: Environment variable: train and test on seeded stratified samples of this many reviews each.
SAMPLE_ENV = "IMDB_NOTEBOOK_SAMPLE"
#: Environment variable: the folder whose saved models the notebook also compares (default ``models``).
MODELS_ENV = "IMDB_NOTEBOOK_MODELS"
#: How the peer is named in comparison tables.
PEER_NAME = "peer: TfidfVectorizer(1-2) + LogisticRegression"
#: Epoch cap for ``bow-mlp`` on a sample, so a quick run stays quick (early stopping still applies).
SAMPLED_EPOCHS = 10


class Predictor(Protocol):
    """Anything with ``predict_proba(texts) -> (n, 2)``: a :class:`SentimentModel` or a scikit-learn pipeline."""

    def predict_proba(self, texts: Sequence[str], /) -> np.ndarray: ...


# ----------------------------------------------------------------------------------- notebook settings
def notebook_sample(environ: Mapping[str, str] | None = None) -> int | None:
    """Read ``IMDB_NOTEBOOK_SAMPLE``: how many train and test reviews the notebook uses.

    Args:
        environ: Where to read it (default: ``os.environ``).

    Returns:
        The sample size, or ``None`` (the full data) when the variable is unset or empty.

    Raises:
        ConfigError: the value is not a whole number >= 2 (a stratified sample needs one review per class).
    """
    raw = (os.environ if environ is None else environ).get(SAMPLE_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 2:
        raise ConfigError(
            f"{SAMPLE_ENV} must be a whole number of reviews >= 2 (e.g. {SAMPLE_ENV}=400), got {raw!r}; "
            "unset it to use the full data"
        )
    return value


def notebook_splits(data: ImdbData, sample: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train and test reviews the notebook uses: all of them, or seeded stratified samples.

    The train sample is exactly the one ``train(kind, limit=sample)`` fits on (same function, same seed),
    so the peer and the library's models learn from the same reviews.

    Args:
        data: The loaded dataset.
        sample: Reviews per split (``None``: all).

    Returns:
        ``(train, test)`` frames.
    """
    if sample is None:
        return data.train, data.test
    seed = data.split.seed
    return stratified_sample(data.train, sample, seed=seed), stratified_sample(data.test, sample, seed=seed)


def notebook_config(kind: str, sample: int | None) -> Config:
    """The config the notebook trains ``kind`` with: its defaults, with ``bow-mlp``'s epochs capped at
    :data:`SAMPLED_EPOCHS` when training on a sample.

    Raises:
        ConfigError: unknown kind.
    """
    config = get_model_class(kind).config_class()
    if sample is not None and kind == "bow-mlp":
        config = config.replace(epochs=min(config.epochs, SAMPLED_EPOCHS))  # type: ignore[attr-defined]
    return config


def models_folder(environ: Mapping[str, str] | None = None) -> Path:
    """The folder whose saved models the notebook compares: ``IMDB_NOTEBOOK_MODELS``, else ``models``
    (relative to the working directory).

    Args:
        environ: Where to read ``IMDB_NOTEBOOK_MODELS`` (default: ``os.environ``).
    """
    return Path((os.environ if environ is None else environ).get(MODELS_ENV) or "models").expanduser()


def load_saved_models(folder: str | Path) -> tuple[dict[str, SentimentModel], dict[str, str]]:
    """Load every saved model directly under ``folder`` (each a sub-folder with a ``manifest.json``).

    Nested folders are not searched: an ensemble embeds its members, and exports kept under a sub-folder
    are not meant to be compared one by one. A model that cannot be loaded (damaged, or an optional
    backend that is not installed) is reported, not raised, so the notebook goes on without it.

    Args:
        folder: Where to look; a folder that does not exist holds no models.

    Returns:
        ``(models, skipped)``: sub-folder name -> loaded model, in name order; sub-folder name -> why
        it was not loaded.
    """
    root = Path(folder).expanduser()
    models: dict[str, SentimentModel] = {}
    skipped: dict[str, str] = {}
    if not root.is_dir():
        return models, skipped
    for path in sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file()):
        try:
            models[path.name] = load_model(path)
        except (ImdbSentimentError, ImportError, OSError) as exc:
            skipped[path.name] = str(exc) or type(exc).__name__
    return models, skipped


# ------------------------------------------------------------------------------------------------ data
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
    plt = _pyplot()
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
    return _save(fig, Path(path))


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
    plt = _pyplot()
    counts = rating_counts(frame)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.bar(counts.index, counts["negative"], color="tab:red", label="negative")
    ax.bar(counts.index, counts["positive"], bottom=counts["negative"], color="tab:green", label="positive")
    ax.set_xticks(counts.index)
    ax.set_xlabel("reviewer's rating (stars)")
    ax.set_ylabel("reviews")
    ax.set_title("Ratings")
    ax.legend()
    return _save(fig, Path(path))


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
    plt = _pyplot()
    ordered = table.sort_values("log_ratio")
    fig, ax = plt.subplots(figsize=(6.5, max(3.0, 0.22 * len(ordered) + 1)))
    colours = ["tab:green" if r > 0 else "tab:red" for r in ordered["log_ratio"]]
    ax.barh(range(len(ordered)), ordered["log_ratio"], color=colours)
    ax.set_yticks(range(len(ordered)), ordered["word"], fontsize=8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("log-count ratio (> 0: positive reviews)")
    ax.set_title("Words that separate the classes")
    return _save(fig, Path(path))


# ---------------------------------------------------------------------------------------------- models
def fit_peer(texts: Sequence[str], labels: Sequence[int] | np.ndarray) -> tuple[Any, float]:
    """Fit the peer every figure is compared with: scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2))``
    then ``LogisticRegression()``, both with their defaults (as ``bench/accuracy.py`` measures it).

    Returns:
        ``(pipeline, seconds)``: the fitted pipeline (``predict_proba`` columns ``[negative, positive]``)
        and how long fitting took.

    Raises:
        InputError: bad texts or labels.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = check_texts(texts)
    y = check_labels(labels, len(texts))
    start = time.perf_counter()
    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
    pipeline.fit(texts, y)
    return pipeline, time.perf_counter() - start


@dataclasses.dataclass(frozen=True)
class ModelScore:
    """One model's predictions on an evaluation set and what they add up to."""

    name: str
    #: ``(n, 2)`` probabilities, columns ``[negative, positive]``.
    proba: np.ndarray = dataclasses.field(repr=False)
    #: :func:`~imdb_sentiment.evaluate.compute_metrics` of ``proba``.
    metrics: dict[str, Any]
    train_seconds: float | None = None
    train_reviews: int | None = None


def score_model(
    name: str,
    model: Predictor,
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    train_seconds: float | None = None,
    train_reviews: int | None = None,
) -> ModelScore:
    """Predict ``texts`` with ``model``, timed, and compute the metrics.

    Args:
        name: How the model is named in tables.
        model: A :class:`~imdb_sentiment.SentimentModel` or anything with ``predict_proba``.
        texts: Evaluation reviews.
        labels: Their 0/1 labels.
        train_seconds: Training time; default: the model's ``info_["training"]["seconds"]`` if it has one.
        train_reviews: Reviews it was trained on; default: ``info_["training"]["reviews"]``.

    Returns:
        The :class:`ModelScore`.

    Raises:
        InputError: bad texts or labels.
    """
    texts = check_texts(texts)
    y = check_labels(labels, len(texts))
    training = (getattr(model, "info_", None) or {}).get("training") or {}
    start = time.perf_counter()
    proba = np.asarray(model.predict_proba(texts), dtype=np.float64)
    metrics = compute_metrics(y, proba, seconds=time.perf_counter() - start)
    return ModelScore(
        name=name,
        proba=proba,
        metrics=metrics,
        train_seconds=train_seconds if train_seconds is not None else training.get("seconds"),
        train_reviews=train_reviews if train_reviews is not None else training.get("reviews"),
    )


def comparison_table(scores: Iterable[ModelScore]) -> pd.DataFrame:
    """One row per model, best accuracy first: ``accuracy``, ``log_loss``, ``roc_auc``, ``f1``,
    ``reviews_per_s`` (inference), ``train_seconds``, ``train_reviews``, ``n`` (reviews scored)."""
    rows = {
        score.name: {
            "accuracy": score.metrics["accuracy"],
            "log_loss": score.metrics["log_loss"],
            "roc_auc": score.metrics["roc_auc"],
            "f1": score.metrics["f1"],
            "reviews_per_s": score.metrics["reviews_per_s"],
            "train_seconds": score.train_seconds,
            "train_reviews": score.train_reviews,
            "n": score.metrics["n"],
        }
        for score in scores
    }
    columns = ["accuracy", "log_loss", "roc_auc", "f1", "reviews_per_s", "train_seconds", "train_reviews", "n"]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    return table.sort_values("accuracy", ascending=False, kind="stable")


# -------------------------------------------------------------------------------------------- mistakes
def _check_proba(frame: pd.DataFrame, proba: np.ndarray, what: str = "proba") -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape != (len(frame), 2):
        raise InputError(
            f"{what} must have shape ({len(frame)}, 2), one row per review of the frame; got {proba.shape}"
        )
    return proba


def most_confident_errors(frame: pd.DataFrame, proba: np.ndarray, *, k: int = 5) -> pd.DataFrame:
    """The ``k`` reviews a model got wrong with the highest confidence.

    Args:
        frame: Reviews with ``text`` and ``label`` (and usually ``id``, ``rating``) columns.
        proba: The model's ``(len(frame), 2)`` probabilities.
        k: How many to return.

    Returns:
        Those rows of ``frame`` (same columns, original index), strongest mistake first, with ``true``,
        ``predicted`` (label names), ``p_positive`` and ``confidence`` (probability of the wrong label) added.

    Raises:
        InputError: ``proba`` does not match ``frame``.
    """
    proba = _check_proba(frame, proba)
    labels = frame["label"].to_numpy("int64")
    predicted = (proba[:, 1] > proba[:, 0]).astype(np.int64)
    out = frame.assign(
        true=[LABELS[i] for i in labels],
        predicted=[LABELS[i] for i in predicted],
        p_positive=proba[:, 1],
        confidence=proba.max(axis=1),
    )[predicted != labels]
    return out.sort_values("confidence", ascending=False, kind="stable").head(k)


def _accuracy_by(groups: pd.Series, frame: pd.DataFrame, probas: Mapping[str, np.ndarray]) -> pd.DataFrame:
    labels = frame["label"].to_numpy("int64")
    columns: dict[str, Any] = {"reviews": pd.Series(1, index=frame.index).groupby(groups, observed=True).sum()}
    for name, proba in probas.items():
        proba = _check_proba(frame, proba, what=f"probabilities of {name!r}")
        correct = pd.Series((proba[:, 1] > proba[:, 0]).astype(np.int64) == labels, index=frame.index)
        columns[name] = correct.groupby(groups, observed=True).mean()
    return pd.DataFrame(columns)


def accuracy_by_rating(frame: pd.DataFrame, probas: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Accuracy of each model per star rating: mistakes gather near the middle of the scale (4 and 7).

    Args:
        frame: Reviews with ``label`` and ``rating`` columns.
        probas: Model name -> its ``(len(frame), 2)`` probabilities.

    Returns:
        Index ``rating`` (those present); columns ``reviews`` then one accuracy column per model.

    Raises:
        InputError: a probability array does not match ``frame``.
    """
    return _accuracy_by(frame["rating"].astype(int).rename("rating"), frame, probas)


def accuracy_by_length(frame: pd.DataFrame, probas: Mapping[str, np.ndarray], *, bins: int = 4) -> pd.DataFrame:
    """Accuracy of each model per review length, in ``bins`` groups of about equal size (length quantiles).

    Args:
        frame: Reviews with ``text`` and ``label`` columns.
        probas: Model name -> its ``(len(frame), 2)`` probabilities.
        bins: Number of length groups (fewer when lengths repeat).

    Returns:
        Index ``words`` (each group's shortest and longest review in words, e.g. ``"87-126"``, shortest
        group first); columns ``reviews`` then one accuracy column per model.

    Raises:
        InputError: a probability array does not match ``frame``, or ``bins`` < 1.
    """
    if bins < 1:
        raise InputError(f"bins must be >= 1, got {bins}")
    words = pd.Series(review_lengths(frame["text"]), index=frame.index)
    # When every review has the same length qcut finds no edges and returns NaN: one group then.
    codes = pd.qcut(words, q=bins, duplicates="drop", labels=False).fillna(0).astype(np.int64)
    # Name each group by the shortest and longest review in it ("87-126"), in length order.
    spans = words.groupby(codes).agg(["min", "max"])
    names = [f"{lo}-{hi}" for lo, hi in zip(spans["min"], spans["max"], strict=True)]
    groups = pd.Series(pd.Categorical.from_codes(codes.to_numpy(), names, ordered=True), index=frame.index)
    return _accuracy_by(groups.rename("words"), frame, probas)


# ------------------------------------------------------------------------------------- explanations
def short_reviews(frame: pd.DataFrame, *, per_class: int = 1, max_words: int = 60, seed: int = 0) -> pd.DataFrame:
    """Pick reviews short enough to read in an explanation: ``per_class`` of each class, seeded.

    Reviews of at most ``max_words`` words are drawn at random; a class without enough of them gives its
    shortest reviews instead.

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
    """Explain ``text`` with every model that can show attention (transformers on PyTorch).

    Other kinds, and ONNX copies of transformers (which cannot be explained), are left out.

    Returns:
        Model name -> its explanation, whose ``attention`` and ``pieces`` are set.
    """
    out = {}
    for name, model in models.items():
        if model.kind != "transformer":
            continue
        try:
            explanation = model.explain(text)
        except ModelError:
            continue
        if explanation.attention is not None:
            out[name] = explanation
    return out
