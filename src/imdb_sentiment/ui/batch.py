"""The Batch page's work, without Streamlit: read an uploaded table, score one text column in chunks, and
summarise the predictions. Rows that cannot be scored (empty, not text, too long) are reported, not fatal.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from pathlib import PurePath

import numpy as np
import pandas as pd

from imdb_sentiment.batch import row_problem
from imdb_sentiment.errors import InputError
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.readers import FORMATS

#: Suffixes the uploader accepts (the CLI's, less plain text, whose one review per line has no columns to pick).
UPLOAD_SUFFIXES = tuple(sorted(s.lstrip(".") for s, fmt in FORMATS.items() if fmt != "lines"))
#: Column names tried, in order, as the default text column.
TEXT_COLUMN_NAMES = ("text", "review", "content", "body", "comment")


@dataclasses.dataclass(frozen=True)
class BatchResult:
    """Predictions for the rows that could be scored, and the problem with each row that could not."""

    #: The scored rows: the predicted label and P(positive) first, then the upload's own columns.
    predictions: pd.DataFrame
    #: One row per skipped input row: ``row`` (1-based, as in a spreadsheet without its header) and ``problem``.
    problems: pd.DataFrame
    #: Names of the two added columns (``label`` and ``p_positive``, or ``predicted_...`` if the upload has them).
    label_column: str
    probability_column: str
    text_column: str


def read_upload(name: str, data: bytes) -> pd.DataFrame:
    """Read an uploaded CSV, JSON Lines (or JSON array) or Parquet file from memory, by its suffix.

    CSV cells are read as text, as :func:`imdb_sentiment.readers.read_table` reads them.

    Raises:
        InputError: the suffix is not one of :data:`UPLOAD_SUFFIXES`, or the content cannot be parsed.
    """
    suffix = PurePath(name).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None or fmt == "lines":
        raise InputError(f"cannot read {name}: unknown format {suffix!r}; upload one of {', '.join(UPLOAD_SUFFIXES)}")
    try:
        if fmt == "csv":
            return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        if fmt == "parquet":
            return pd.read_parquet(io.BytesIO(data))
        text = data.decode("utf-8-sig")
        if text.lstrip().startswith("["):  # a .json file holding one array of objects
            return pd.DataFrame(json.loads(text))
        return pd.read_json(io.StringIO(text), lines=True, dtype=False)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        # pyarrow's ArrowInvalid is a ValueError; json.JSONDecodeError too.
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot parse {name} as {fmt}: {first_line}") from None


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
        chunk_size: Reviews per call to ``predict_proba`` (and per ``progress`` call).
        progress: Called with (rows scored so far, rows to score) after each chunk.

    Raises:
        InputError: the column is missing or the table has no rows.
    """
    if column not in frame.columns:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise InputError(f"the table has no column {column!r}; its columns are: {found}")
    if frame.empty:
        raise InputError("the table has no rows")
    values = frame[column].tolist()
    reasons = [row_problem(v, max_chars) for v in values]
    keep = np.array([r is None for r in reasons])
    texts = [v for v, r in zip(values, reasons, strict=True) if r is None]
    p_positive = np.zeros(len(texts))
    for start in range(0, len(texts), chunk_size):
        chunk = texts[start : start + chunk_size]
        p_positive[start : start + len(chunk)] = model.predict_proba(chunk)[:, 1]
        if progress is not None:
            progress(start + len(chunk), len(texts))
    label_column = _free_name(frame, "label")
    probability_column = _free_name(frame, "p_positive")
    predictions = frame.loc[keep].copy()
    predictions.insert(0, probability_column, p_positive.round(6))
    predictions.insert(0, label_column, np.where(p_positive >= 0.5, "positive", "negative"))
    problems = pd.DataFrame(
        [{"row": i + 1, "problem": r} for i, r in enumerate(reasons) if r is not None], columns=["row", "problem"]
    )
    return BatchResult(predictions, problems, label_column, probability_column, column)


def _free_name(frame: pd.DataFrame, name: str) -> str:
    # An upload of labelled reviews has its own "label" column; the prediction must not overwrite it.
    return name if name not in frame.columns else f"predicted_{name}"


def distribution(result: BatchResult, bins: int = 10) -> pd.DataFrame:
    """How many reviews fall in each band of P(positive), split by predicted label (for a stacked bar chart)."""
    p = result.predictions[result.probability_column].to_numpy(dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    band = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    index = [f"{edges[i]:.1f}-{edges[i + 1]:.1f}" for i in range(bins)]
    return pd.DataFrame(
        {
            "negative": np.bincount(band[p < 0.5], minlength=bins),
            "positive": np.bincount(band[p >= 0.5], minlength=bins),
        },
        index=pd.Index(index, name="P(positive)"),
    )


def extremes(result: BatchResult, k: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` most positive and the ``k`` most negative reviews: P(positive) and the review."""
    shown = result.predictions[[result.probability_column, result.text_column]]
    return (
        shown.nlargest(k, result.probability_column).reset_index(drop=True),
        shown.nsmallest(k, result.probability_column).reset_index(drop=True),
    )


def to_csv_bytes(result: BatchResult) -> bytes:
    """The predictions table as UTF-8 CSV, for the download button."""
    return result.predictions.to_csv(index=False).encode("utf-8")
