"""Read reviews from any input in :data:`imdb_sentiment.io.formats.FORMATS`: a file, a folder of files,
standard input (``-``) or the bytes of an upload.

Two shapes, one format table:

- :func:`read_table` reads the whole input into a pandas frame, keeping each value's Python type, for
  ``predict --input``, ``evaluate --input`` and the app's upload page;
- :func:`read_chunks` streams it as Arrow tables of ``batch_size`` rows, so ``score`` runs in flat memory
  however large the input, with the columns fixed once (:class:`~imdb_sentiment.io.rows.FixedSchema`).
  CSV cells are read as text (no type guessing that a later block could contradict); CSV records and
  JSON Lines are parsed one at a time, strictly decoded as UTF-8, so that a malformed row, a byte that is
  not UTF-8, a review that is a number or a value of another type becomes an error row instead of ending
  the run.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imdb_sentiment.errors import InputError
from imdb_sentiment.io.formats import INPUT_SUFFIXES, STDIN, TEXT, Format, input_format, stdin_format
from imdb_sentiment.io.rows import FixedSchema, byte_lines, csv_rows, flat_record, json_line, text_line
from imdb_sentiment.scoring import check_texts

#: Bytes pyarrow's CSV reader parses per block; rows are regrouped into batches afterwards. The reader
#: reads a few dozen blocks ahead of the consumer, so this sets its memory (~30 MB), whatever the file's
#: size; a row longer than a block cannot be read, which 1 MB leaves far above any review.
CSV_BLOCK = 1 << 20
_LABEL_WORDS = {"0": 0, "1": 1, "negative": 0, "positive": 1, "neg": 0, "pos": 1}


@dataclasses.dataclass(frozen=True)
class InputFile:
    """One file of an input: its name in messages and the errors file, its path, its format."""

    name: str
    #: ``None``: standard input.
    path: Path | None
    #: ``None``: standard input, whose format is told by its first line (:func:`~.formats.stdin_format`).
    fmt: Format | None


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Up to ``batch_size`` consecutive rows of one input file."""

    #: The file the rows come from (``-`` for standard input). Rows are numbered by the consumer, which
    #: sees every chunk in order (the Ray engine's results have no chunk to carry a number).
    source: str
    table: pa.Table
    #: Problems found while reading, one per row (``None``: read fine); empty or ``None``: none.
    reasons: tuple[str | None, ...] | None = None


def input_files(path: str | Path) -> list[InputFile]:
    """The files to read: a file, each file of a known format in a folder (hidden ones skipped), or stdin.

    Raises:
        InputError: the path is missing, has an unknown suffix, or is a folder without input files.
    """
    if str(path) == STDIN:
        return [InputFile(STDIN, None, None)]
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
        found = [p for p in found if not any(part.startswith(".") for part in p.relative_to(path).parts)]
        if not found:
            raise InputError(f"no input files in {path}; expected {', '.join(INPUT_SUFFIXES)} files")
        return [InputFile(str(p.relative_to(path)), p, input_format(p)) for p in found]
    if not path.is_file():
        raise InputError(f"input not found: {path}")
    return [InputFile(path.name, path, input_format(path))]


# ----------------------------------------------------------------------------- whole frames


def read_table(source: str | Path, data: bytes | None = None) -> pd.DataFrame:
    """Read a whole input into a DataFrame: a file, a folder of files (concatenated), ``-`` or bytes.

    Args:
        source: A path, ``-`` for standard input, or (with ``data``) the uploaded file's name.
        data: The content of an upload; its format is told by the suffix of ``source``.

    Returns:
        The rows; CSV and TSV cells as text, ``.txt`` lines (and stdin lines that are not JSON) as ``text``.

    Raises:
        InputError: the input is missing, its format is unknown, or it cannot be parsed.
    """
    if data is not None:
        return _parse_frame(data, input_format(source), str(source))
    if str(source) == STDIN:
        content = sys.stdin.read()
        first = next((line.strip() for line in content.splitlines() if line.strip()), "")
        return _parse_frame(content.encode("utf-8"), stdin_format(first), "standard input")
    frames = [_parse_frame(f.path, f.fmt, str(f.path)) for f in input_files(source) if f.path and f.fmt]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _parse_frame(source: bytes | Path, fmt: Format, name: str) -> pd.DataFrame:
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        if fmt.name in ("csv", "tsv"):
            return pd.read_csv(handle, sep=fmt.delimiter, dtype=str, keep_default_na=False)
        if fmt.name == "parquet":
            return pd.read_parquet(handle)
        text = source.decode("utf-8-sig") if isinstance(source, bytes) else source.read_text(encoding="utf-8-sig")
        if fmt.name == "txt":
            return pd.DataFrame({TEXT: list(_review_lines(io.StringIO(text)))})
        if fmt.name == "json" and text.lstrip().startswith("["):
            rows = list(_array_records(json.loads(text)))
            bad = next(((i, reason) for i, (_, reason) in enumerate(rows) if reason), None)
            if bad is not None:
                raise ValueError(f"item {bad[0] + 1} of the array is {bad[1]}")
            return pd.DataFrame([record for record, _ in rows])
        # JSON Lines, and a .json file that is JSON Lines rather than one array.
        return pd.read_json(io.StringIO(text), lines=True, dtype=False)
    except (ValueError, OSError, RecursionError, pd.errors.ParserError) as exc:
        # pyarrow's ArrowInvalid is a ValueError; json.JSONDecodeError too.
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read {name} as {fmt.name}: {first_line}") from None


def text_column(frame: pd.DataFrame, column: str, *, source: str = "input", max_chars: int | None = None) -> list[str]:
    """Return ``frame[column]`` as a list of reviews, every one checked by :func:`~imdb_sentiment.scoring.text_problem`.

    Raises:
        InputError: the column is missing, or a row cannot be scored (the message names the row and why).
    """
    _require_column(frame, column, source)
    return check_texts(frame[column].tolist(), max_chars, lambda i: f"{source}: row {i + 1} of column {column!r}")


def label_column(frame: pd.DataFrame, column: str, *, source: str = "input") -> list[int]:
    """Return ``frame[column]`` as 0/1 labels; accepts 0/1 and negative/positive (or neg/pos), any case.

    Raises:
        InputError: the column is missing or a value is not a recognised label.
    """
    _require_column(frame, column, source)
    labels = []
    for i, value in enumerate(frame[column].tolist()):
        label = _LABEL_WORDS.get(_label_key(value))
        if label is None:
            raise InputError(
                f"{source}: row {i + 1} of column {column!r} is {value!r}; labels must be 0/1 or negative/positive"
            )
        labels.append(label)
    return labels


def _label_key(value: object) -> str:
    # 1.0 (a float column read from CSV or Parquet) means 1; NaN and True/False mean nothing.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return repr(value)
    key = str(value).strip().lower()
    try:
        number = float(key)  # CSV is read as text, so "1.0" arrives as a string
    except ValueError:
        return key
    return str(int(number)) if number.is_integer() else key


def _require_column(frame: pd.DataFrame, column: str, source: str) -> None:
    if column not in frame.columns:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise InputError(f"{source} has no column {column!r}; its columns are: {found}")


# ----------------------------------------------------------------------------- streamed chunks


def count_rows(files: list[InputFile]) -> int | None:
    """Rows in the input when that is cheap to know (Parquet footers), else ``None``."""
    if any(f.path is None or f.fmt is None or f.fmt.name != "parquet" for f in files):
        return None
    try:
        return sum(pq.ParquetFile(f.path).metadata.num_rows for f in files if f.path is not None)
    except (pa.ArrowInvalid, OSError):
        return None  # read_chunks reports the unreadable file


#: What a file reader yields: parsed JSON records or an Arrow table, and a reason (or None) per row.
_Raw = tuple[list[dict[str, Any]] | pa.Table, list[str | None]]


def read_chunks(
    files: list[InputFile], batch_size: int, text_column: str, columns: tuple[str, ...] | None = None
) -> Iterator[Chunk]:
    """Yield the rows of every file, in order, ``batch_size`` rows at a time (fewer at each file's end).

    Every input row is in exactly one chunk. The columns are fixed once, from the first rows
    (:class:`~imdb_sentiment.io.rows.FixedSchema`): ``columns`` (and ``text_column``) or all of them. A row
    that cannot be parsed, is not UTF-8, has a ``text_column`` value that is not a string (JSON), or a value
    that cannot be cast to its column's type, is kept with a reason in :attr:`Chunk.reasons`.

    Raises:
        InputError: a file cannot be parsed at all (not a Parquet file, an empty CSV file, ...).
    """
    schema = FixedSchema(text_column, columns)
    empty: tuple[str, _Raw] | None = None
    yielded = False
    for file in files:
        try:
            for raw, reasons in _file_chunks(file, batch_size, text_column):
                if not reasons:  # no rows: the columns are fixed by the first rows, not by an empty file
                    empty = empty or (file.name, (raw, reasons))
                    continue
                yielded = True
                yield Chunk(file.name, _fitted(schema, raw, reasons), tuple(reasons))
        except InputError:
            raise
        except (ValueError, OSError, RecursionError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            fmt = file.fmt.name if file.fmt else "standard input"
            raise InputError(f"cannot read {file.name} as {fmt}: {first_line}") from None
    if not yielded and empty is not None:  # an input without rows still has its columns
        yield Chunk(empty[0], _fitted(schema, *empty[1]), ())


def _fitted(schema: FixedSchema, raw: list[dict[str, Any]] | pa.Table, reasons: list[str | None]) -> pa.Table:
    return schema.records(raw, reasons) if isinstance(raw, list) else schema.fit(raw, reasons)


def _file_chunks(file: InputFile, batch_size: int, text_column: str) -> Iterator[_Raw]:
    if file.path is None or file.fmt is None:
        yield from _stdin_chunks(batch_size, text_column)
    elif file.fmt.name in ("jsonl", "json", "txt"):
        with file.path.open("rb") as stream:
            yield from _line_chunks(byte_lines(stream), file.fmt, batch_size, text_column)
    elif file.fmt.name == "parquet":
        yield from _regroup(_parquet_batches(file.path, batch_size), batch_size)
    elif file.fmt.name in ("csv", "tsv"):
        yield from csv_rows(file.path, file.fmt.delimiter, batch_size)
    else:
        raise ValueError(f"no streaming reader for {file.fmt.name}")  # a format added to the table only


def _stdin_chunks(batch_size: int, text_column: str) -> Iterator[_Raw]:
    buffer = getattr(sys.stdin, "buffer", None)
    stream = buffer if buffer is not None else (line.encode("utf-8", "surrogateescape") for line in sys.stdin)
    # The first non-blank line tells JSON Lines from one review per line.
    lines = byte_lines(stream)
    first = next(lines, None)
    fmt = stdin_format(first.decode("utf-8", "replace") if first is not None else "")
    yield from _line_chunks(itertools.chain([first] if first is not None else [], lines), fmt, batch_size, text_column)


def _line_chunks(lines: Iterator[bytes], fmt: Format, batch_size: int, text_column: str) -> Iterator[_Raw]:
    """The rows of a text input, parsed line by line (each strictly decoded as UTF-8)."""
    records: Iterator[tuple[dict[str, Any], str | None]]
    if fmt.name == "txt":
        records = map(text_line, lines)
    else:
        first = next(lines, None)
        if fmt.name == "json" and first is not None and first.lstrip().startswith(b"["):
            # A JSON array has no row boundaries to stream by: it is parsed whole, then chunked.
            records = _array_records(json.loads(b"\n".join([first, *lines]).decode("utf-8")))
        else:
            records = map(json_line, itertools.chain([first] if first is not None else [], lines))
    checked = (_check_text(record, reason, text_column) for record, reason in records)
    yielded = False
    while batch := list(itertools.islice(checked, batch_size)):
        yielded = True
        yield [record for record, _ in batch], [reason for _, reason in batch]
    if not yielded:
        yield [], []


def _check_text(record: dict[str, Any], reason: str | None, text_column: str) -> tuple[dict[str, Any], str | None]:
    text = record.get(text_column)
    if reason is None and text is not None and not isinstance(text, str):
        # Keep the reason of the one row check (the column's type would otherwise be guessed from it).
        reason = f"not text ({type(text).__name__})"
        record = {**record, text_column: None}
    return flat_record(record), reason


def _nonblank(lines: Iterable[str]) -> Iterator[str]:
    return (line for line in lines if line.strip())  # blank lines are not rows


def _review_lines(lines: Iterable[str]) -> Iterator[str]:
    """One review per non-blank line, without its line break (``.txt`` files and plain stdin)."""
    return (line.rstrip("\r\n") for line in _nonblank(lines))


def _array_records(items: object) -> Iterator[tuple[dict[str, Any], str | None]]:
    """The rows of a parsed JSON array: objects as they are, strings as ``{"text": ...}``."""
    if not isinstance(items, list):
        raise ValueError(f"expected an array of objects or of strings, got {type(items).__name__}")
    for item in items:
        if isinstance(item, dict):
            yield item, None
        elif isinstance(item, str):
            yield {TEXT: item}, None
        else:
            yield {}, f"not a JSON object ({type(item).__name__})"


def _parquet_batches(path: Path, batch_size: int) -> Iterator[pa.RecordBatch]:
    # pre_buffer (pyarrow's default) reads ahead the column chunks of every row group still to come and
    # keeps them: memory would grow with the file. Buffered reads keep it to about one row group.
    parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    empty = True
    for batch in parquet.iter_batches(batch_size=batch_size):
        empty = False
        yield batch
    if empty:  # keep the columns of a file without rows, so the output still has them
        yield _empty_batch(parquet.schema_arrow)


def _empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], type=f.type) for f in schema], schema=schema)


def csv_options(path: Path, delimiter: str = ",") -> dict[str, Any]:
    """pyarrow CSV options that read every column of ``path`` as text, quoted line breaks included."""
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)  # reviews hold line breaks
    with pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16), parse_options=parse) as probe:
        names = probe.schema.names
    return {
        "read_options": pacsv.ReadOptions(block_size=CSV_BLOCK),
        "parse_options": parse,
        "convert_options": pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    }


def _regroup(batches: Iterable[pa.RecordBatch], batch_size: int) -> Iterator[_Raw]:
    """Turn record batches of any size into tables of exactly ``batch_size`` rows (the last may be shorter)."""
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    yielded = False
    schema = None
    for batch in batches:
        schema = batch.schema
        pending.append(batch)
        pending_rows += batch.num_rows
        while pending_rows >= batch_size:
            table = pa.Table.from_batches(pending, schema=schema)
            yield table.slice(0, batch_size), [None] * batch_size
            yielded = True
            rest = table.slice(batch_size)
            pending, pending_rows = rest.to_batches(), rest.num_rows
    if pending_rows or not yielded:  # a file without rows still yields its (empty) table and columns
        yield pa.Table.from_batches(pending, schema=schema), [None] * pending_rows
