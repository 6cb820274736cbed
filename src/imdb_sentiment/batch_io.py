"""Streaming reads and atomic writes of review tables for batch scoring (:mod:`imdb_sentiment.batch`).

Inputs are read a batch of rows at a time with pyarrow, so memory stays flat however large the input is.
CSV cells are read as text (no type guessing that a later block could contradict); JSON Lines are parsed
one line at a time so that a malformed line, or a review that is a number, becomes an error row instead of
ending the run.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imdb_sentiment._atomic import atomic_path
from imdb_sentiment.errors import InputError

#: Input formats by file suffix.
INPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
#: Output formats by file suffix.
OUTPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
#: Bytes pyarrow's CSV reader parses per block; rows are regrouped into batches afterwards. The reader
#: reads a few dozen blocks ahead of the consumer, so this sets its memory (~30 MB), whatever the file's
#: size; a row longer than a block cannot be read, which 1 MB leaves far above any review.
CSV_BLOCK = 1 << 20


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Up to ``batch_size`` consecutive rows of one input file."""

    #: The file the rows come from (``-`` for standard input). Rows are numbered by the consumer, which
    #: sees every chunk in order (the Ray engine's results have no chunk to carry a number).
    source: str
    table: pa.Table
    #: Problems found while parsing, one per row (``None``: parsed fine); JSON Lines only.
    reasons: tuple[str | None, ...] | None = None


def input_files(path: str | Path) -> list[tuple[str, Path | None, str]]:
    """The files to read: ``(name, path, format)`` for a file, each known file in a folder, or ``-`` (stdin).

    Raises:
        InputError: the path is missing, has an unknown suffix, or is a folder without input files.
    """
    if str(path) == "-":
        return [("-", None, "jsonl")]
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_FORMATS)
        found = [p for p in found if not any(part.startswith(".") for part in p.relative_to(path).parts)]
        if not found:
            raise InputError(f"no input files in {path}; expected {', '.join(sorted(INPUT_FORMATS))} files")
        return [(str(p.relative_to(path)), p, INPUT_FORMATS[p.suffix.lower()]) for p in found]
    if not path.is_file():
        raise InputError(f"input not found: {path}")
    fmt = INPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(INPUT_FORMATS))
        raise InputError(f"cannot read {path}: unknown format {path.suffix!r}; use one of {known}, or a folder of them")
    return [(path.name, path, fmt)]


def count_rows(files: list[tuple[str, Path | None, str]]) -> int | None:
    """Rows in the input when that is cheap to know (Parquet footers), else ``None``."""
    if any(fmt != "parquet" or p is None for _, p, fmt in files):
        return None
    try:
        return sum(pq.ParquetFile(p).metadata.num_rows for _, p, _ in files if p is not None)
    except (pa.ArrowInvalid, OSError):
        return None  # read_chunks reports the unreadable file


def read_chunks(files: list[tuple[str, Path | None, str]], batch_size: int, text_column: str) -> Iterator[Chunk]:
    """Yield the rows of every file, in order, ``batch_size`` rows at a time (fewer at each file's end).

    In JSON Lines, a ``text_column`` value that is not a string is nulled and its row given a reason.

    Raises:
        InputError: a file cannot be parsed at all (not a Parquet file, an empty CSV file, ...).
    """
    for name, path, fmt in files:
        try:
            if fmt == "jsonl":
                yield from _jsonl_chunks(name, path, batch_size, text_column)
                continue
            batches = _parquet_batches(path, batch_size) if fmt == "parquet" else _csv_batches(path)
            yield from _regroup(name, batches, batch_size)
        except (pa.ArrowInvalid, OSError) as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"cannot read {name} as {fmt}: {first_line}") from None


def _parquet_batches(path: Path | None, batch_size: int) -> Iterator[pa.RecordBatch]:
    assert path is not None
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


def csv_options(path: Path) -> dict[str, Any]:
    """pyarrow CSV options that read every column of ``path`` as text, quoted line breaks included."""
    with pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16)) as probe:
        names = probe.schema.names
    return {
        "read_options": pacsv.ReadOptions(block_size=CSV_BLOCK),
        # Reviews contain line breaks inside quoted cells.
        "parse_options": pacsv.ParseOptions(newlines_in_values=True),
        "convert_options": pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    }


def _csv_batches(path: Path | None) -> Iterator[pa.RecordBatch]:
    assert path is not None
    with pacsv.open_csv(path, **csv_options(path)) as reader:
        schema = reader.schema
        empty = True
        for batch in reader:
            empty = False
            yield batch
        if empty:
            yield _empty_batch(schema)


def _regroup(name: str, batches: Iterable[pa.RecordBatch], batch_size: int) -> Iterator[Chunk]:
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
            yield Chunk(name, table.slice(0, batch_size))
            yielded = True
            rest = table.slice(batch_size)
            pending, pending_rows = rest.to_batches(), rest.num_rows
    if pending_rows or not yielded:  # a file without rows still yields its (empty) table and columns
        yield Chunk(name, pa.Table.from_batches(pending, schema=schema))


def _jsonl_chunks(name: str, path: Path | None, batch_size: int, text_column: str) -> Iterator[Chunk]:
    stream: TextIO = (
        io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="replace")
        if path is None
        else path.open(encoding="utf-8-sig", errors="replace")
    )
    with stream:
        records: list[dict[str, Any]] = []
        reasons: list[str | None] = []
        yielded = False
        for line in stream:
            if not line.strip():
                continue  # blank lines are not rows
            record, reason = _parse_json_line(line)
            text = record.get(text_column)
            if reason is None and text is not None and not isinstance(text, str):
                reason = f"not text ({type(text).__name__})"
                record[text_column] = None
            records.append(record)
            reasons.append(reason)
            if len(records) == batch_size:
                yield Chunk(name, _records_table(records), tuple(reasons))
                yielded = True
                records, reasons = [], []
        if records or not yielded:
            yield Chunk(name, _records_table(records), tuple(reasons))


def _parse_json_line(line: str) -> tuple[dict[str, Any], str | None]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"not valid JSON ({exc.msg})"
    if not isinstance(value, dict):
        return {}, f"not a JSON object ({type(value).__name__})"
    return value, None


def _records_table(records: list[dict[str, Any]]) -> pa.Table:
    """A table of the records' keys; a column whose values mix types holds them as JSON text."""
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = {}
    for key in names:
        values = [r.get(key) for r in records]
        try:
            columns[key] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # An id that is a number in one row and text in another: keep each value's JSON spelling.
            columns[key] = pa.array([v if v is None or isinstance(v, str) else json.dumps(v) for v in values])
    return pa.table(columns)


class TableWriter:
    """Write tables to a Parquet, CSV or JSON Lines file that appears under its name only when complete.

    Use as a context manager: leaving the block with an exception removes the temporary file and leaves
    any previous file of that name untouched.
    """

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = path, fmt
        self._atomic = atomic_path(path)
        self._writer: Any = None
        self._jsonl: TextIO | None = None
        self.schema: pa.Schema | None = None
        self.rows = 0

    def __enter__(self) -> TableWriter:
        self._tmp = self._atomic.__enter__()
        return self

    def write(self, table: pa.Table) -> None:
        """Append ``table``; every table after the first must have the first one's columns.

        Raises:
            InputError: the columns differ from the first table's (input files with different columns).
        """
        if self.schema is None:
            self.schema = table.schema
            if self.fmt == "parquet":
                self._writer = pq.ParquetWriter(self._tmp, self.schema)
            elif self.fmt == "csv":
                self._writer = pacsv.CSVWriter(self._tmp, self.schema)
            else:
                self._jsonl = self._tmp.open("w", encoding="utf-8")
        table = self._conform(table)
        if self._jsonl is not None:
            self._jsonl.writelines(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in table.to_pylist())
        else:
            self._writer.write_table(table)
        self.rows += table.num_rows

    def _conform(self, table: pa.Table) -> pa.Table:
        assert self.schema is not None
        if table.schema.equals(self.schema):
            return table
        if table.schema.names != self.schema.names:
            raise InputError(
                f"input files have different columns: {', '.join(table.schema.names)} "
                f"after {', '.join(self.schema.names)}; use --id-columns to pick the columns they share"
            )
        try:
            return table.cast(self.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise InputError(
                f"input files have columns of different types: {table.schema} after {self.schema}"
            ) from None

    def __exit__(self, *exc_info: Any) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._jsonl is not None:
            self._jsonl.close()
        self._atomic.__exit__(*exc_info)


def output_format(path: Path) -> str:
    """The output format for ``path``'s suffix.

    Raises:
        InputError: the suffix is not one of :data:`OUTPUT_FORMATS`.
    """
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(OUTPUT_FORMATS))
        raise InputError(f"cannot write {path}: unknown format {path.suffix!r}; name the output with one of {known}")
    return fmt


def errors_path(output: Path) -> Path:
    """Where the rows that could not be scored go: ``scores.parquet`` -> ``scores.errors.csv``."""
    return output.with_name(f"{output.stem}.errors.csv")
