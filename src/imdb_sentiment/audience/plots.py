"""The figures of the audience report, as PNG bytes (the report embeds them; nothing is written to disk).

Drawn with the project's matplotlib setup (:func:`imdb_sentiment.plots.pyplot`, its resolution). Group
names, aspects and the like come from the user's data: :func:`label` shortens them and keeps matplotlib
from reading ``$...$`` as mathematics, or a leading underscore as "leave out of the legend".
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from imdb_sentiment.plots import DPI, pyplot

#: Colours of positive / negative / neutral marks.
POSITIVE, NEGATIVE, NEUTRAL = "#2a7ab0", "#c0392b", "#7f7f7f"
#: A group's period with fewer reviews is not drawn in the trend.
MIN_PERIOD_REVIEWS = 5


def label(text: Any, width: int = 40) -> str:
    """``text`` as a safe matplotlib label: at most ``width`` characters, no mathtext, no hidden legend entry."""
    value = str(text)
    if len(value) > width:
        value = value[: width - 1] + "\u2026"
    value = value.replace("$", r"\$")
    return " " + value if value.startswith("_") else value


def to_png(fig: Any) -> bytes:
    """Lay out ``fig``, render it as PNG bytes and close it (as :func:`imdb_sentiment.plots.save_figure`)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # A name in a script the font lacks draws as boxes; that is no reason to fail or to warn per glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        fig.tight_layout()
        fig.savefig(buffer, dpi=DPI, format="png")
    pyplot().close(fig)
    return buffer.getvalue()


def ranked(
    rows: pd.DataFrame, *, value: str, low: str, high: str, title: str, xlabel: str, reference: float | None = None
) -> bytes:
    """Groups as dots with interval bars, best at the top; ``rows`` in display order (a row with a NaN
    ``value`` draws as a gap, to separate a top block from a bottom block)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.26 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    v = rows[value].to_numpy(dtype=np.float64)
    err = np.vstack([v - rows[low].to_numpy(dtype=np.float64), rows[high].to_numpy(dtype=np.float64) - v])
    ax.errorbar(v, y, xerr=np.nan_to_num(np.maximum(err, 0)), fmt="o", color=POSITIVE, ecolor="#9cc3dc", capsize=2)
    if reference is not None:
        ax.axvline(reference, color=NEUTRAL, linestyle=":", label=f"all groups ({reference:.3g})")
        ax.legend(loc="lower right", fontsize=8)
    names = ["" if np.isnan(x) else label(g) for g, x in zip(rows["group"], v, strict=True)]
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)


def aspect_trend(frame: pd.DataFrame) -> bytes:
    """The share of positive mentions per period, one small panel per aspect (the table's order) with its
    interval band; a period with fewer than ``MIN_PERIOD_REVIEWS`` mentions of the aspect is left out."""
    plt = pyplot()
    aspects = list(dict.fromkeys(frame["aspect"]))
    fig, axes = plt.subplots(1, len(aspects), figsize=(2.6 * len(aspects) + 1, 3.2), sharey=True, squeeze=False)
    for ax, aspect in zip(axes[0], aspects, strict=True):
        rows = frame[frame["aspect"] == aspect]
        enough = rows["mentions"].to_numpy() >= MIN_PERIOD_REVIEWS
        when = rows["period"].to_numpy()
        ax.fill_between(
            when,
            np.where(enough, rows["share_positive_low"].to_numpy(dtype=np.float64), np.nan),
            np.where(enough, rows["share_positive_high"].to_numpy(dtype=np.float64), np.nan),
            color=POSITIVE,
            alpha=0.15,
        )
        share = np.where(enough, rows["share_positive"].to_numpy(dtype=np.float64), np.nan)
        ax.plot(when, share, marker=".", color=POSITIVE)
        ax.set_title(label(aspect, 20), fontsize=9)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes[0][0].set_ylabel("share of positive mentions")
    fig.suptitle(f"Aspects over time (periods with fewer than {MIN_PERIOD_REVIEWS} mentions of an aspect left out)")
    return to_png(fig)


def rating_distribution(stars: Sequence[int], predicted: np.ndarray, true: np.ndarray | None = None) -> bytes:
    """Bars of the pooled distribution over star ratings, beside the true one when known."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x = np.arange(len(stars))
    width = 0.4 if true is not None else 0.7
    ax.bar(x - (width / 2 if true is not None else 0), predicted, width, color=POSITIVE, label="estimated")
    if true is not None:
        ax.bar(x + width / 2, true, width, color=NEUTRAL, label="true")
        ax.legend()
    ax.set_xticks(x, [str(s) for s in stars])
    ax.set_xlabel("stars")
    ax.set_ylabel("share of reviews")
    ax.set_title("Distribution of ratings, all groups")
    return to_png(fig)


def true_vs_estimated(groups: pd.DataFrame) -> bytes:
    """Each group's estimated share positive and mean rating against the true ones (point size ~ reviews)."""
    plt = pyplot()
    pairs = [(c, f"true_{c}") for c in ("share_positive", "mean_rating") if f"true_{c}" in groups.columns]
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.6 * len(pairs), 4.2), squeeze=False)
    size = 8 + 40 * np.sqrt(groups["n"] / max(groups["n"].max(), 1))
    for ax, (estimated, true) in zip(axes[0], pairs, strict=True):
        ax.scatter(groups[true], groups[estimated], s=size, alpha=0.5, color=POSITIVE)
        both = pd.concat([groups[true], groups[estimated]]).dropna()
        if len(both):
            ax.plot([both.min(), both.max()], [both.min(), both.max()], color=NEUTRAL, linestyle="--", label="y = x")
            ax.legend(loc="upper left")
        ax.set_xlabel(f"true {estimated.replace('_', ' ')}")
        ax.set_ylabel(f"estimated {estimated.replace('_', ' ')}")
    fig.suptitle("Estimated against true, per group")
    return to_png(fig)


def aspect_heatmap(share: pd.DataFrame, mentions: pd.DataFrame) -> bytes:
    """Groups (rows) by aspects (columns) coloured by share positive, annotated with the share; cells
    without mentions are blank."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.0 + 0.62 * share.shape[1] + 2.2, 0.36 * share.shape[0] + 2.0))
    values = share.to_numpy(dtype=np.float64)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu", vmin=0, vmax=1, aspect="auto")
    counts = mentions.to_numpy(dtype=np.float64)
    for (i, j), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(
                j, i, f"{v:.0%}", ha="center", va="center", fontsize=7, color="white" if abs(v - 0.5) > 0.3 else "black"
            )
            if counts[i, j] < 5:  # too few mentions to read much into: say so in the cell
                ax.text(j + 0.45, i - 0.45, "*", ha="right", va="top", fontsize=7)
    ax.set_xticks(range(share.shape[1]), [label(c, 18) for c in share.columns], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(share.shape[0]), [label(g, 30) for g in share.index], fontsize=8)
    fig.colorbar(image, ax=ax, label="share positive", fraction=0.04)
    ax.set_title("Positive mentions (* under 5)")
    return to_png(fig)


def aspect_bars(pooled: pd.DataFrame) -> bytes:
    """Share positive of each aspect over all groups, with its interval and number of mentions."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(pooled) + 1.4))
    y = np.arange(len(pooled))[::-1]
    share = pooled["share_positive"].to_numpy(dtype=np.float64)
    err = np.vstack([share - pooled["share_positive_low"], pooled["share_positive_high"] - share])
    colours = [POSITIVE if s >= 0.5 else NEGATIVE for s in share]
    ax.barh(y, share, color=colours, alpha=0.8, xerr=np.maximum(err, 0), ecolor="#555555", capsize=2)
    for yi, n in zip(y, pooled["mentions"], strict=True):
        ax.text(1.01, yi, f"{int(n):,}", va="center", fontsize=7, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, [label(a, 30) for a in pooled["aspect"]], fontsize=8)
    ax.set_xlim(0, 1)
    ax.axvline(0.5, color=NEUTRAL, linestyle=":")
    ax.set_xlabel("share of positive mentions (number of mentions at the right)")
    ax.set_title("Aspects over all groups")
    return to_png(fig)


def trend(frame: pd.DataFrame) -> bytes:
    """Share positive and mean rating per period: all reviews with their interval band, and each group."""
    plt = pyplot()
    ratings = frame["mean_rating"].notna().any()
    fig, axes = plt.subplots(1, 2 if ratings else 1, figsize=(12 if ratings else 7, 3.8), squeeze=False)
    panels = [("share_positive", "share positive")] + ([("mean_rating", "mean rating")] if ratings else [])
    everyone = frame[frame["group"].isna()]
    for ax, (column, name) in zip(axes[0], panels, strict=True):
        ax.plot(everyone["period"], everyone[column], marker="o", color="black", label="all reviews")
        ax.fill_between(
            everyone["period"].to_numpy(),
            everyone[f"{column}_low"].to_numpy(dtype=np.float64),
            everyone[f"{column}_high"].to_numpy(dtype=np.float64),
            color="black",
            alpha=0.15,
        )
        for group, rows in frame[frame["group"].notna()].groupby("group", sort=False):
            # A group's period of one or two reviews is noise at 0 or 1; leave it out of the line.
            values = rows[column].where(rows["n"] >= MIN_PERIOD_REVIEWS)
            ax.plot(rows["period"], values, marker=".", alpha=0.8, label=label(group, 30))
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=30)
    axes[0][-1].legend(fontsize=7, loc="best")
    period = str(frame["freq"].iloc[0]) if len(frame) else "period"
    fig.suptitle(f"By {period} (a group's periods with fewer than {MIN_PERIOD_REVIEWS} reviews left out)")
    return to_png(fig)
