"""The Audience page's work, without Streamlit: per-group figures of an upload or of a sample of IMDb's
test split (made by :func:`imdb_sentiment.audience.summarize.summarize`, the function of
``imdb-sentiment summarize``), or of a folder that command wrote; and the tables and figures the page
shows from them.

A summary is made in a scratch folder and read back like any folder ``summarize`` wrote, so the page
shows the same figures as the command line (:mod:`imdb_sentiment.ui.audience_tables` turns them into
what the page shows). ``summarize`` runs in a thread of its own while the caller
polls the scoring's progress record (``reviews.parquet.partial/progress.json``, written after each
chunk of :attr:`UiSettings.batch_chunk` reviews) for the progress bar; the thread removes the scratch
folder when it is done, even when the page that started it has gone.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from imdb_sentiment.audience.summarize import (
    ALL_REVIEWS,
    ASPECTS,
    GROUPS,
    REPORT,
    REVIEWS,
    SummarizeConfig,
    SummaryResult,
    summarize,
)
from imdb_sentiment.audience.times import undated_message
from imdb_sentiment.batch.resume import PROGRESS, work_folder
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import DataError, InputError, ModelError
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.settings import UiSettings

#: The columns of groups.csv the page needs (``summarize`` writes more: ``stars_<s>``, ``true_...``).
GROUP_COLUMNS = ("group", "n", "share_positive", "share_positive_low", "share_positive_high", "mean_rating",
                 "mean_rating_low", "mean_rating_high")  # fmt: skip
#: The columns of aspects.csv the page needs.
ASPECT_COLUMNS = ("group", "aspect", "mentions", "reviews", "share_positive", "share_positive_low",
                  "share_positive_high", "positive_examples", "negative_examples")  # fmt: skip
_TEXT_COLUMNS = ("group", "aspect", "positive_examples", "negative_examples", "praised", "criticised")
#: Seconds between two looks at the scoring's progress record.
POLL_S = 0.25


@dataclasses.dataclass(frozen=True)
class Summary:
    """A folder written by ``summarize``, read back: its tables, its report and what it summarised."""

    #: One row per group, largest first: :data:`GROUP_COLUMNS`, ``stars_<s>`` and, for IMDb, the true figures.
    groups: pd.DataFrame
    #: One row per group and aspect: :data:`ASPECT_COLUMNS` (examples as JSON text).
    aspects: pd.DataFrame
    #: report.html's bytes (``None`` when the folder has none).
    report: bytes | None
    #: What was summarised, for the page's caption.
    source: str
    #: Rows that could not be scored (empty, not text, too long); 0 for a folder opened as it is.
    skipped: int = 0
    #: What the page should warn about the time column (reviews without a readable date), or empty.
    undated: str = ""


@dataclasses.dataclass(frozen=True)
class Columns:
    """What the columns of an upload are used as."""

    text: str
    #: The column naming each review's group (empty: all reviews are one group).
    group: str
    #: A column of dates or times (empty: none); adds a trend over time to the report.
    time: str = ""


def not_a_summary(folder: object, reason: str) -> InputError:
    """The one-line refusal of a path that is not a folder ``summarize`` wrote."""
    return InputError(f"{folder} is not a folder written by imdb-sentiment summarize: {reason}")


def read_summary(folder: str | Path, limits: UiSettings | None = None, *, source: str = "") -> Summary:
    """Read groups.csv, aspects.csv and report.html from a folder ``summarize`` wrote.

    Args:
        folder: The folder.
        limits: When given, files bigger than ``max_text_mb`` or tables longer than ``max_rows`` are refused
            (a folder typed into the page may be anything on the server).
        source: What the folder summarises (default: the folder's path).

    Raises:
        InputError: the folder does not exist, lacks groups.csv, or a table lacks a column or cannot be read.
    """
    if not str(folder).strip():
        raise InputError("give the path of a folder written by imdb-sentiment summarize")
    try:
        return _read_summary(Path(str(folder).strip()).expanduser(), folder, limits, source or str(folder))
    except OSError as exc:  # no permission, a broken disk: one line, never a traceback
        raise not_a_summary(folder, f"cannot read it ({exc.strerror or type(exc).__name__})") from None


def _read_summary(path: Path, folder: object, limits: UiSettings | None, source: str) -> Summary:
    if not path.is_dir():
        raise not_a_summary(folder, "it is a file" if path.exists() else "there is no such folder")
    if not (path / GROUPS).is_file():
        raise not_a_summary(folder, f"it has no {GROUPS}")
    files = [path / name for name in (GROUPS, ASPECTS, REPORT) if (path / name).is_file()]
    if limits is not None and sum(f.stat().st_size for f in files) > limits.max_text_bytes:
        raise InputError(
            f"the files of {folder} are over {limits.max_text_mb} MB, the app's limit (IMDB_SENTIMENT_MAX_TEXT_MB); "
            f"open {path / REPORT} in a browser instead"
        )
    groups = _read_table(path / GROUPS, GROUP_COLUMNS, folder)
    if (path / ASPECTS).is_file():
        aspects = _read_table(path / ASPECTS, ASPECT_COLUMNS, folder)
    else:
        aspects = pd.DataFrame({c: pd.Series(dtype=object) for c in ASPECT_COLUMNS})
    if limits is not None and max(len(groups), len(aspects)) > limits.max_rows:
        raise InputError(
            f"{folder} has {max(len(groups), len(aspects)):,} rows in a table; the app shows at most "
            f"{limits.max_rows:,} (IMDB_SENTIMENT_MAX_ROWS); open {path / REPORT} in a browser instead"
        )
    groups = groups.sort_values(["n", "group"], ascending=[False, True], kind="stable").reset_index(drop=True)
    report = (path / REPORT).read_bytes() if (path / REPORT).is_file() else None
    return Summary(groups, aspects, report, source)


def _read_table(path: Path, needed: tuple[str, ...], folder: object) -> pd.DataFrame:
    """A CSV of ``summarize``: group and aspect names as text (a group called ``NA`` stays ``NA``), the
    figures as numbers (blank: NaN)."""
    try:
        frame = pd.read_csv(
            path, dtype={c: str for c in _TEXT_COLUMNS}, keep_default_na=False, na_values=[""], encoding="utf-8"
        )
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (ValueError, UnicodeDecodeError, OSError) as exc:  # pandas' ParserError is a ValueError
        raise not_a_summary(folder, f"cannot read {path.name}: {(str(exc).splitlines() or ['?'])[0]}") from None
    if frame.empty and not len(frame.columns):
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in needed})
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise not_a_summary(folder, f"its {path.name} has no column(s) {', '.join(missing)}")
    for column in frame.columns:
        if column in _TEXT_COLUMNS:
            frame[column] = frame[column].fillna("").astype(str)
        else:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    for column in ("n", "mentions", "reviews"):
        if column in frame.columns:
            frame[column] = frame[column].fillna(0).astype(np.int64)
    return frame


def check_rates(model: SentimentModel, name: str) -> None:
    """Refuse a model without a rating head before anything is scored (``summarize`` needs the stars).

    Raises:
        ModelError: the model has no rating head.
    """
    if not model.rates:
        raise ModelError(
            f"{name} has no rating head, which the audience figures need: pick a model that rates in the "
            "sidebar, or add a head with: imdb-sentiment train-rating MODEL_DIR"
        )


def upload_table(frame: pd.DataFrame, columns: Columns) -> tuple[pd.DataFrame, str]:
    """The columns of an upload ``summarize`` reads, as types a Parquet file holds, and the id column.

    The reviews' ids in the examples are the upload's ``id`` column when it has one, else the upload's
    row numbers (1-based, as the Batch page counts them), in a column added for that.

    Raises:
        InputError: a chosen column is missing, or one column is chosen for two things.
    """
    names = [str(c) for c in frame.columns]
    chosen = [
        (role, c) for role, c in (("reviews", columns.text), ("group", columns.group), ("time", columns.time)) if c
    ]
    for role, column in chosen:
        if column not in names:
            raise InputError(f"the file has no column {column!r} (the {role}); its columns are: {', '.join(names)}")
        if names.count(column) > 1:
            raise InputError(f"the file has {names.count(column)} columns named {column!r}; rename all but one")
    if len({c for _, c in chosen}) < len(chosen):
        raise InputError("choose different columns for the reviews, the group and the time")
    frame = frame.set_axis(names, axis=1).reset_index(drop=True)
    # A value that is not text is no review: left empty, it is reported as such and not scored.
    table = pd.DataFrame({columns.text: [v if isinstance(v, str) else None for v in frame[columns.text]]})
    if columns.group:
        table[columns.group] = frame[columns.group].astype("string")  # names as text; a missing one stays missing
    if columns.time:
        when = frame[columns.time]
        table[columns.time] = when.astype("string") if when.dtype == object else when
    id_column = "id"
    if "id" in names and "id" not in table.columns:
        table["id"] = frame["id"].astype("string")
    else:
        id_column = next(c for c in ("row", "upload_row", "__upload_row") if c not in table.columns)
        table[id_column] = np.arange(1, len(frame) + 1)
    return table, id_column


def summarize_upload(
    model: SentimentModel,
    frame: pd.DataFrame,
    columns: Columns,
    limits: UiSettings,
    *,
    name: str = "the upload",
    progress: Callable[[int, int], object] | None = None,
) -> Summary:
    """Summarise an upload (read within the app's limits) by its group column.

    Args:
        model: A model with a rating head.
        frame: The upload.
        columns: Its review, group and (optional) time columns.
        limits: ``max_chars`` (longer reviews are skipped) and ``batch_chunk`` (reviews per progress step).
        name: The file's name, for the caption.
        progress: Called with (reviews scored so far, reviews in the upload) while the work goes on.

    Raises:
        InputError: a column is missing, or no review could be scored.
        ModelError: the model has no rating head.
    """
    check_rates(model, "the model")
    table, id_column = upload_table(frame, columns)
    config = SummarizeConfig(group_column=columns.group, time_column=columns.time, id_column=id_column)

    def run(scratch: Path) -> SummaryResult:
        source = scratch / "upload.parquet"
        try:
            pq.write_table(pa.Table.from_pandas(table, preserve_index=False), source)
        except (pa.ArrowException, ValueError) as exc:  # a column of mixed types
            raise InputError(f"cannot use the columns of {name}: {(str(exc).splitlines() or ['?'])[0]}") from None
        score_config = _score_config(columns.text, limits)
        return summarize(model, source, scratch / "summary", config, score_config, progress=False)

    about = f"{name} by {columns.group}" if columns.group else f"{name}, {ALL_REVIEWS}"
    return _in_background(run, about, len(table), progress)


def summarize_split(
    model: SentimentModel,
    reviews: int,
    limits: UiSettings,
    *,
    data: str | Path | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> Summary:
    """Summarise whole films of IMDb's test split, drawn at random (seeded) up to about ``reviews`` reviews.

    The dataset must be on the server (``IMDB_DATA``, or the cache): the app never downloads it.

    Raises:
        InputError: the dataset is not on the server, or ``reviews`` is not positive.
        ModelError: the model has no rating head.
    """
    from imdb_sentiment.data import locate

    check_rates(model, "the model")
    if reviews < 1:
        raise InputError(f"ask for at least one review, not {reviews}")
    try:
        archive = locate(data, download=False)
    except DataError:
        raise InputError(
            "the IMDb dataset is not on this server: start the app with IMDB_DATA set to a copy of "
            "aclImdb_v1.tar.gz (the app does not download it)"
        ) from None

    def run(scratch: Path) -> SummaryResult:
        score_config = _score_config("text", limits)
        return summarize(model, None, scratch / "summary", None, score_config, split="test", data=archive,
                         limit=reviews, progress=False)  # fmt: skip

    return _in_background(run, f"IMDb test reviews of about {reviews:,} by film", reviews, progress)


def _score_config(text_column: str, limits: UiSettings) -> ScoreConfig:
    # One thread, as the Batch page scores: one visitor's summary does not take every core of the server.
    return ScoreConfig(text_column=text_column, batch_size=limits.batch_chunk, workers=1, max_chars=limits.max_chars)


def _in_background(
    run: Callable[[Path], SummaryResult], source: str, total: int, progress: Callable[[int, int], object] | None
) -> Summary:
    """Run ``run(scratch)`` (which writes ``scratch/summary``) in a thread and read the summary back,
    reporting the scoring's progress meanwhile; the thread removes the scratch folder when done."""
    scratch = Path(tempfile.mkdtemp(prefix="imdb-sentiment-audience-"))
    out = scratch / "summary"
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            result = run(scratch)
            outcome["summary"] = dataclasses.replace(
                read_summary(out, source=source), skipped=result.errors, undated=undated_message(result)
            )
        except BaseException as exc:  # handed to the caller's thread, which raises it
            outcome["error"] = exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    thread = threading.Thread(target=work, name="audience-summary", daemon=True)
    thread.start()
    done = 0
    while thread.is_alive():
        thread.join(POLL_S)
        if progress is not None:
            done = max(done, scored_so_far(out, total))
            progress(done, total)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["summary"]


def scored_so_far(folder: Path, total: int) -> int:
    """Rows the scoring into ``folder`` has done so far: from its progress record, written after each
    chunk; ``total`` once the scored rows are joined into reviews.parquet (the groups are being summarised)."""
    if (folder / REVIEWS).is_file():
        return total
    try:
        record = json.loads((work_folder(folder / REVIEWS) / PROGRESS).read_text(encoding="utf-8"))
        return int(record.get("rows", 0))
    except (OSError, ValueError, AttributeError):  # not written yet, or just joined and removed
        return 0
