"""Metrics, reports and plots.

``compute_metrics`` returns plain JSON-ready numbers; ``write_report`` writes them with the plots a person
would rather look at than read: training curves, confusion matrix, ROC curve and the distribution of
predicted probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as skm

from imdb_sentiment._atomic import atomic_path, write_json
from imdb_sentiment.models.base import LABELS

# Clip probabilities away from 0 and 1 so one confident mistake gives a large, finite log loss.
_EPS = 1e-7


def compute_metrics(
    labels: Sequence[int] | np.ndarray, proba: np.ndarray, *, seconds: float | None = None
) -> dict[str, Any]:
    """Classification metrics for probabilities ``proba`` (columns ``[negative, positive]``).

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
    p = np.clip(np.asarray(proba, dtype=np.float64)[:, 1], _EPS, 1 - _EPS)
    pred = (proba[:, 1] > proba[:, 0]).astype(np.int64)
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
    """Write ``metrics.json`` and the PNG plots into ``folder``; return the files written."""
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


def _pyplot() -> Any:
    # Import lazily and force a file-only backend: reports are written on servers without a display.
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    _pyplot().close(fig)
    return path


def plot_history(history: Mapping[str, Sequence[float]], path: Path) -> Path:
    """Plot train vs validation curves for each metric in a Keras-style history."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    names = [k for k in history if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        epochs = np.arange(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            val = np.asarray(history[f"val_{name}"])
            ax.plot(epochs, val, marker="o", label="validation")
            best = int(np.argmin(val) if "loss" in name else np.argmax(val))
            ax.axvline(best + 1, color="grey", linestyle=":", label=f"best (epoch {best + 1})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name.replace("_", " "))
        ax.legend()
    return _save(fig, path)


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], path: Path, *, title: str = "") -> Path:
    """Heatmap of the confusion matrix, with counts and row percentages."""
    import seaborn as sns

    plt = _pyplot()
    cm = np.asarray(matrix)
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    notes = np.array([[f"{cm[i, j]:,}\n{share[i, j]:.1%}" for j in range(2)] for i in range(2)])
    fig, ax = plt.subplots(figsize=(4.6, 4))
    sns.heatmap(
        share,
        annot=notes,
        fmt="",
        cmap="Blues",
        vmin=0,
        vmax=1,
        cbar=False,
        xticklabels=LABELS,
        yticklabels=LABELS,
        ax=ax,
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix {title}".strip())
    return _save(fig, path)


def plot_roc(labels: np.ndarray, proba: np.ndarray, path: Path, *, title: str = "") -> Path:
    """ROC curve of the positive-class probability, with its AUC."""
    plt = _pyplot()
    fpr, tpr, _ = skm.roc_curve(labels, proba[:, 1])
    auc = skm.auc(fpr, tpr)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot(fpr, tpr, label=f"AUC = {auc:.4f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"ROC {title}".strip())
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_probabilities(labels: np.ndarray, proba: np.ndarray, path: Path, *, title: str = "") -> Path:
    """Histogram of P(positive), split by the true label."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    bins = np.linspace(0, 1, 41)
    for value, name in enumerate(LABELS):
        ax.hist(proba[labels == value, 1], bins=bins, alpha=0.6, label=f"true {name}")
    ax.set_xlabel("predicted P(positive)")
    ax.set_ylabel("reviews")
    ax.set_title(f"Predicted probabilities {title}".strip())
    ax.legend()
    return _save(fig, path)
