"""The shared figure helpers: a file-only backend, atomic PNG writes that close the figure, real images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imdb_sentiment import plots
from pngcheck import assert_png_image


def test_pyplot_draws_without_a_display():
    plt = plots.pyplot()
    assert plt.get_backend().lower() == "agg"


def test_save_figure_writes_the_png_and_closes_the_figure(tmp_path):
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [2, 0, 1])
    ax.set_title("a line")
    path = plots.save_figure(fig, str(tmp_path / "nested" / "line.png"))  # a str and a missing folder
    assert path == tmp_path / "nested" / "line.png"
    assert_png_image(path, size=(3 * plots.DPI, 2 * plots.DPI))
    assert fig.number not in plt.get_fignums()
    assert [p.name for p in path.parent.iterdir()] == ["line.png"]  # no temporary file left


def test_a_failed_save_leaves_nothing_behind(tmp_path, monkeypatch):
    plt = plots.pyplot()
    fig, _ = plt.subplots()

    def write_half_then_fail(path, **kwargs):
        Path(path).write_bytes(b"\x89PNG half an image")
        raise OSError("disk full")

    monkeypatch.setattr(fig, "savefig", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        plots.save_figure(fig, tmp_path / "broken.png")
    assert list(tmp_path.iterdir()) == []
    plt.close(fig)


@pytest.mark.parametrize(
    ("history", "width"),
    [
        ({"loss": [0.7, 0.5, 0.6], "val_loss": [0.69, 0.6, 0.65]}, 5),
        ({"loss": [0.7, 0.5], "accuracy": [0.5, 0.8], "val_accuracy": [0.5, 0.7]}, 10),
    ],
    ids=["one-metric", "two-metrics"],
)
def test_plot_history_one_panel_per_metric(tmp_path, history, width):
    path = plots.plot_history(history, tmp_path / "curves.png")
    assert_png_image(path, size=(width * plots.DPI, round(3.8 * plots.DPI)))


def test_result_plots(tmp_path):
    labels = np.array([0, 0, 1, 1, 1])
    p = np.array([0.2, 0.6, 0.7, 0.9, 0.4])
    proba = np.column_stack([1 - p, p])
    dpi = plots.DPI
    assert_png_image(plots.plot_confusion_matrix([[1, 1], [1, 2]], tmp_path / "cm.png"), size=(552, 4 * dpi))
    assert_png_image(plots.plot_roc(labels, proba, tmp_path / "roc.png", title="t"), size=(552, 504))
    assert_png_image(plots.plot_probabilities(labels, proba, tmp_path / "p.png"), size=(660, 456))
