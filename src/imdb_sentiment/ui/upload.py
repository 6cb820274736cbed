"""The Batch page's upload, read within the app's limits, without Streamlit.

Streamlit's upload limit counts the bytes sent, which is not what an upload costs: a 23 KB Parquet file
can decode to 200 million characters, and a CSV of 25 million one-letter lines takes gigabytes as a
DataFrame. So before the table is read (by :func:`imdb_sentiment.io.readers.read_table`, the reader of
``predict --input``), its rows and the size it decodes to are checked against :class:`UiSettings`:
for Parquet from the file's metadata and a scan that keeps string columns dictionary-encoded (so the
scan itself cannot blow up), for the text formats from the bytes (UTF-8 text has at most as many
characters as bytes). Whatever goes wrong while reading is raised as one :class:`InputError`, for the
page to show as one line.
"""

from __future__ import annotations

import io
import itertools
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from imdb_sentiment.errors import InputError
from imdb_sentiment.io.formats import input_format
from imdb_sentiment.io.readers import read_table
from imdb_sentiment.settings import UiSettings

#: What the refusals suggest instead: the CLI reads any size a chunk at a time.
BIGGER_FILES = "for bigger files use: imdb-sentiment predict MODEL_DIR --input FILE"
#: Rows per step of the Parquet scan: small, so one step's decoded values stay small.
_SCAN_ROWS = 256
_NONBLANK_LINE = re.compile(rb"(?m)^[^\S\n]*\S")


def read_upload(name: str, data: bytes, limits: UiSettings) -> pd.DataFrame:
    """Read an uploaded file into a DataFrame, refusing one over the app's limits before reading it whole.

    Args:
        name: The file's name (its suffix tells the format).
        data: The file's bytes.
        limits: ``max_upload_mb``, ``max_rows`` and ``max_text_mb`` apply.

    Raises:
        InputError: the file is over a limit, its format is unknown, or it cannot be read (the message
            is one line, and says which limit and which variable raises it).
    """
    fmt = input_format(name)
    if len(data) > limits.max_upload_bytes:
        raise InputError(
            f"{name} is {len(data) / 2**20:.1f} MB; the limit is {limits.max_upload_mb} MB "
            f"(IMDB_SENTIMENT_MAX_UPLOAD_MB); {BIGGER_FILES}"
        )
    try:
        if fmt.name == "parquet":
            _check_parquet(name, data, limits)
        else:
            _check_text(name, data, fmt.name, limits)
        frame = read_table(name, data)
    except InputError:
        raise
    except RecursionError:
        raise InputError(f"cannot read {name} as {fmt.name}: it is nested too deeply") from None
    except (pa.ArrowException, ValueError, OSError, UnicodeDecodeError, MemoryError) as exc:
        # ArrowNotImplementedError (an unsupported column type) is not a ValueError; MemoryError is an
        # allocation Arrow refused, not the server running out.
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(f"cannot read {name} as {fmt.name}: {first_line}") from None
    _check_rows(name, len(frame), limits)  # JSON arrays are only counted once parsed
    return frame


def _check_rows(name: str, rows: int, limits: UiSettings, *, at_least: bool = False) -> None:
    if rows > limits.max_rows:
        count = f"over {limits.max_rows:,}" if at_least else f"{rows:,}"
        raise InputError(
            f"{name} has {count} rows; the app takes at most {limits.max_rows:,} (IMDB_SENTIMENT_MAX_ROWS); "
            + BIGGER_FILES
        )


def _check_size(name: str, size: int, limits: UiSettings, *, what: str) -> None:
    if size > limits.max_text_bytes:
        raise InputError(
            f"{name} {what} {size / 2**20:,.1f} MB; the app takes at most {limits.max_text_mb} MB "
            f"(IMDB_SENTIMENT_MAX_TEXT_MB); {BIGGER_FILES}"
        )


def _check_parquet(name: str, data: bytes, limits: UiSettings) -> None:
    """Rows and uncompressed size from the footer, then the decoded size, one small step at a time."""
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    _check_rows(name, meta.num_rows, limits)
    uncompressed = sum(
        meta.row_group(g).column(c).total_uncompressed_size
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    )
    _check_size(name, uncompressed, limits, what="uncompresses to")
    # Dictionary encoding repeats one stored value in many rows: a file within the size above can still
    # decode to far more. Read string columns as dictionaries (each value once) and count what they
    # would decode to, stopping at the limit.
    schema = pq.ParquetFile(io.BytesIO(data)).schema_arrow
    strings = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_binary(f.type)]
    parquet = pq.ParquetFile(io.BytesIO(data), read_dictionary=strings)
    decoded = 0
    for batch in parquet.iter_batches(batch_size=_SCAN_ROWS):
        decoded += sum(_decoded_bytes(column) for column in batch.columns)
        _check_size(name, decoded, limits, what="decodes to over")


def _decoded_bytes(column: pa.Array) -> int:
    if isinstance(column, pa.DictionaryArray):
        lengths = pc.binary_length(column.dictionary).take(column.indices)
        return int(pc.sum(lengths).as_py() or 0) + column.indices.nbytes
    return int(column.nbytes)


def _check_text(name: str, data: bytes, fmt: str, limits: UiSettings) -> None:
    """The text formats decode to at most one character a byte; their rows are counted without a parse."""
    _check_size(name, len(data), limits, what="is")
    if data.count(b"\n") + data.count(b"\r") < limits.max_rows:
        return  # fewer line breaks than the limit: fewer rows too
    if fmt in ("txt", "jsonl"):  # a row a non-blank line
        rows = sum(1 for _ in itertools.islice(_NONBLANK_LINE.finditer(data), limits.max_rows + 1))
        _check_rows(name, rows, limits, at_least=True)
    elif fmt in ("csv", "tsv"):  # quoted cells may hold line breaks: count the rows with pandas' own parser
        chunks = pd.read_csv(
            io.BytesIO(data), sep="\t" if fmt == "tsv" else ",", dtype=str, keep_default_na=False, usecols=[0],
            chunksize=_SCAN_ROWS * 64,
        )  # fmt: skip
        rows = 0
        with chunks:
            for chunk in chunks:
                rows += len(chunk)
                _check_rows(name, rows, limits, at_least=True)
