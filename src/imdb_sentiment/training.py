"""Train a model kind on the IMDb train split, with validation carved from it, and save it; or copy a
saved model with other inference settings, re-scoring it on the same validation reviews."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from imdb_sentiment.config import Config, SplitConfig
from imdb_sentiment.data import load_imdb, stratified_sample
from imdb_sentiment.errors import ConfigError, InputError
from imdb_sentiment.evaluate import compute_metrics
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.manifest import check_save_target
from imdb_sentiment.models.registry import DEFAULT_KIND, get_model_class, load_model


def train(
    kind: str = DEFAULT_KIND,
    *,
    config: Config | None = None,
    data: str | Path | None = None,
    split: SplitConfig | None = None,
    out: str | Path | None = None,
    limit: int | None = None,
    verbose: bool = False,
) -> SentimentModel:
    """Train a model of ``kind`` on the train split and (optionally) save it.

    The validation set is carved from train (``split``); it drives early stopping and is where the
    returned model's validation metrics come from. The test split is never looked at.

    Args:
        kind: A registered model kind (see :func:`~imdb_sentiment.available_kinds`).
        config: The kind's config dataclass (its defaults if ``None``).
        data: Dataset archive or folder (else ``IMDB_DATA``, the cache, a download).
        split: Validation fraction and seed.
        out: Folder to save the trained model to (atomically), if given.
        limit: Train on a seeded stratified sample of this many training reviews (for quick runs).
        verbose: Show training progress.

    Kinds that use validation only for reporting (``refit_with_validation``, e.g. ``ngram``) are then
    refitted on train + validation with the same config, and the saved model is that refit.

    Returns:
        The fitted model, with ``info_["metrics"]["validation"]`` filled in.

    Raises:
        ConfigError: unknown kind or config of the wrong kind.
        DataError: the dataset cannot be found or is invalid.
    """
    start_all = time.perf_counter()
    cls = get_model_class(kind)
    cls.check_config(config if config is not None else cls.config_class())
    wants_unlabeled = cls.wants_unlabeled(config)
    dataset = load_imdb(data, split=split, include_unsup=wants_unlabeled, progress=verbose)
    unlabeled = dataset.unsup["text"].tolist() if wants_unlabeled else None
    train_frame = dataset.train if limit is None else stratified_sample(dataset.train, limit, seed=dataset.split.seed)
    model = cls(config=config, verbose=verbose)
    validation = None
    if len(dataset.validation):
        validation = (dataset.validation["text"].tolist(), dataset.validation["label"].to_numpy("int64"))
    texts, labels = train_frame["text"].tolist(), train_frame["label"].to_numpy("int64")
    model.fit(texts, labels, validation=validation, unlabeled=unlabeled)
    metrics = {}
    if validation is not None:
        # A kind that knows its validation predictions gives them: an ensemble its honest cross-validated
        # ones (its members saw validation; no scoring speed), a transformer those of the epoch it kept
        # (minutes of scoring saved). The others are scored here.
        proba = getattr(model, "validation_proba_", None)
        seconds = getattr(model, "validation_seconds_", None)
        if proba is None or len(proba) != len(validation[0]):
            start = time.perf_counter()
            proba = model.predict_proba(validation[0])
            seconds = time.perf_counter() - start
        metrics["validation"] = compute_metrics(validation[1], proba, seconds=seconds)
    split_info = {**dataset.split.to_dict(), "train_reviews": len(texts), "refit_with_validation": False}
    if validation is not None and cls.refit_with_validation:
        # The validation figures above come from the model fitted on the train part only; the model
        # kept is the same config refitted on all labelled training reviews.
        model.fit(texts + validation[0], np.concatenate([labels, validation[1]]), unlabeled=unlabeled)
        split_info.update(train_reviews=len(texts) + len(validation[0]), refit_with_validation=True)
    model.info_["metrics"] = metrics
    model.info_["data_fingerprint"] = dataset.fingerprint
    model.info_["split"] = split_info
    model.info_["training"] = {
        "seconds": round(time.perf_counter() - start_all, 1),
        "reviews": split_info["train_reviews"],
    }
    if out is not None:
        model.save(out)
    return model


def reconfigure(
    model_dir: str | Path,
    changes: Mapping[str, Any],
    *,
    out: str | Path,
    data: str | Path | None = None,
    verbose: bool = False,
) -> SentimentModel:
    """Save a copy of a model with other inference settings, its validation metrics re-scored.

    Only the kind's ``inference_keys`` may change (a transformer's ``inference_truncation``, say): the
    weights are copied as they are. The copy is scored on the validation reviews the model was trained
    without (the split in its manifest), so its validation figures describe the new settings; figures
    taken with the old settings (a test score) are dropped, and the manifest's ``reconfigured`` entry
    records what changed and where the model came from.

    Args:
        model_dir: A saved model.
        changes: Config key -> new value (strings are parsed by the key's type, as ``--set`` does).
        out: Folder to save the copy to (atomically; it may be ``model_dir`` itself).
        data: Dataset archive or folder (else ``IMDB_DATA``, the cache, a download).
        verbose: Show progress while the dataset is read and the validation reviews are scored.

    Returns:
        The reconfigured model, with ``info_["metrics"]["validation"]`` re-scored.

    Raises:
        InputError: no changes were given.
        ConfigError: a key is unknown, has a bad value, or cannot change after training.
        ModelError: ``model_dir`` is not a saved model.
        DataError: the dataset cannot be found.
    """
    if not changes:
        raise InputError("give at least one setting to change, e.g. inference_truncation=head_tail")
    check_save_target(out)  # before minutes of scoring, not after
    model = load_model(model_dir)
    old = model.resolved_config
    new = old.replace(**changes)  # validates keys and values first, so a typo reads as one
    fixed = sorted(set(changes) - set(model.inference_keys))
    if fixed:
        can = ", ".join(model.inference_keys) or "none"
        raise ConfigError(
            f"{', '.join(fixed)} cannot change after training (the {model.kind} model learned with it); "
            f"settings a saved {model.kind} model can change: {can}"
        )
    model.set_params(config=new)
    model.show_progress(verbose)
    before, after = old.to_dict(), new.to_dict()
    step = {
        "from": str(model_dir),
        "changes": {k: {"was": before[k], "now": after[k]} for k in sorted(changes)},
        "previous_validation": (model.info_["metrics"] or {}).get("validation"),
    }
    metrics: dict[str, Any] = {}
    stored = model.info_.get("split") or {}
    if stored:
        split = SplitConfig(validation_fraction=stored["validation_fraction"], seed=stored["seed"])
        dataset = load_imdb(data, split=split, progress=verbose)
        if model.info_.get("data_fingerprint") not in (None, dataset.fingerprint):
            # The same reviews as a folder rather than the archive fingerprint differently, and the split
            # (by review id) is the same; a different dataset would give figures that do not compare.
            warnings.warn(
                f"{dataset.source} is not the copy of the dataset {model_dir} was trained on (another "
                "fingerprint); its validation reviews are the same only if the dataset is",
                stacklevel=2,
            )
        texts, labels = dataset.validation["text"].tolist(), dataset.validation["label"].to_numpy("int64")
        start = time.perf_counter()
        proba = model.predict_proba(texts)
        metrics["validation"] = compute_metrics(labels, proba, seconds=time.perf_counter() - start)
    # Without the split it was trained with (a model fitted in Python and saved), there is no telling
    # which reviews it has not seen, so it gets no validation figures rather than flattering ones.
    model.info_["metrics"] = metrics
    model.info_["reconfigured"] = [*(model.info_.get("reconfigured") or []), step]
    model.save(out)
    return model


def rating_metrics(stars_true: np.ndarray, rating: np.ndarray, p_positive: np.ndarray | None = None) -> dict[str, Any]:
    """How close predicted star ratings are: MAE, RMSE, exact and within-one-star accuracy, the polarity
    they imply (>= 5.5 is positive) and, given ``p_positive``, the classifier's accuracy beside it."""
    y, r = np.asarray(stars_true, dtype=np.float64), np.asarray(rating, dtype=np.float64)
    error = np.abs(np.round(r) - y)
    out = {
        "n": len(y),
        "mae": float(np.abs(r - y).mean()),
        "rmse": float(np.sqrt(((r - y) ** 2).mean())),
        "exact": float((error == 0).mean()),
        "within_one": float((error <= 1).mean()),
        "polarity_accuracy": float(((r >= 5.5) == (y >= 5.5)).mean()),
    }
    if p_positive is not None:
        out["classifier_accuracy"] = float(((np.asarray(p_positive) >= 0.5) == (y >= 5.5)).mean())
    return out


def train_rating(
    model_dir: str | Path,
    *,
    out: str | Path | None = None,
    config: Config | None = None,
    data: str | Path | None = None,
    verbose: bool = False,
) -> SentimentModel:
    """Fit a star-rating head (:mod:`imdb_sentiment.models.rating`) for a saved model and save it with it.

    The text stage learns from every training review's stars. The fusion stage needs the model's output
    on reviews it did not learn from: the training reviews its kind says it left out
    (:meth:`~imdb_sentiment.models.base.SentimentModel.unseen_training_rows`), else the validation reviews
    (then the validation figures are in-sample for the fusion's 56 weights, and the manifest says so).
    The test split is never looked at.

    Args:
        model_dir: A saved model, trained on the dataset's train split (its manifest records the split).
        out: Where to save the model with its head (atomically); default: ``model_dir`` itself.
        config: A :class:`~imdb_sentiment.models.rating.RatingConfig` (defaults if ``None``).
        data: Dataset archive or folder (else ``IMDB_DATA``, the cache, a download).
        verbose: Progress bars while the reviews are read and scored.

    Raises:
        ModelError: ``model_dir`` is not a saved model.
        InputError: the model has no recorded split, so there is no telling which reviews it has not seen.
        DataError: the dataset cannot be found.
    """
    from imdb_sentiment.models.rating import RatingConfig, RatingHead, attach_rating, median_stars

    if out is not None:
        check_save_target(out)
    model = load_model(model_dir)
    stored = model.info_.get("split") or {}
    if not stored:
        raise InputError(f"{model_dir} records no train/validation split, so the reviews it has not seen are unknown")
    split = SplitConfig(validation_fraction=stored["validation_fraction"], seed=stored["seed"])
    dataset = load_imdb(data, split=split, progress=verbose)
    train_rows, validation = dataset.train, dataset.validation
    unseen = model.unseen_training_rows(train_rows["text"].tolist(), train_rows["label"].to_numpy("int64"))
    on_validation = unseen.sum() < 1000
    frames = [train_rows, validation] if on_validation else [train_rows]
    texts = [t for f in frames for t in f["text"].tolist()]
    stars = np.concatenate([f["rating"].to_numpy("int64") for f in frames])
    fusion = (
        np.concatenate([np.zeros(len(train_rows), bool), np.ones(len(validation), bool)]) if on_validation else unseen
    )
    rows = np.flatnonzero(fusion)
    p_positive = np.full(len(texts), 0.5)
    model.show_progress(verbose)
    proba, found = model.predict_proba_and_features([texts[i] for i in rows])
    p_positive[rows] = proba[:, 1]
    features = None
    if found is not None:  # kinds with features (a transformer): the fusion reads them too
        features = np.zeros((len(texts), found.shape[1]), dtype=np.float32)
        features[rows] = found
    cfg = config if isinstance(config, RatingConfig) else RatingConfig()
    head = RatingHead(cfg).fit(texts, stars, p_positive, fusion, features)
    val_texts = validation["text"].tolist()
    if on_validation:
        val_p = p_positive[len(train_rows) :]
        val_features = None if features is None else features[len(train_rows) :]
    else:
        val_proba, val_features = model.predict_proba_and_features(val_texts)
        val_p = val_proba[:, 1]
    val_stars = head.predict_stars(val_texts, val_p, val_features)
    head.info_["metrics"] = {
        "validation": rating_metrics(validation["rating"].to_numpy(), median_stars(val_stars), val_p)
        | {"fusion_fitted_on_it": bool(on_validation)}
    }
    model.rating_head_ = head
    from imdb_sentiment.audience.polarity import fit_clause_scorer

    # Clauses of the fusion reviews: the model's verdict on the review is as sure there as on new reviews.
    fit_clause_scorer(model, [texts[i] for i in rows], p_positive[rows], seed=cfg.seed)
    attach_rating(model_dir, head, out)
    return model


def attach_clause_reader(
    model_dir: str | Path, reader: str | Path | None, *, out: str | Path | None = None
) -> SentimentModel:
    """Save a model with a clause reader, the model that ``summarize``, ``explain``, the API and the app read
    each aspect's clause with (or without one: ``reader=None``, back to the rating head's scorer).

    Args:
        model_dir: A saved model (or ``"pretrained"``).
        reader: A saved model to read clauses with, or a model that carries a reader, whose reader is taken
            (``"pretrained"``: the shipped model's); ``None`` removes the reader.
        out: Where to save (atomically); default: ``model_dir`` itself.

    Returns:
        The model with its new reader.

    Raises:
        ModelError: ``model_dir`` or ``reader`` is not a saved model, or ``out`` holds something else.
    """
    from imdb_sentiment.pretrained import resolve

    target = check_save_target(out if out is not None else resolve(model_dir))  # before loading, not after
    model = load_model(model_dir)
    source = load_model(reader) if reader is not None else None
    if source is not None and source.clause_reader_ is not None:
        source = source.clause_reader_  # a model that carries a reader lends it, not itself
    model.clause_reader_ = source
    model.save(target)
    return model
