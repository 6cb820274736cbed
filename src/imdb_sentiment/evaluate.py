"""Evaluate a model: metrics, the report folder, and the whole job the ``evaluate`` command does.

``compute_metrics`` returns plain JSON-ready numbers; ``write_report`` writes them with the plots a person
would rather look at than read (:mod:`imdb_sentiment.plots`): training curves, confusion matrix, ROC curve
and the distribution of predicted probabilities. ``evaluate_model`` scores a saved model on an IMDb split
(rebuilt exactly as the model was trained with) or on a labelled file, records test figures in the model's
manifest and optionally writes the report; the CLI only parses its options and prints what it returns.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as skm

from imdb_sentiment._atomic import write_json
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.data import load_imdb, stratified_sample
from imdb_sentiment.errors import InputError
from imdb_sentiment.labels import LABELS, label_ids
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.manifest import update_metrics
from imdb_sentiment.models.registry import load_model
from imdb_sentiment.plots import plot_confusion_matrix, plot_history, plot_probabilities, plot_roc
from imdb_sentiment.pretrained import is_shipped, resolve

# Clip probabilities away from 0 and 1 so one confident mistake gives a large, finite log loss.
_EPS = 1e-7
#: The IMDb splits a model can be evaluated on.
SPLITS = ("train", "validation", "test")


def compute_metrics(
    labels: Sequence[int] | np.ndarray, proba: np.ndarray, *, seconds: float | None = None
) -> dict[str, Any]:
    """Classification metrics for probabilities ``proba`` (columns ``[negative, positive]``).

    A review's predicted label follows :func:`imdb_sentiment.labels.label_ids`: positive iff
    ``p_positive >= 0.5``, so a tie counts as positive here as everywhere else.

    Args:
        labels: True labels, 0 or 1.
        proba: ``(n, 2)`` predicted probabilities.
        seconds: Inference time for the ``n`` reviews, to report ``reviews_per_s``.

    Returns:
        ``accuracy``, ``log_loss``, ``f1`` (positive class), ``f1_macro``, ``roc_auc``, ``precision``,
        ``recall`` and ``f1`` per class under ``per_class``, ``confusion_matrix`` (rows: true
        ``[negative, positive]``; columns: predicted), ``n`` and ``reviews_per_s``.
    """
    y = np.asarray(labels, dtype=np.int64)
    p_positive = np.asarray(proba, dtype=np.float64)[:, 1]
    p = np.clip(p_positive, _EPS, 1 - _EPS)
    pred = label_ids(p_positive)
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, pred, labels=[0, 1], zero_division=0)
    both_classes = len(np.unique(y)) == 2
    result: dict[str, Any] = {
        "n": len(y),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "log_loss": float(skm.log_loss(y, p, labels=[0, 1])),
        "f1": float(f1[1]),
        "f1_macro": float(f1.mean()),
        "roc_auc": float(skm.roc_auc_score(y, p)) if both_classes else None,
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "n": int(support[i]),
            }
            for i, name in enumerate(LABELS)
        },
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        "reviews_per_s": (len(y) / seconds) if seconds else None,
    }
    return result


def write_report(
    folder: str | Path,
    labels: Sequence[int] | np.ndarray,
    proba: np.ndarray,
    metrics: Mapping[str, Any],
    *,
    history: Mapping[str, Sequence[float]] | None = None,
    title: str = "",
) -> list[Path]:
    """Write ``metrics.json`` and the PNG plots into ``folder`` (created if missing).

    Args:
        folder: The report folder.
        labels: True 0/1 labels.
        proba: ``(n, 2)`` predicted probabilities.
        metrics: What :func:`compute_metrics` returned (with any extra entries to keep).
        history: Per-epoch training metrics; plotted as ``training_curves.png`` when given.
        title: Appended to each figure's title.

    Returns:
        The files written: ``metrics.json``, ``training_curves.png`` (with a history),
        ``confusion_matrix.png``, ``roc_curve.png`` (when both classes are present) and
        ``probability_distribution.png``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "metrics.json"]
    write_json(written[0], dict(metrics))
    if history:
        written.append(plot_history(history, folder / "training_curves.png"))
    written.append(plot_confusion_matrix(metrics["confusion_matrix"], folder / "confusion_matrix.png", title=title))
    y = np.asarray(labels, dtype=np.int64)
    if len(np.unique(y)) == 2:
        written.append(plot_roc(y, proba, folder / "roc_curve.png", title=title))
    written.append(plot_probabilities(y, proba, folder / "probability_distribution.png", title=title))
    return written


def evaluation_set(
    model: SentimentModel,
    *,
    split: str = "test",
    data: str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    file: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
) -> tuple[list[str], np.ndarray, str]:
    """The labelled reviews to evaluate ``model`` on: an IMDb split or a labelled file.

    The IMDb split is rebuilt with the validation fraction and seed stored in the model's manifest, so
    ``validation`` holds exactly the reviews the model was trained without.

    Args:
        model: The model to evaluate (its ``info_["split"]`` says how the data was split).
        split: ``"train"``, ``"validation"`` or ``"test"`` (ignored with ``file``).
        data: The dataset's archive or folder (default: ``$IMDB_DATA``, the cache, a download).
        limit: Keep a seeded stratified sample of this many reviews.
        seed: Seed of that sample.
        file: A labelled CSV, JSONL or Parquet file to use instead of IMDb.
        text_column: Text column of ``file``.
        label_column: Label column of ``file`` (0/1 or negative/positive).

    Returns:
        ``(texts, labels, name)``; ``name`` is ``imdb-<split>`` or the file's name.

    Raises:
        InputError: an unknown split, an unreadable file or columns, or no reviews to evaluate.
    """
    if file is not None:
        from imdb_sentiment.io.readers import label_column as read_labels
        from imdb_sentiment.io.readers import read_table
        from imdb_sentiment.io.readers import text_column as read_texts

        file = Path(file)
        frame = read_table(file)
        texts = read_texts(frame, text_column, source=str(file))
        labels = read_labels(frame, label_column, source=str(file))
        if limit is not None:
            frame = stratified_sample(frame.assign(_label=labels), limit, seed=seed, label="_label")
            texts, labels = frame[text_column].tolist(), frame["_label"].tolist()
        result = texts, np.asarray(labels, dtype=np.int64), file.name
    else:
        if split not in SPLITS:
            raise InputError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
        stored = model.info_.get("split") or {}
        split_config = SplitConfig(
            validation_fraction=stored.get("validation_fraction", 0.1), seed=stored.get("seed", 0)
        )
        frame = load_imdb(data, split=split_config).reviews(split)
        if limit is not None:
            frame = stratified_sample(frame, limit, seed=seed)
        result = frame["text"].tolist(), frame["label"].to_numpy("int64"), f"imdb-{split}"
    if not result[0]:
        raise InputError("nothing to evaluate: the input has no rows")
    return result


def evaluate_model(
    model: SentimentModel | str | Path | None,
    *,
    split: str = "test",
    data: str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    file: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
    report: str | Path | None = None,
) -> dict[str, Any]:
    """Score a model on an IMDb split or a labelled file: what ``imdb-sentiment evaluate`` does.

    The full IMDb test split's figures are recorded under ``metrics.test`` in the model's manifest; a
    sample (``limit``), another split, a file, a model given as an object and the shipped model (whose
    manifest keeps the figures of its build) are not recorded.

    Args:
        model: A saved model folder, ``"pretrained"`` or ``None`` (the shipped model), or a fitted model.
        split: ``"train"``, ``"validation"`` or ``"test"`` (ignored with ``file``).
        data: The dataset's archive or folder (default: ``$IMDB_DATA``, the cache, a download).
        limit: Evaluate on a seeded stratified sample of this many reviews.
        seed: Seed of that sample.
        file: A labelled CSV, JSONL or Parquet file to use instead of IMDb.
        text_column: Text column of ``file``.
        label_column: Label column of ``file`` (0/1 or negative/positive).
        report: A folder to write ``metrics.json`` and the plots into (:func:`write_report`).

    Returns:
        ``model`` (the folder, ``None`` for a model object), ``kind``, ``dataset`` (``imdb-<split>`` or
        the file's name) and the entries of :func:`compute_metrics`.

    Raises:
        ModelError: ``model`` is not a saved model.
        InputError: an unknown split, an unreadable file or columns, or no reviews to evaluate.
    """
    if isinstance(model, SentimentModel):
        folder, fitted = None, model
    else:
        folder = resolve(model)
        fitted = load_model(folder)
    texts, labels, name = evaluation_set(
        fitted,
        split=split,
        data=data,
        limit=limit,
        seed=seed,
        file=file,
        text_column=text_column,
        label_column=label_column,
    )
    start = time.perf_counter()
    proba = fitted.predict_proba(texts)
    metrics = {
        "model": None if folder is None else str(folder),
        "kind": fitted.kind,
        "dataset": name,
        **compute_metrics(labels, proba, seconds=time.perf_counter() - start),
    }
    # Only the whole test split stands for the model's test figures; the shipped model's manifest is
    # part of the installation and records the build's own figures.
    if folder is not None and file is None and split == "test" and limit is None and not is_shipped(folder):
        update_metrics(folder, "test", {k: v for k, v in metrics.items() if k not in ("model", "dataset")})
    if report is not None:
        write_report(report, labels, proba, metrics, history=fitted.history_, title=f"({fitted.kind}, {name})")
    return metrics
