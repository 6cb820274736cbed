"""Rows one at a time, strictly: the parsing that turns a bad row into an error row instead of a failed run.

- every line or cell is decoded as strict UTF-8: a byte that is not UTF-8 makes its row an error row
  (``invalid UTF-8 ...``), never a silent U+FFFD that would then be scored;
- CSV and TSV records are split by Python's :mod:`csv` module over a ``surrogateescape`` decoding of the
  bytes, so that a record with the wrong number of fields, or a cell with a byte that is not UTF-8, is
  found exactly, with its line number, and the records around it are read as usual;
- :class:`FixedSchema` fixes the input columns and their types once, from the first rows, and fits every
  later table to them: a missing column is null, an extra one is dropped, a value of another type is cast
  or its row given a reason.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

#: ``surrogateescape`` decodes each byte that is not valid UTF-8 to one of these code points.
_ESCAPED = re.compile("[\udc80-\udcff]")
#: A CSV field longer than this (characters) is a malformed row; the review length limit applies far below.
CSV_FIELD_LIMIT = 1 << 24
_BOM = b"\xef\xbb\xbf"


def decode_line(raw: bytes) -> tuple[str | None, str | None]:
    """``(text, None)`` for a strictly valid UTF-8 line, ``(None, reason)`` otherwise."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start + 1})"


def byte_lines(stream: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a binary stream without their line breaks or a leading byte-order mark; blank ones skipped."""
    first = True
    for raw in stream:
        if first:
            raw, first = raw.removeprefix(_BOM), False
        line = raw.rstrip(b"\r\n")
        if line.strip():
            yield line


def text_line(raw: bytes) -> tuple[dict[str, Any], str | None]:
    """One review per line (``.txt``): the row and its reason."""
    text, reason = decode_line(raw)
    if text is not None and not text.strip():
        return {"text": text}, "empty"  # white space that only Unicode calls blank (a no-break space)
    return {"text": text}, reason


def json_line(raw: bytes) -> tuple[dict[str, Any], str | None]:
    """One JSON Lines row: the object, or ``{}`` and why it is not one."""
    text, reason = decode_line(raw)
    if text is None:
        return {}, reason
    try:
        value = json.loads(text)
    except RecursionError:
        return {}, "not valid JSON (nested too deeply)"
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python converts
        return {}, f"not valid JSON ({getattr(exc, 'msg', str(exc))})"
    if not isinstance(value, dict):
        return {}, f"not a JSON object ({type(value).__name__})"
    return value, None


def spelling(value: object) -> str:
    """A value as text: strings as they are, anything else in its JSON spelling."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        return repr(value)[:1000]


def flat_record(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with nested values (objects, arrays) as their JSON text: every column stays a plain type
    that every output format, the errors CSV included, can hold."""
    return {str(k): spelling(v) if isinstance(v, (dict, list)) else v for k, v in record.items()}


# ----------------------------------------------------------------------------- CSV


def csv_rows(path: Path, delimiter: str, batch_size: int) -> Iterator[tuple[pa.Table, list[str | None]]]:
    """The records of a CSV or TSV file with a header, ``batch_size`` at a time, every cell as text.

    A record whose field count differs from the header's, that the parser refuses, or with a cell that is
    not UTF-8, is kept in its place with empty cells and a reason naming its line.

    Raises:
        ValueError: the file has no header, or its header is not UTF-8 or repeats a name.
    """
    # Why not pyarrow's reader: its invalid_row_handler is called from the parsing threads, gives no
    # line number when values may hold line breaks (reviews do) and cannot keep the row in its place,
    # and its UTF-8 check fails a whole block. Python's parser is slower, but far faster than scoring.
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))  # process-wide; only ever raised
    with path.open("rb") as raw:
        if raw.read(3) != _BOM:
            raw.seek(0)
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(stream, delimiter=delimiter)
        try:
            header = next((row for row in reader if row), None)
        except csv.Error as exc:
            raise ValueError(f"unreadable header: {exc}") from None
        if header is None:
            raise ValueError("Empty CSV file")
        if any(_ESCAPED.search(name) for name in header):
            raise ValueError("the header is not valid UTF-8")
        repeated = sorted(name for name, n in collections.Counter(header).items() if n > 1)
        if repeated:
            raise ValueError(f"the header repeats the column(s) {', '.join(map(repr, repeated))}")
        columns: list[list[str | None]] = [[] for _ in header]
        reasons: list[str | None] = []
        yielded = False
        line = reader.line_num
        row: list[str] | None
        reason: str | None
        while True:
            start = line + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row, reason = None, f"malformed row at line {start}: {exc}"
            else:
                reason = _record_problem(row, header, start)
            line = reader.line_num
            if row == []:
                continue  # a blank line is not a row
            reasons.append(reason)
            for i, column in enumerate(columns):
                column.append(_cell(row[i]) if row is not None and len(row) == len(header) else None)
            if len(reasons) == batch_size:
                yield _string_table(header, columns), reasons
                columns, reasons, yielded = [[] for _ in header], [], True
        if reasons or not yielded:  # a file without rows still yields its (empty) table and columns
            yield _string_table(header, columns), reasons


def _record_problem(row: list[str], header: list[str], line: int) -> str | None:
    if row and len(row) != len(header):
        return f"malformed row at line {line}: {len(row)} fields, expected {len(header)}"
    for name, cell in zip(header, row, strict=False):
        if not cell.isascii() and _ESCAPED.search(cell):
            return f"invalid UTF-8 in column {name!r} at line {line}"
    return None


def _cell(cell: str) -> str:
    # Arrow cannot hold the escapes; the errors file shows the bad bytes as U+FFFD (the row is not scored).
    if cell.isascii() or not _ESCAPED.search(cell):
        return cell
    return cell.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _string_table(header: list[str], columns: list[list[str | None]]) -> pa.Table:
    return pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], names=header)


# ----------------------------------------------------------------------------- the fixed schema


class FixedSchema:
    """The input columns of a run, fixed from its first rows; every table is then fitted to them.

    Args:
        text_column: The review column; kept even when the first rows could not be parsed at all.
        columns: The columns to keep (``--id-columns``); ``None``: all of the first rows' columns.
    """

    def __init__(self, text_column: str, columns: tuple[str, ...] | None = None):
        self.text_column, self.columns = text_column, columns
        self.schema: pa.Schema | None = None

    def fix(self, table: pa.Table, reasons: list[str | None]) -> None:
        """Fix the schema from ``table``: its columns (those asked for), their types, text for the untyped."""
        wanted = table.column_names if self.columns is None else [*self.columns, self.text_column]
        names = [c for c in dict.fromkeys(wanted) if c in table.column_names]
        if self.text_column not in names and (not names or all(r is not None for r in reasons)):
            names.append(self.text_column)  # the first rows are unparsable or empty objects: nothing to go by
        fields = []
        for name in names:
            kind = table.schema.field(name).type if name in table.column_names else pa.null()
            fields.append(pa.field(name, pa.string() if pa.types.is_null(kind) else kind))
        self.schema = pa.schema(fields)

    def records(self, records: list[dict[str, Any]], reasons: list[str | None]) -> pa.Table:
        """A table of parsed JSON records, with the fixed schema (fixed from these when not yet fixed)."""
        if self.schema is None:
            names = dict.fromkeys(k for r in records for k in r)
            self.fix(pa.table({k: _infer([r.get(k) for r in records]) for k in names}), reasons)
        assert self.schema is not None
        arrays = [_convert([r.get(f.name) for r in records], f, reasons) for f in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def fit(self, table: pa.Table, reasons: list[str | None]) -> pa.Table:
        """``table`` with the fixed schema; a value that cannot be cast is nulled and its row given a reason."""
        if self.schema is None:
            self.fix(table, reasons)
        assert self.schema is not None
        arrays = []
        for field in self.schema:
            if field.name not in table.column_names:
                arrays.append(pa.nulls(table.num_rows, field.type))
                continue
            column = table[field.name]
            try:
                arrays.append(column if column.type == field.type else column.cast(field.type, safe=True))
            except (pa.ArrowException, ValueError, TypeError):
                arrays.append(_convert(column.to_pylist(), field, reasons))
        return pa.Table.from_arrays(arrays, schema=self.schema)


def _infer(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowException, OverflowError, ValueError, TypeError):
        return pa.array([None if v is None else spelling(v) for v in values], pa.string())  # mixed types


def _convert(values: list[Any], field: pa.Field, reasons: list[str | None]) -> pa.Array:
    """``values`` as ``field``'s type; rows whose value cannot be are nulled and given a reason."""
    target = field.type
    if pa.types.is_string(target) or pa.types.is_large_string(target):
        return pa.array([None if v is None else spelling(v) for v in values], target)
    try:
        return _infer(values).cast(target, safe=True)  # inferred first: a Python 4.5 is never truncated to 4
    except (pa.ArrowException, ValueError, TypeError):
        pass
    out: list[Any] = []
    for i, value in enumerate(values):
        try:
            out.append(None if value is None else _infer([value]).cast(target, safe=True)[0].as_py())
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            out.append(None)
            if reasons[i] is None:
                shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
                reasons[i] = f"column {field.name!r} is {shown}, not {target}"
    return pa.array(out, target)
