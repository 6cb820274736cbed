"""What the Audience page shows of a :class:`~imdb_sentiment.ui.audience.Summary`, without Streamlit:
the ranked table of groups, the headline figures, the plots (the report's figures, from
:mod:`imdb_sentiment.audience.plots`) and one group's aspects and example sentences.

Every name and sentence here comes from the user's data: the tables go to ``st.dataframe`` and the
figures are PNGs (:func:`imdb_sentiment.audience.plots.label` keeps matplotlib from reading a name as
mathematics), so nothing is rendered as HTML or Markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from imdb_sentiment.audience import plots
from imdb_sentiment.audience.aspect_stats import read_examples
from imdb_sentiment.audience.report import DETAIL_GROUPS, HEATMAP_ASPECTS, RANKED, pooled_from_table
from imdb_sentiment.ui.audience import Summary

#: How the groups table can be ranked: its label on the page -> the column of groups.csv.
RANK_BY = {"mean rating": "mean_rating", "share positive": "share_positive", "reviews": "n"}
#: Groups with fewer reviews are left out of the ranked plots (``summarize``'s default).
MIN_REVIEWS = 10


def weighted(groups: pd.DataFrame, column: str) -> float:
    """The mean of a figure over all reviews: each group's value weighted by its reviews (NaN when unknown)."""
    if column not in groups.columns:
        return float("nan")
    values, weights = groups[column].to_numpy(dtype=np.float64), groups["n"].to_numpy(dtype=np.float64)
    known = ~np.isnan(values)
    return float(np.average(values[known], weights=weights[known])) if weights[known].sum() > 0 else float("nan")


def _pct(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.1%}"


def _num(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.2f}"


def _intervals(frame: pd.DataFrame, column: str, fmt: Callable[[Any], str]) -> list[str]:
    """``low – high`` of ``column``'s interval, per row."""
    lows, highs = frame[f"{column}_low"], frame[f"{column}_high"]
    return [f"{fmt(low)} – {fmt(high)}" for low, high in zip(lows, highs, strict=True)]


def groups_table(groups: pd.DataFrame, *, by: str = "mean rating") -> pd.DataFrame:
    """The ranked table of the groups: best first by ``by`` (a key of :data:`RANK_BY`; ties: more reviews
    first), share positive in percent and the mean rating with their 95% intervals as text, the true
    figures when the summary has them (IMDb)."""
    column = RANK_BY[by]
    ranked = groups.sort_values([column, "n"], ascending=[False, False], kind="stable", na_position="last")
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(ranked) + 1),
            "group": ranked["group"].astype(str).to_numpy(),
            "reviews": ranked["n"].to_numpy(),
            "share positive %": (ranked["share_positive"] * 100).round(1).to_numpy(),
            "share interval": _intervals(ranked, "share_positive", _pct),
            "mean rating": ranked["mean_rating"].round(2).to_numpy(),
            "rating interval": _intervals(ranked, "mean_rating", _num),
        }
    )
    if "true_share_positive" in ranked.columns:
        table["true share positive %"] = (ranked["true_share_positive"] * 100).round(1).to_numpy()
    if "true_mean_rating" in ranked.columns:
        table["true mean rating"] = ranked["true_mean_rating"].round(2).to_numpy()
    for side in ("praised", "criticised"):  # a folder written before these columns has neither
        if side in ranked.columns:
            table[side] = ranked[side].astype("string").fillna("").to_numpy()
    return table


def overview(groups: pd.DataFrame) -> dict[str, str]:
    """The page's headline figures: reviews, groups, share positive and mean rating of all reviews."""
    figures = {
        "Reviews": f"{int(groups['n'].sum()):,}",
        "Groups": f"{len(groups):,}",
        "Share positive": _pct(weighted(groups, "share_positive")),
        "Mean rating": _num(weighted(groups, "mean_rating")),
    }
    if "true_mean_rating" in groups.columns:
        figures["True mean rating"] = _num(weighted(groups, "true_mean_rating"))
    return figures


def figures(summary: Summary, *, min_reviews: int = MIN_REVIEWS) -> list[tuple[str, bytes]]:
    """The plots of ``summary`` as (caption, PNG bytes): the groups ranked by share positive and by mean
    rating (the :data:`RANKED` best and worst of those with ``min_reviews`` reviews, or of all when none
    has as many), the distribution of ratings, and the aspects of the largest groups."""
    groups, out = summary.groups, []
    if not len(groups):
        return []
    eligible = groups[groups["n"] >= min_reviews]
    eligible = groups if eligible.empty else eligible
    for column, name, xlabel in (
        ("share_positive", "share positive", "share of positive reviews"),
        ("mean_rating", "mean rating", "mean rating (stars)"),
    ):
        ordered = eligible.sort_values([column, "n"], ascending=[False, False], kind="stable")
        if len(ordered) > 2 * RANKED:  # the best and the worst, a gap between them
            gap = pd.DataFrame({"group": [""], column: [np.nan]})
            ordered = pd.concat([ordered.head(RANKED), gap, ordered.tail(RANKED)], ignore_index=True)
        png = plots.ranked(
            ordered, value=column, low=f"{column}_low", high=f"{column}_high", title=f"Groups by {name}",
            xlabel=xlabel, reference=weighted(groups, column),
        )  # fmt: skip
        out.append((f"Groups by {name}, with 95% intervals", png))
    stars = sorted(int(str(c)[6:]) for c in groups.columns if str(c).startswith("stars_") and str(c)[6:].isdigit())
    if stars:
        predicted = np.array([weighted(groups, f"stars_{s}") for s in stars])
        true_columns = [f"true_stars_{s}" for s in stars]
        true = np.array([weighted(groups, c) for c in true_columns]) if set(true_columns) <= set(groups) else None
        out.append(("Distribution of ratings", plots.rating_distribution(stars, predicted, true)))
    heatmap = aspect_heatmap(groups, summary.aspects)
    if heatmap is not None:
        out.append(("Share of positive mentions per group and aspect", heatmap))
    return out


def aspect_heatmap(groups: pd.DataFrame, aspects: pd.DataFrame) -> bytes | None:
    """Share positive of the most mentioned aspects in the largest groups (``None`` without mentions)."""
    if not len(aspects):
        return None
    names = pooled_from_table(aspects)["aspect"].head(HEATMAP_ASPECTS).tolist()
    mentioned = set(aspects["group"])
    largest = [g for g in groups["group"] if g in mentioned][:DETAIL_GROUPS]
    chosen = aspects[aspects["group"].isin(largest) & aspects["aspect"].isin(names)]
    share = chosen.pivot(index="group", columns="aspect", values="share_positive").reindex(index=largest, columns=names)
    counts = chosen.pivot(index="group", columns="aspect", values="mentions").reindex(index=largest, columns=names)
    return plots.aspect_heatmap(share, counts.fillna(0))


def group_figures(groups: pd.DataFrame, group: str) -> dict[str, tuple[str, str]]:
    """One group's reviews, share positive and mean rating: name -> (value, its 95% interval or "")."""
    row = groups[groups["group"] == group].iloc[0]
    return {
        "Reviews": (f"{int(row['n']):,}", ""),
        "Share positive": (
            _pct(row["share_positive"]),
            f"95% interval {_pct(row['share_positive_low'])} – {_pct(row['share_positive_high'])}",
        ),
        "Mean rating": (
            _num(row["mean_rating"]),
            f"95% interval {_num(row['mean_rating_low'])} – {_num(row['mean_rating_high'])}",
        ),
    }


def group_verdicts(groups: pd.DataFrame, group: str) -> str:
    """One group's praised and criticised aspects as one line ("Praised: acting; music. Criticised:
    pacing."), or empty when it has neither (or the summary predates them)."""
    row = groups[groups["group"] == group].iloc[0]
    parts = [
        f"{label}: {value}."
        for label, side in (("Praised", "praised"), ("Criticised", "criticised"))
        if isinstance(value := row.get(side), str) and value
    ]
    return " ".join(parts)


def group_aspects(aspects: pd.DataFrame, group: str) -> pd.DataFrame:
    """One group's aspects, most mentioned first: mentions, reviews, share of positive mentions (percent)
    and its 95% interval."""
    mine = aspects[aspects["group"] == group].sort_values(["mentions", "aspect"], ascending=[False, True])
    return pd.DataFrame(
        {
            "aspect": mine["aspect"].to_numpy(),
            "mentions": mine["mentions"].to_numpy(),
            "reviews": mine["reviews"].to_numpy(),
            "share positive %": (mine["share_positive"] * 100).round(1).to_numpy(),
            "interval": _intervals(mine, "share_positive", _pct),
        }
    )


def _examples(cell: str) -> list[dict[str, Any]]:
    """The examples of one cell; a cell that is not the JSON ``summarize`` writes has none."""
    try:
        return [e for e in read_examples(cell) if isinstance(e, dict)]
    except ValueError:  # a folder edited by hand
        return []


def group_examples(aspects: pd.DataFrame, group: str) -> pd.DataFrame:
    """One group's example sentences: per aspect (most mentioned first), the most positive then the most
    negative, each with the review it comes from and its P(positive)."""
    rows = []
    mine = aspects[aspects["group"] == group].sort_values(["mentions", "aspect"], ascending=[False, True])
    for aspect in mine.itertuples(index=False):
        for side, cell in (("positive", aspect.positive_examples), ("negative", aspect.negative_examples)):
            for example in _examples(cell):
                rows.append(
                    {
                        "aspect": aspect.aspect,
                        "side": side,
                        "sentence": str(example.get("text", "")),
                        "review": str(example.get("review_id", "")),
                        "p_positive": example.get("p_positive"),
                    }
                )
    return pd.DataFrame(rows, columns=["aspect", "side", "sentence", "review", "p_positive"])
