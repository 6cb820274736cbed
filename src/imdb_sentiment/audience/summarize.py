"""``summarize``: per-group audience figures from a file of reviews of any size.

Two passes. The first is :func:`imdb_sentiment.batch.score` with ``detail`` on: it streams the input
(local threads or Ray), and per review writes P(positive), the star distribution and the aspect
mentions to ``DIR/reviews.parquet`` (resumable, like any ``score`` run). The second reads back only the
columns it needs and writes ``DIR/groups.csv`` (one row per group:
:func:`~imdb_sentiment.audience.groups.summarize_groups`), ``DIR/aspects.csv`` (one row per group and
aspect: :func:`~imdb_sentiment.audience.aspect_stats.summarize_aspects`) and ``DIR/report.html``.

With ``split="test"`` (or ``"train"``) the input is IMDb itself, grouped by film, and the true share
positive and mean rating stand beside the estimates.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from imdb_sentiment.audience.groups import ADJUSTMENTS
from imdb_sentiment.audience.times import check_times, read_times
from imdb_sentiment.config import Config, ScoreConfig, require
from imdb_sentiment.errors import InputError
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.rating import STARS

#: Files written into the output folder.
REVIEWS, GROUPS, ASPECTS, REPORT = "reviews.parquet", "groups.csv", "aspects.csv", "report.html"
_ROW = "__row"  # the input row number, added when the input has no id column
#: The one group's name when there is no group column.
ALL_REVIEWS = "all reviews"
#: Where a group's share positive comes from (:attr:`SummarizeConfig.share_from`).
SHARE_SOURCES = ("rating", "classifier")


@dataclasses.dataclass(frozen=True)
class SummarizeConfig(Config):
    """How reviews are grouped and summarised (estimators chosen by bench/group_choice.py; docs/audience.md)."""

    #: The input column naming each review's group (a film, a platform, a region); ``film`` for IMDb.
    #: Empty: every review in one group, :data:`ALL_REVIEWS` (a file of reviews of one film or product).
    group_column: str = "film"
    #: An input column of dates or times: adds a trend over time to the report.
    time_column: str = ""
    #: The input column identifying each review in the examples (empty: ``id`` if present, else row numbers).
    id_column: str = ""
    #: ``sides``: correct each group's share positive for label shift, and take each side's star
    #: distribution as its reviews' mean there; ``em``: correct the share and the whole star distribution;
    #: ``share``: the share only, ratings as predicted; ``none``: plain means (audience/groups.py). Chosen
    #: by bench/group_choice.py on real training films (Spearman of mean rating 0.9655 against em's 0.9595,
    #: off by 0.39 stars against 0.45); em ranks simulated films a little better (0.9744 against 0.9707)
    #: and its intervals are wider (docs/audience.md).
    adjust: str = "sides"
    #: Which P(positive) of each review the group's share positive is estimated from: ``rating``, the rating
    #: head's mass on 7-10 stars (it fuses the network with the review's words: 92% right against the
    #: classifier's 90% on validation, and a share that agrees with the group's star distribution);
    #: ``classifier``, the model's own P(positive). Chosen by bench/group_choice.py.
    share_from: str = "rating"
    #: Pseudo-reviews of the pooled share in each group's estimate.
    share_prior: float = 0.1
    #: Pseudo-reviews of the pooled star distribution in each group's estimate.
    rating_prior: float = 0.5
    #: The model's own error on a group's mean rating (standard deviation, stars), which the bootstrap does
    #: not see: the mean rating's interval is widened by it. The smallest candidate of bench/group_choice.py
    #: --films real whose 95% intervals held the truth for at least 95% of the 438 real training films
    #: (0.4: 96.8%; 0.3: 93.4%; none: 77.4%).
    rating_error: float = 0.4
    #: Example sentences kept per group, aspect and side.
    examples: int = 3
    #: Mentions an aspect needs before groups.csv calls it praised or criticised (its share positive's 95%
    #: interval wholly above or below one half): fewer say too little either way.
    verdict_mentions: int = 5
    #: Groups with fewer reviews are left out of the report's rankings (they stay in groups.csv).
    min_reviews: int = 10
    #: Bootstrap resamples for the intervals.
    n_boot: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        require(
            self.adjust in ADJUSTMENTS, name, f"adjust must be one of {', '.join(ADJUSTMENTS)}, got {self.adjust!r}"
        )
        require(
            self.share_from in SHARE_SOURCES, name, f"share_from must be rating or classifier, got {self.share_from!r}"
        )
        require(self.share_prior >= 0 and self.rating_prior >= 0, name, "priors must be >= 0")
        require(self.rating_error >= 0, name, f"rating_error must be >= 0, got {self.rating_error}")
        require(self.examples >= 0, name, f"examples must be >= 0, got {self.examples}")
        require(self.min_reviews >= 1, name, f"min_reviews must be >= 1, got {self.min_reviews}")
        require(self.verdict_mentions >= 1, name, f"verdict_mentions must be >= 1, got {self.verdict_mentions}")
        require(self.n_boot >= 0, name, f"n_boot must be >= 0, got {self.n_boot}")


@dataclasses.dataclass(frozen=True)
class SummaryResult:
    """What :func:`summarize` wrote and how long it took."""

    folder: Path
    reviews: int
    errors: int
    groups: int
    mentions: int
    seconds: float
    score_seconds: float
    #: The time column, if one was given, and how many reviews held a readable date in it (``None``
    #: without one); the rest are left out of the trend.
    time_column: str = ""
    dated: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()}


def summarize(
    model: SentimentModel | str | Path,
    input: str | Path | None,
    output: str | Path,
    config: SummarizeConfig | None = None,
    score_config: ScoreConfig | None = None,
    *,
    split: str = "",
    data: str | Path | None = None,
    limit: int = 0,
    progress: bool = True,
) -> SummaryResult:
    """Summarise reviews by group into ``output`` (a folder): groups.csv, aspects.csv, report.html.

    Args:
        model: A saved model's folder or a fitted model (with a rating head for ratings; see
            ``imdb-sentiment train-rating``).
        input: A file or folder of reviews in any format ``score`` reads; ``None`` with ``split``.
        output: The folder to write (created; its files are replaced).
        config: Grouping and estimation settings.
        score_config: Reading and scoring settings (text column, batch size, workers, engine, resume).
        split: ``"test"`` or ``"train"``: summarise IMDb's own split by film, true figures beside.
        data: The dataset archive or folder for ``split``.
        limit: With ``split``: only whole films drawn at random (seeded) until about this many reviews.
        progress: Progress bars.

    Raises:
        InputError: the input lacks the group, time or text column, or neither/both of input and split.
        ModelError: the model cannot be loaded.
    """
    from imdb_sentiment.batch import score

    config = config or SummarizeConfig()
    start = time.perf_counter()
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--output {folder} is a file; summarize writes a folder")
    folder.mkdir(parents=True, exist_ok=True)
    if (input is None) == (not split):
        raise InputError("give either an input file or --split test|train")
    if limit < 0 or (limit and not split):
        raise InputError(f"--limit takes a positive number of reviews, with --split only (got {limit})")
    if split:
        input = _write_split(split, data, folder, limit)
        config = dataclasses.replace(config, group_column="film", id_column="id")
    source = Path(str(input))
    base = score_config or ScoreConfig()
    first = _first_rows(source, base.text_column) if str(input) != "-" else None
    columns = None if first is None else list(first.columns)
    id_column = config.id_column or ("id" if columns and "id" in columns else "")
    for needed in (config.group_column, config.time_column, config.id_column):
        if needed and columns is not None and needed not in columns:
            hint = (
                " (an empty group column, --group-column '', summarises all reviews as one group)"
                if needed == config.group_column
                else ""
            )
            raise InputError(f"the input has no column {needed!r}; its columns are: {', '.join(columns)}{hint}")
    if first is not None and config.time_column:
        check_times(first[config.time_column], config.time_column)
    keep = [c for c in (id_column, config.group_column, config.time_column) if c]
    if split:
        keep += ["label", "rating"]
    scored = score(
        model,
        source,
        folder / REVIEWS,
        dataclasses.replace(base, detail=True, id_columns=tuple(dict.fromkeys(keep))),
        progress=progress,
    )
    if split:
        source.unlink(missing_ok=True)  # the split's reviews, written for the scorer: not the user's file
    reviews = pq.read_table(folder / REVIEWS).to_pandas()
    times = read_times(reviews[config.time_column]) if config.time_column else None
    dated = None if times is None else int(times.notna().sum())
    groups, aspects, trend, aspect_trend = summary_tables(reviews, config, id_column, truth=bool(split), times=times)
    _write_csv(groups, folder / GROUPS)
    _write_csv(aspects, folder / ASPECTS)
    from imdb_sentiment.audience.report import write_report

    title = (
        f"IMDb {split} reviews by film"
        if split
        else (f"{source.name} by {config.group_column}" if config.group_column else f"{source.name}, {ALL_REVIEWS}")
    )
    notes = {"model": str(getattr(model, "name", model)), "adjust": config.adjust, "reviews": f"{len(reviews):,}"}
    if dated is not None:
        notes[f"dated ({config.time_column})"] = f"{dated:,} of {len(reviews):,}"
    write_report(
        folder,
        groups=groups,
        aspects=aspects,
        trend=trend,
        aspect_trend=aspect_trend,
        title=title,
        notes=notes,
        min_reviews=config.min_reviews,
    )
    return SummaryResult(
        folder=folder,
        reviews=int(scored.scored),
        errors=int(scored.errors),
        groups=len(groups),
        mentions=int(aspects["mentions"].sum()) if len(aspects) else 0,
        seconds=round(time.perf_counter() - start, 1),
        score_seconds=round(scored.seconds, 1),
        time_column=config.time_column,
        dated=dated,
    )


class SummaryTables(NamedTuple):
    """What :func:`summary_tables` gives."""

    #: One row per group (groups.csv).
    groups: pd.DataFrame
    #: One row per group and aspect (aspects.csv).
    aspects: pd.DataFrame
    #: Share positive and mean rating per period (:func:`~imdb_sentiment.audience.groups.trend`), or ``None``
    #: without a readable time column.
    trend: pd.DataFrame | None
    #: The most mentioned aspects' share of positive mentions per period
    #: (:func:`~imdb_sentiment.audience.aspect_stats.aspect_trend`), or ``None`` as for ``trend``.
    aspect_trend: pd.DataFrame | None


def summary_tables(
    reviews: pd.DataFrame,
    config: SummarizeConfig,
    id_column: str,
    *,
    truth: bool,
    times: pd.Series | None = None,
) -> SummaryTables:
    """The tables of scored reviews (``reviews.parquet``'s columns): what :func:`summarize` writes and
    :func:`~imdb_sentiment.audience.summarize_texts.summarize_texts` returns. ``times``: the time column
    already read by :func:`read_times`, one per row of ``reviews`` (else it is read here)."""
    from imdb_sentiment.audience.aspect_stats import aspect_trend, summarize_aspects, verdicts
    from imdb_sentiment.audience.groups import summarize_groups, trend

    stars = [f"stars_{s}" for s in STARS]
    scored = reviews["p_positive"].notna().to_numpy()
    reviews = reviews[scored].reset_index(drop=True)
    times = None if times is None else times[scored].reset_index(drop=True)
    if reviews.empty:
        raise InputError("no review could be scored; see the errors file beside reviews.parquet")
    if reviews[stars].isna().any(axis=None):
        raise InputError("the model has no rating head; add one with `imdb-sentiment train-rating MODEL_DIR`")
    frame = group_inputs(reviews, config, truth=truth)
    group = frame["group"]
    groups = summarize_groups(
        frame,
        stars=STARS,
        adjust=config.adjust,
        share_prior=config.share_prior,
        rating_prior=config.rating_prior,
        rating_error=config.rating_error,
        n_boot=config.n_boot,
        seed=config.seed,
    )
    ids = reviews[id_column].astype(str) if id_column else pd.Series(np.arange(1, len(reviews) + 1)).astype(str)
    lists = reviews["aspects"]
    counts = lists.map(lambda m: 0 if m is None else len(m)).to_numpy()
    flat = [m for row in lists if row is not None for m in row]
    mentions = pd.DataFrame(flat, columns=["aspect", "sentence", "start", "end", "text", "clause", "p_positive"])
    mentions.insert(0, "review_id", np.repeat(ids.to_numpy(), counts))
    mentions.insert(0, "group", np.repeat(group.to_numpy(), counts))
    aspects = summarize_aspects(mentions, examples=config.examples)
    # What each group's reviews clearly praise and criticise, beside its figures (a group with neither: "").
    groups = groups.merge(verdicts(aspects, min_mentions=config.verdict_mentions), on="group", how="left")
    groups[["praised", "criticised"]] = groups[["praised", "criticised"]].fillna("")
    timeline = aspect_timeline = None
    if config.time_column:
        when = read_times(reviews[config.time_column]) if times is None else times
        if when.notna().any():
            timeline = trend(frame[when.notna().to_numpy()], when[when.notna()], top_groups=5, n_boot=config.n_boot)
            starts = timeline.loc[timeline["group"].isna(), "period"]
            aspect_timeline = aspect_trend(mentions, pd.Series(np.repeat(when.to_numpy(), counts)), starts)
    return SummaryTables(groups, aspects, timeline, aspect_timeline)


def group_inputs(reviews: pd.DataFrame, config: SummarizeConfig, *, truth: bool = False) -> pd.DataFrame:
    """What :func:`~imdb_sentiment.audience.groups.summarize_groups` reads, from scored reviews.

    Args:
        reviews: One row per scored review: the group column, ``p_positive`` and ``stars_<s>`` (as
            ``score`` writes them with ``detail``); with ``truth``, ``rating`` (the true stars).
        config: The group column and ``share_from``.
        truth: Add ``label`` and ``true_rating`` from ``rating``.

    Returns:
        ``group`` (text; missing or blank as ``(none)``), ``p_positive`` (per ``share_from``), ``stars_<s>``...
    """
    from imdb_sentiment.models.rating import positive_mass

    stars = reviews[[f"stars_{s}" for s in STARS]].to_numpy(dtype=np.float64)
    group = (
        _named(reviews[config.group_column].astype("string"))
        if config.group_column
        else pd.Series(ALL_REVIEWS, index=reviews.index, dtype="string")
    )
    p = positive_mass(stars) if config.share_from == "rating" else reviews["p_positive"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame({"group": group, "p_positive": np.clip(p, 0.0, 1.0)})
    frame[[f"stars_{s}" for s in STARS]] = stars
    if truth:
        frame["label"] = (reviews["rating"] >= 7).astype(int).to_numpy()
        frame["true_rating"] = reviews["rating"].to_numpy()
    return frame


def _named(groups: pd.Series) -> pd.Series:
    """Group names as text: a missing or blank one is ``(none)`` (a CSV's empty cell reads as either)."""
    return groups.where(groups.str.strip().ne("").fillna(False), pd.NA).fillna("(none)")


def _write_split(split: str, data: str | Path | None, folder: Path, limit: int) -> Path:
    from imdb_sentiment.data import load_imdb

    if split not in ("train", "test"):
        raise InputError(f"--split must be train or test, got {split!r}")
    dataset = load_imdb(data)
    frame = (
        dataset.reviews("test")
        if split == "test"
        else pd.concat([dataset.reviews("train"), dataset.validation]).sort_values("id")
    )
    if limit:
        films = frame.groupby("film").size().sample(frac=1.0, random_state=0)
        chosen = films.index[: int(np.searchsorted(films.cumsum().to_numpy(), limit)) + 1]
        frame = frame[frame["film"].isin(chosen)]
    path = folder / f".{split}-reviews.parquet"
    pq.write_table(pa.Table.from_pandas(frame[["id", "film", "label", "rating", "text"]], preserve_index=False), path)
    return path


def _first_rows(source: Path, text_column: str) -> pd.DataFrame | None:
    """The first rows of the first input file (``None`` when it has none): its columns are known before
    the scoring starts, and so are the first values of the time column."""
    from imdb_sentiment.io.readers import input_files, read_chunks

    files = input_files(source)
    for chunk in read_chunks(files[:1], 64, text_column, None):
        return chunk.table.to_pandas()
    return None


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from imdb_sentiment._atomic import atomic_path

    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
