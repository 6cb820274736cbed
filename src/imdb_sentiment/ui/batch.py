"""The Batch page's work, without Streamlit: score one text column of an uploaded table in chunks, and
summarise the predictions. Rows that cannot be scored (empty, not text, too long) are reported, not fatal.

The upload is read by :func:`imdb_sentiment.io.readers.read_table` (its bytes in) and scored by
:func:`imdb_sentiment.scoring.score_rows`, the functions ``predict --input`` and ``score`` use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from imdb_sentiment.errors import InputError
from imdb_sentiment.io.formats import INPUT_SUFFIXES
from imdb_sentiment.labels import THRESHOLD, label_names
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.scoring import free_name, score_rows

#: Suffixes the uploader accepts: every input format (a ``.txt`` upload is one review per line, column ``text``).
UPLOAD_SUFFIXES = tuple(s.lstrip(".") for s in INPUT_SUFFIXES)
#: Column names tried, in order, as the default text column.
TEXT_COLUMN_NAMES = ("text", "review", "content", "body", "comment")


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """Predictions for the rows that could be scored, and the problem with each row that could not."""

    #: The scored rows: the predicted label, P(positive) and (when the model rates) the predicted stars
    #: first, then the upload's own columns.
    predictions: pd.DataFrame
    #: One row per skipped input row: ``row`` (1-based, as in a spreadsheet without its header) and ``problem``.
    problems: pd.DataFrame
    #: Names of the two added columns (``label`` and ``p_positive``, or ``predicted_...`` if the upload has them).
    label_column: str
    probability_column: str
    text_column: str
    #: Name of the added ``rating`` column (1-10 stars), or ``None`` when the model has no rating head.
    rating_column: str | None = None


def default_text_column(frame: pd.DataFrame) -> str | None:
    """The column most likely to hold the reviews: a usual name, else the first column holding text."""
    lower = {str(c).lower(): c for c in frame.columns}
    for name in TEXT_COLUMN_NAMES:
        if name in lower:
            return str(lower[name])
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, str)).any():
            return str(column)
    return str(frame.columns[0]) if len(frame.columns) else None


def score_table(
    model: SentimentModel,
    frame: pd.DataFrame,
    column: str,
    *,
    max_chars: int,
    chunk_size: int = 256,
    progress: Callable[[int, int], object] | None = None,
) -> BatchResult:
    """Predict every review in ``frame[column]``, ``chunk_size`` at a time.

    Args:
        model: A fitted or loaded model.
        frame: The uploaded table.
        column: The column holding the reviews.
        max_chars: Longer reviews are reported as problems, not scored.
        chunk_size: Rows per call to :func:`~imdb_sentiment.scoring.score_rows` (and per ``progress`` call).
        progress: Called with (rows done so far, rows in the table) after each chunk.

    Raises:
        InputError: the column is missing or the table has no rows.
    """
    if column not in frame.columns:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise InputError(f"the table has no column {column!r}; its columns are: {found}")
    if frame.empty:
        raise InputError("the table has no rows")
    values = frame[column].tolist()
    problems: list[str | None] = []
    p_positive: list[float] = []
    ratings: list[int] = []
    for start in range(0, len(values), chunk_size):
        rows = score_rows(model, values[start : start + chunk_size], max_chars)
        problems += rows.problems
        p_positive += rows.p_positive.tolist()
        stars = rows.rating  # None when the model has no rating head
        ratings += [] if stars is None else stars.tolist()
        if progress is not None:
            progress(len(problems), len(values))
    keep = np.array([p is None for p in problems], dtype=bool)
    scored = np.array(p_positive)[keep]
    label_column = free_name("label", list(frame.columns))
    probability_column = free_name("p_positive", list(frame.columns))
    # The columns score writes, in its order: label, p_positive, rating (only when the model rates).
    rating_column = free_name("rating", list(frame.columns)) if model.rates else None
    predictions = frame.loc[keep].copy()
    if rating_column is not None:
        predictions.insert(0, rating_column, np.array(ratings, dtype=np.int64)[keep])
    predictions.insert(0, probability_column, scored.round(6))
    predictions.insert(0, label_column, label_names(scored))
    problem_rows = [{"row": i + 1, "problem": p} for i, p in enumerate(problems) if p is not None]
    return BatchResult(
        predictions,
        pd.DataFrame(problem_rows, columns=["row", "problem"]),
        label_column,
        probability_column,
        column,
        rating_column,
    )


def distribution(result: BatchResult, bins: int = 10) -> pd.DataFrame:
    """How many reviews fall in each band of P(positive), split by predicted label (for a stacked bar chart)."""
    p = result.predictions[result.probability_column].to_numpy(dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    band = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    index = [f"{edges[i]:.1f}-{edges[i + 1]:.1f}" for i in range(bins)]
    return pd.DataFrame(
        {
            "negative": np.bincount(band[p < THRESHOLD], minlength=bins),
            "positive": np.bincount(band[p >= THRESHOLD], minlength=bins),
        },
        index=pd.Index(index, name="P(positive)"),
    )


def extremes(result: BatchResult, k: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` most positive and the ``k`` most negative reviews: P(positive), the stars (when the model
    rates) and the review."""
    columns = [result.probability_column, result.rating_column, result.text_column]
    shown = result.predictions[[c for c in columns if c is not None]]
    return (
        shown.nlargest(k, result.probability_column).reset_index(drop=True),
        shown.nsmallest(k, result.probability_column).reset_index(drop=True),
    )


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: object) -> object:
    """``value`` with a ``'`` in front if it is text a spreadsheet would run as a formula, else unchanged."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def to_csv_bytes(result: BatchResult) -> bytes:
    """The predictions table as UTF-8 CSV, for the download button (see :func:`table_csv_bytes`)."""
    return table_csv_bytes(result.predictions)


def table_csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV for a download button, safe to open in a spreadsheet.

    The cells come from the user's data, and a spreadsheet opening the download would run a cell such as
    ``=HYPERLINK(...)`` as a formula: text cells (and column names) that start like one get a ``'``
    in front, which spreadsheets show as text. Numbers are left alone (``-0.5`` is not a formula).
    Lines end in CRLF (RFC 4180), so that a cell holding a lone CR is quoted and stays one cell.
    """
    table = frame.map(defuse)
    table.columns = [defuse(str(c)) for c in table.columns]
    return table.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
