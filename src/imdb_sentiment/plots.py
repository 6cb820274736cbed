"""Figures as PNG files: the matplotlib setup every plot shares, and the plots of a model's results.

:func:`pyplot` gives matplotlib on its file-only backend and :func:`save_figure` writes a figure
atomically and closes it; every module that draws (reports, explanations, the notebook's helpers) goes
through these two, so figures look and behave the same everywhere.

The plots of a model's results live here too: training curves (:func:`plot_history`), the confusion
matrix, the ROC curve and the distribution of predicted probabilities. This module imports nothing from
the models, so a model can draw its own training curves when it is saved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imdb_sentiment._atomic import atomic_path
from imdb_sentiment.labels import LABELS

#: Resolution of every PNG written.
DPI = 120


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the ``Agg`` backend.

    Imported lazily (matplotlib is slow to import and many commands never draw) and forced onto a
    file-only backend: reports are written on servers without a display.

    Returns:
        The ``matplotlib.pyplot`` module.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path) -> Path:
    """Lay out ``fig``, write it to ``path`` as a PNG and close it.

    The PNG is written to a temporary file beside ``path`` and renamed into place, so a reader never
    sees half an image; closing the figure keeps long-running processes from accumulating them.

    Args:
        fig: A matplotlib figure.
        path: Where to write the PNG.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    pyplot().close(fig)
    return path


def plot_history(history: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """Plot train vs validation curves for each metric in a Keras-style history.

    Args:
        history: ``{"loss": [...], "val_loss": [...], ...}``, one value per epoch; a ``val_`` series is
            drawn beside its training series, with the best epoch marked.
        path: Where to write the PNG.

    Returns:
        ``path``.
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    names = [k for k in history if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        epochs = np.arange(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            val = np.asarray(history[f"val_{name}"])
            ax.plot(epochs, val, marker="o", label="validation")
            # A loss is best at its minimum, every other metric (accuracy, AUC) at its maximum.
            best = int(np.argmin(val) if "loss" in name else np.argmax(val))
            ax.axvline(best + 1, color="grey", linestyle=":", label=f"best (epoch {best + 1})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name.replace("_", " "))
        ax.legend()
    return save_figure(fig, path)


def plot_confusion_matrix(matrix: Sequence[Sequence[int]], path: str | Path, *, title: str = "") -> Path:
    """Heatmap of a 2 x 2 confusion matrix, with counts and row percentages.

    Args:
        matrix: Rows: true ``[negative, positive]``; columns: predicted (as ``compute_metrics`` returns it).
        path: Where to write the PNG.
        title: Appended to the figure's title.

    Returns:
        ``path``.
    """
    import seaborn as sns

    plt = pyplot()
    cm = np.asarray(matrix)
    # Colour by the share of each true class, so an imbalanced test set still reads at a glance.
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
    return save_figure(fig, path)


def plot_roc(labels: np.ndarray, proba: np.ndarray, path: str | Path, *, title: str = "") -> Path:
    """ROC curve of the positive-class probability, with its AUC.

    Args:
        labels: True 0/1 labels (both classes present).
        proba: ``(n, 2)`` probabilities, columns ``[negative, positive]``.
        path: Where to write the PNG.
        title: Appended to the figure's title.

    Returns:
        ``path``.
    """
    from sklearn import metrics as skm

    plt = pyplot()
    fpr, tpr, _ = skm.roc_curve(labels, proba[:, 1])
    auc = skm.auc(fpr, tpr)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot(fpr, tpr, label=f"AUC = {auc:.4f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"ROC {title}".strip())
    ax.legend(loc="lower right")
    return save_figure(fig, path)


def plot_probabilities(labels: np.ndarray, proba: np.ndarray, path: str | Path, *, title: str = "") -> Path:
    """Histogram of P(positive), split by the true label.

    Args:
        labels: True 0/1 labels.
        proba: ``(n, 2)`` probabilities, columns ``[negative, positive]``.
        path: Where to write the PNG.
        title: Appended to the figure's title.

    Returns:
        ``path``.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    bins = np.linspace(0, 1, 41)
    for value, name in enumerate(LABELS):
        ax.hist(proba[labels == value, 1], bins=bins, alpha=0.6, label=f"true {name}")
    ax.set_xlabel("predicted P(positive)")
    ax.set_ylabel("reviews")
    ax.set_title(f"Predicted probabilities {title}".strip())
    ax.legend()
    return save_figure(fig, path)
