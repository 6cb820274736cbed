"""Train a model kind on the IMDb train split, with validation carved from it, and save it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from imdb_sentiment.config import Config, SplitConfig
from imdb_sentiment.data import load_imdb, stratified_sample
from imdb_sentiment.evaluate import compute_metrics
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.registry import DEFAULT_KIND, get_model_class


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
    dataset = load_imdb(data, split=split, include_unsup=cls.uses_unlabeled, progress=verbose)
    unlabeled = dataset.unsup["text"].tolist() if cls.uses_unlabeled else None
    train_frame = dataset.train if limit is None else stratified_sample(dataset.train, limit, seed=dataset.split.seed)
    model = cls(config=config, verbose=verbose)  # type: ignore[call-arg]
    validation = None
    if len(dataset.validation):
        validation = (dataset.validation["text"].tolist(), dataset.validation["label"].to_numpy("int64"))
    texts, labels = train_frame["text"].tolist(), train_frame["label"].to_numpy("int64")
    model.fit(texts, labels, validation=validation, unlabeled=unlabeled)
    metrics = {}
    if validation is not None:
        # A kind that knows its honest validation predictions (an ensemble whose members saw validation)
        # gives them, and no scoring speed is measured; the others are scored here.
        proba = getattr(model, "validation_proba_", None)
        seconds = None
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
