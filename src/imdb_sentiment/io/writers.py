"""Writers: the parts of a ``score`` output and their joining into one file, and JSON records (``predict``).

Final files go through :func:`imdb_sentiment._atomic.atomic_path`, so a file appears under its name only
when complete and an interrupted run leaves any previous file of that name untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imdb_sentiment._atomic import atomic_path
from imdb_sentiment.errors import InputError
from imdb_sentiment.io.formats import Format
from imdb_sentiment.io.rows import spelling


def write_part(table: pa.Table, path: Path, fmt: Format) -> None:
    """Write ``table`` to ``path`` as one part of an output in format ``fmt``, and sync it to disk.

    Parts of CSV, TSV and JSON Lines are rows without a header, so that :func:`join_parts` can concatenate
    their bytes; Parquet parts are whole files, each becoming one row group of the output.

    Raises:
        InputError: ``fmt`` cannot be written.
    """
    if not fmt.writable:
        raise InputError(f"cannot write {path} as {fmt.name}")
    if fmt.name == "parquet":
        pq.write_table(table, path)
    elif fmt.name in ("csv", "tsv"):
        options = pacsv.WriteOptions(include_header=False, delimiter=fmt.delimiter)
        pacsv.write_csv(_as_text(table, nested=True), path, options)
    else:
        rows = _as_text(table, nested=False).to_pylist()
        lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
        path.write_text(lines, encoding="utf-8")
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())  # a part is recorded as done only once it is on disk


def _as_text(table: pa.Table, *, nested: bool) -> pa.Table:
    """``table`` with bytes columns as text (bytes that are not UTF-8 shown as U+FFFD) and, with ``nested``,
    nested columns as their JSON text: what a delimited text file can hold (Parquet inputs may have both)."""
    for i, field in enumerate(table.schema):
        kind = field.type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
            values = [None if v is None else v.decode("utf-8", "replace") for v in table[i].to_pylist()]
        elif nested and pa.types.is_nested(kind):
            values = [None if v is None else spelling(v) for v in table[i].to_pylist()]
        else:
            continue
        table = table.set_column(i, field.name, pa.array(values, pa.string()))
    return table


def header_bytes(schema: pa.Schema, fmt: Format) -> bytes:
    """The header line of a CSV or TSV output of ``schema`` (nothing for the other formats)."""
    if fmt.name not in ("csv", "tsv"):
        return b""
    names = pa.schema([pa.field(name, pa.string()) for name in schema.names])  # names only: types may not be CSV's
    sink = pa.BufferOutputStream()
    pacsv.write_csv(names.empty_table(), sink, pacsv.WriteOptions(delimiter=fmt.delimiter))
    return bytes(sink.getvalue())


def join_parts(parts: list[Path], dest: Path, fmt: Format, header: bytes = b"") -> None:
    """Write the parts, in order, into ``dest`` (atomically): the same bytes however the parts were made."""
    with atomic_path(dest) as tmp:
        if fmt.name == "parquet":
            writer = None
            for part in parts:
                table = pq.read_table(part)
                writer = writer or pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
            if writer is not None:
                writer.close()
            return
        with tmp.open("wb") as out:
            out.write(header)
            for part in parts:
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)


def errors_path(output: Path) -> Path:
    """Where the rows that could not be scored go: ``scores.parquet`` -> ``scores.errors.csv``."""
    return output.with_name(f"{output.stem}.errors.csv")


def write_jsonl(records: list[dict[str, Any]], path: str | Path | None) -> None:
    """Write one JSON object per line to ``path`` (atomically) or to standard output when ``path`` is None."""
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if path is None:
        sys.stdout.write(lines)
        return
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(lines, encoding="utf-8")
