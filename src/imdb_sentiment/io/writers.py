"""Atomic writers: a table written a chunk at a time (``score``) and a list of JSON records (``predict``).

Both go through :func:`imdb_sentiment._atomic.atomic_path`, so the file appears under its name only when
complete and an interrupted run leaves any previous file of that name untouched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imdb_sentiment._atomic import atomic_path
from imdb_sentiment.errors import InputError
from imdb_sentiment.io.formats import Format


class TableWriter:
    """Write tables to a Parquet, CSV, TSV or JSON Lines file that appears under its name only when complete.

    Use as a context manager: leaving the block with an exception removes the temporary file and leaves
    any previous file of that name untouched.
    """

    def __init__(self, path: Path, fmt: Format):
        if not fmt.writable:
            raise InputError(f"cannot write {path} as {fmt.name}")
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
            if self.fmt.name == "parquet":
                self._writer = pq.ParquetWriter(self._tmp, self.schema)
            elif self.fmt.name in ("csv", "tsv"):
                options = pacsv.WriteOptions(delimiter=self.fmt.delimiter)
                self._writer = pacsv.CSVWriter(self._tmp, self.schema, write_options=options)
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
