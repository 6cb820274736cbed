"""The audience report: one self-contained HTML page of the per-group and per-aspect summaries.

The figures are PNGs embedded as data URIs and there is no JavaScript (a ``<details>`` element per
group), so the page can be mailed or archived as one file. Every string that comes from the data (group
names, aspects, review ids, sentences) and from the caller (the title, the notes) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imdb_sentiment._atomic import atomic_path
from imdb_sentiment.audience import plots
from imdb_sentiment.audience.aspect_stats import read_examples, wilson_interval

#: Groups in the ranked plots: this many at the top and at the bottom.
RANKED = 15
#: Rows of the groups table.
TABLE_ROWS = 50
#: Groups in the aspect heatmap and in the drill-down: the largest.
DETAIL_GROUPS = 20
#: Aspects in the heatmap: the most mentioned.
HEATMAP_ASPECTS = 25

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; line-height: 1.4 }
table { border-collapse: collapse; margin: 0.5em 0 1em } td, th { padding: 0.2em 0.6em; border-bottom: 1px solid #ddd }
th { text-align: left; background: #f4f4f4 } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em } details { margin: 0.3em 0 }
summary { cursor: pointer; font-weight: 600 } small, .muted { color: #666 } q { font-style: italic }
dl.notes dt { font-weight: 600 } dl.notes dd { margin: 0 0 0.4em 1.5em } .figures b { font-size: 1.3em }
"""


def write_report(
    folder: str | Path,
    *,
    groups: pd.DataFrame,
    aspects: pd.DataFrame | None,
    trend: pd.DataFrame | None = None,
    aspect_trend: pd.DataFrame | None = None,
    title: str,
    notes: dict[str, str] | None = None,
    min_reviews: int = 10,
) -> Path:
    """Write ``report.html`` into ``folder`` (atomically) and return its path.

    Args:
        folder: Where to write; created if missing.
        groups: :func:`~imdb_sentiment.audience.groups.summarize_groups`'s table.
        aspects: :func:`~imdb_sentiment.audience.aspect_stats.summarize_aspects`'s table, or None.
        trend: :func:`~imdb_sentiment.audience.groups.trend`'s table, or None.
        aspect_trend: :func:`~imdb_sentiment.audience.aspect_stats.aspect_trend`'s table, or None.
        title: The page's title.
        notes: Lines shown under the title (e.g. the model, the input file, the estimator), name -> text.
        min_reviews: Groups with fewer reviews are left out of the ranked plots (all are kept if none
            has as many).

    Returns:
        The path of ``report.html``.
    """
    page = render_report(
        groups=groups,
        aspects=aspects,
        trend=trend,
        aspect_trend=aspect_trend,
        title=title,
        notes=notes,
        min_reviews=min_reviews,
    )
    path = Path(folder) / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def render_report(
    *,
    groups: pd.DataFrame,
    aspects: pd.DataFrame | None,
    trend: pd.DataFrame | None = None,
    aspect_trend: pd.DataFrame | None = None,
    title: str,
    notes: dict[str, str] | None = None,
    min_reviews: int = 10,
) -> str:
    """The report's HTML, as :func:`write_report` writes it."""
    groups = groups.sort_values(["n", "group"], ascending=[False, True], kind="stable").reset_index(drop=True)
    aspects = aspects if aspects is not None and len(aspects) else None
    parts = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>{_e(title)}</h1>",
        _notes(notes or {}),
        _overview(groups),
    ]
    if len(groups) > 1:  # one group (no group column) has nothing to be ranked against
        parts.append(_ranked(groups, min_reviews))
    if len(groups):
        parts += [_ratings(groups), _table(groups)]
    parts += [_aspects(groups, aspects), _drilldown(groups, aspects)]
    if trend is not None and len(trend):
        parts.append(f"<h2>Over time</h2>\n{_img(plots.trend(trend), 'share positive and mean rating over time')}")
        if aspect_trend is not None and (aspect_trend["mentions"] >= plots.MIN_PERIOD_REVIEWS).any():
            parts.append(_img(plots.aspect_trend(aspect_trend), "share of positive mentions per aspect over time"))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _pct(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.1%}"


def _num(value: Any, digits: int = 2) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


def _interval(low: Any, high: Any, fmt: Any) -> str:
    return f"<small>{fmt(low)} – {fmt(high)}</small>"


def _weighted(groups: pd.DataFrame, column: str) -> float:
    values, weights = groups[column].to_numpy(dtype=np.float64), groups["n"].to_numpy(dtype=np.float64)
    known = ~np.isnan(values)
    return float(np.average(values[known], weights=weights[known])) if weights[known].sum() > 0 else float("nan")


def _stars(groups: pd.DataFrame, prefix: str = "stars_") -> list[int]:
    return sorted(int(m.group(1)) for c in groups.columns if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", str(c))))


def _notes(notes: dict[str, str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in notes.items())
    return f'<dl class="notes">{items}</dl>'


def _overview(groups: pd.DataFrame) -> str:
    total = int(groups["n"].sum()) if len(groups) else 0
    rows = [
        ("reviews", f"{total:,}"),
        ("groups", f"{len(groups):,}"),
        ("share positive", _pct(_weighted(groups, "share_positive")) if total else "–"),
        ("mean rating", _num(_weighted(groups, "mean_rating")) if total else "–"),
    ]
    if total and "true_share_positive" in groups.columns:
        rows.append(("true share positive", _pct(_weighted(groups, "true_share_positive"))))
    if total and "true_mean_rating" in groups.columns:
        rows.append(("true mean rating", _num(_weighted(groups, "true_mean_rating"))))
    cells = " &nbsp; ".join(f"<b>{value}</b> {name}" for name, value in rows)
    return (
        f'<h2>Overview</h2>\n<p class="figures">{cells}</p>\n<p class="muted">Share positive and mean rating '
        "of all reviews: each group's estimate weighted by its number of reviews.</p>"
    )


def _ranked(groups: pd.DataFrame, min_reviews: int) -> str:
    eligible = groups[groups["n"] >= min_reviews]
    note = f"Groups with at least {min_reviews} reviews ({len(eligible):,} of {len(groups):,})"
    if eligible.empty:
        eligible, note = groups, f"No group has {min_reviews} reviews; all groups are shown"
    out = [f"<h2>Groups ranked</h2>\n<p class='muted'>{note}; bars: {RANKED} best and {RANKED} worst, with "
           "their intervals.</p>"]  # fmt: skip
    for column, name, xlabel, reference in (
        ("share_positive", "share positive", "share of positive reviews", _weighted(groups, "share_positive")),
        ("mean_rating", "mean rating", "mean rating (stars)", _weighted(groups, "mean_rating")),
    ):
        ordered = eligible.sort_values([column, "n"], ascending=[False, False], kind="stable")
        if len(ordered) > 2 * RANKED:
            gap = pd.DataFrame({"group": [""], column: [np.nan]})
            ordered = pd.concat([ordered.head(RANKED), gap, ordered.tail(RANKED)], ignore_index=True)
        png = plots.ranked(
            ordered,
            value=column,
            low=f"{column}_low",
            high=f"{column}_high",
            title=f"Groups by {name}",
            xlabel=xlabel,
            reference=reference,
        )
        out.append(_img(png, f"groups ranked by {name}"))
    return "\n".join(out)


def _ratings(groups: pd.DataFrame) -> str:
    stars = _stars(groups)
    if not stars:
        return ""
    predicted = np.array([_weighted(groups, f"stars_{s}") for s in stars])
    true = None
    if _stars(groups, "true_stars_") == stars:
        true = np.array([_weighted(groups, f"true_stars_{s}") for s in stars])
    out = ["<h2>Ratings</h2>", _img(plots.rating_distribution(stars, predicted, true), "distribution of ratings")]
    if {"true_share_positive", "true_mean_rating"} & set(groups.columns):
        out.append(_img(plots.true_vs_estimated(groups), "estimated against true figures per group"))
    return "\n".join(out)


def _table(groups: pd.DataFrame) -> str:
    true_share, true_rating = "true_share_positive" in groups.columns, "true_mean_rating" in groups.columns
    head = "<tr><th>group</th><th>reviews</th><th>share positive</th><th>interval</th><th>mean rating</th><th>interval</th>"
    verdicts = "praised" in groups.columns
    head += ("<th>true share</th>" if true_share else "") + ("<th>true rating</th>" if true_rating else "")
    head += ("<th>praised</th><th>criticised</th>" if verdicts else "") + "</tr>"
    rows = []
    for row in groups.head(TABLE_ROWS).itertuples(index=False):
        cells = [
            _e(row.group),
            f"{int(row.n):,}",
            _pct(row.share_positive),
            _interval(row.share_positive_low, row.share_positive_high, _pct),
            _num(row.mean_rating),
            _interval(row.mean_rating_low, row.mean_rating_high, _num),
        ]
        cells += [_pct(row.true_share_positive)] if true_share else []
        cells += [_num(row.true_mean_rating)] if true_rating else []
        texts = [_e(row.praised), _e(row.criticised)] if verdicts else []
        rows.append(
            "<tr>"
            + "".join(f"<td{'' if i == 0 else ' class=num'}>{c}</td>" for i, c in enumerate(cells))
            + "".join(f"<td>{c}</td>" for c in texts)
            + "</tr>"
        )
    shown = f"the {TABLE_ROWS} largest of {len(groups):,}" if len(groups) > TABLE_ROWS else f"all {len(groups):,}"
    return f"<h2>Groups</h2>\n<p class='muted'>{shown}, by number of reviews.</p>\n<table>{head}{''.join(rows)}</table>"


def pooled_from_table(aspects: pd.DataFrame) -> pd.DataFrame:
    """Per-aspect figures over all groups from a per-group aspect table (the counts add up exactly)."""
    frame = aspects.assign(positives=(aspects["share_positive"] * aspects["mentions"]).round())
    pooled = frame.groupby("aspect", sort=False).agg(
        groups=("group", "nunique"), mentions=("mentions", "sum"), positives=("positives", "sum")
    )
    pooled["share_positive"] = pooled["positives"] / pooled["mentions"]
    pooled["share_positive_low"], pooled["share_positive_high"] = wilson_interval(
        pooled["positives"], pooled["mentions"]
    )
    pooled = pooled.drop(columns="positives").reset_index()
    return pooled.sort_values(["mentions", "aspect"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _aspects(groups: pd.DataFrame, aspects: pd.DataFrame | None) -> str:
    if aspects is None:
        return "<h2>Aspects</h2>\n<p class='muted'>No sentence named an aspect.</p>"
    pooled = pooled_from_table(aspects)
    named = set(aspects["group"])  # once: a set per group made this quadratic (a minute for 3,581 films)
    largest = [g for g in groups["group"] if g in named][:DETAIL_GROUPS]
    names = pooled["aspect"].head(HEATMAP_ASPECTS).tolist()
    chosen = aspects[aspects["group"].isin(largest) & aspects["aspect"].isin(names)]
    share = chosen.pivot(index="group", columns="aspect", values="share_positive").reindex(index=largest, columns=names)
    counts = chosen.pivot(index="group", columns="aspect", values="mentions").reindex(index=largest, columns=names)
    out = ["<h2>Aspects</h2>", _img(plots.aspect_bars(pooled), "share of positive mentions per aspect")]
    if len(largest) > 1:  # for one group the bars above say it all
        out.append(
            _img(plots.aspect_heatmap(share, counts.fillna(0)), "share of positive mentions per group and aspect")
        )
    return "\n".join(out)


def _examples(cell: Any) -> str:
    items = [
        f"<li><q>{_e(ex.get('text', ''))}</q> <small>review {_e(ex.get('review_id', ''))}, "
        f"p = {_num(ex.get('p_positive'), 2)}</small></li>"
        for ex in read_examples(cell)
    ]
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _drilldown(groups: pd.DataFrame, aspects: pd.DataFrame | None) -> str:
    if not len(groups):
        return ""
    out = [f"<h2>The {min(DETAIL_GROUPS, len(groups))} largest groups</h2>"]
    by_group = dict(tuple(aspects.groupby("group", sort=False))) if aspects is not None else {}
    for row in groups.head(DETAIL_GROUPS).itertuples(index=False):
        summary = (
            f"{_e(row.group)} <small>{int(row.n):,} reviews, {_pct(row.share_positive)} positive, "
            f"mean rating {_num(row.mean_rating)}"
            + "".join(
                f" · {side}: {_e(value)}"
                for side in ("praised", "criticised")
                if isinstance(value := getattr(row, side, ""), str) and value
            )
            + "</small>"
        )
        mine = by_group.get(row.group)
        if mine is None or mine.empty:
            body = "<p class='muted'>No sentence named an aspect.</p>"
        else:
            rows = "".join(
                f"<tr><td>{_e(a.aspect)}</td><td class=num>{int(a.mentions):,}</td><td class=num>{_pct(a.share_positive)} "
                f"{_interval(a.share_positive_low, a.share_positive_high, _pct)}</td>"
                f"<td>{_examples(a.positive_examples)}</td><td>{_examples(a.negative_examples)}</td></tr>"
                for a in mine.sort_values("mentions", ascending=False, kind="stable").itertuples(index=False)
            )
            body = (
                "<table><tr><th>aspect</th><th>mentions</th><th>positive</th><th>most positive</th>"
                f"<th>most negative</th></tr>{rows}</table>"
            )
        out.append(f"<details><summary>{summary}</summary>\n{body}</details>")
    return "\n".join(out)
