"""Generated input files for the reader fuzz test (tests/test_fuzz_readers.py) and its long run
(bench/fuzz_readers.py): every input format, with empty, huge, binary, non-UTF-8, markup and ``<script>``
values, deeply nested JSON, wrong types, malformed rows, truncation and plain garbage.

:func:`check_input` reads one generated file through both readers (and, when asked, ``score``) and returns
what it saw; any exception but :class:`~imdb_sentiment.errors.InputError` is a finding.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from imdb_sentiment.errors import InputError
from imdb_sentiment.io.readers import input_files, read_chunks, read_table

SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".txt", ".parquet")


class Raw(str):
    """JSON text written as it is (deep nesting that json.dumps itself could not write)."""


VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "<b>bold</b> &amp; <!-- c --> <![CDATA[x]]>",
            "",
            "   ",
            "\u00a0\u3000",
            "\ufeffbom",
            "nul\x00byte",
            'quote " and , and \t and \r\n',
            "\u2028line sep",
            "A superb, wonderful film that I loved.",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.binary(max_size=20),  # raw bytes, mostly not UTF-8
    st.integers(0, 300_000).map(lambda n: "x" * n),  # huge
    st.integers(1, 5000).map(lambda n: Raw("[" * n + "]" * n)),  # deeply nested
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.lists(st.integers(), max_size=3),
)
KEYS = st.sampled_from(["text", "text", "text", "id", "n", "note", "", "é", "<script>"])
ROWS = st.lists(st.dictionaries(KEYS, VALUES, max_size=4), max_size=12)


@dataclasses.dataclass
class Generated:
    """One generated input file."""

    suffix: str
    data: bytes
    #: Rows a reader must account for, when the file is well-formed enough to know (else ``None``).
    rows: int | None

    def __repr__(self) -> str:
        return (
            f"Generated({self.suffix!r}, {self.data[:200]!r}{'...' if len(self.data) > 200 else ''}, rows={self.rows})"
        )


def _json_value(value: Any) -> bytes:
    if isinstance(value, Raw):
        return value.encode()
    if isinstance(value, bytes):
        return b'"' + value + b'"'  # invalid UTF-8, or a quote that breaks the line: an error row
    return json.dumps(value).encode()


def _cell(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value if isinstance(value, str) else "" if value is None else json.dumps(value)


def _text_lines(data: bytes) -> int:
    lines = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    return sum(1 for line in lines if line.rstrip(b"\r\n").strip())


@st.composite
def generated_inputs(draw: st.DrawFn) -> Generated:
    suffix = draw(st.sampled_from(SUFFIXES))
    if draw(st.integers(0, 9)) == 0:  # plain garbage of any format
        data = draw(st.binary(max_size=300))
        return Generated(suffix, data, _text_lines(data) if suffix in (".txt", ".jsonl") else None)
    rows = draw(ROWS)
    corrupt = draw(st.sampled_from(["none", "none", "truncate", "garbage line", "extra field"]))
    data, count = _encode(suffix, rows)
    if corrupt == "truncate" and data:
        data, count = data[: draw(st.integers(0, len(data) - 1))], None
    elif corrupt == "garbage line" and suffix != ".parquet":
        data, count = data + draw(st.binary(min_size=1, max_size=30)) + b"\n", None
    elif corrupt == "extra field" and suffix in (".csv", ".tsv"):
        data = data + b"1,2,3,4,5,6,7,8,9\n"
        count = None if count is None else count + 1  # a row with too many fields is still one row
    if suffix in (".txt", ".jsonl"):
        count = _text_lines(data)
    return Generated(suffix, data, count)


def _encode(suffix: str, rows: list[dict[str, Any]]) -> tuple[bytes, int | None]:
    if suffix in (".jsonl", ".json"):
        lines = [
            b"{" + b", ".join(json.dumps(k).encode() + b": " + _json_value(v) for k, v in r.items()) + b"}"
            for r in rows
        ]
        if suffix == ".json":
            return b"[" + b",\n".join(lines) + b"]", len(rows)
        return b"\n".join(lines) + b"\n", len(rows)
    if suffix == ".txt":
        return b"\n".join(_cell(r.get("text")).encode("utf-8", "surrogateescape") for r in rows) + b"\n", None
    columns = list(dict.fromkeys(k for r in rows for k in r)) or ["text"]
    if suffix == ".parquet":
        arrays = {}
        for c in columns:
            values = [r.get(c) for r in rows]
            try:
                arrays[c] = pa.array(values)
            except (pa.ArrowException, OverflowError, ValueError, TypeError):
                arrays[c] = pa.array(
                    [None if v is None else _cell(v).encode("utf-8", "surrogateescape") for v in values]
                )
        table = pa.table(arrays) if rows else pa.table({"text": pa.array([], pa.string())})
        sink = pa.BufferOutputStream()
        try:
            pq.write_table(table, sink)
        except pa.ArrowException:  # a type Parquet cannot hold (an empty struct): write the cells as text
            table = pa.table({c: [_cell(r.get(c)).encode("utf-8", "surrogateescape") for r in rows] for c in columns})
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
        return bytes(sink.getvalue()), len(rows)
    buffer = io.StringIO()
    # The default line ending, "\r\n", makes the writer quote a lone "\r" too (which a reader would split).
    writer = csv.writer(buffer, delimiter="\t" if suffix == ".tsv" else ",")
    writer.writerow(columns)
    writer.writerows([[_cell(r.get(c)) for c in columns] for r in rows])
    return buffer.getvalue().encode("utf-8", "surrogateescape"), len(rows)


@dataclasses.dataclass
class Seen:
    """What reading one generated input gave."""

    rows: int = 0
    error_rows: int = 0
    #: Whole files refused with InputError by the streaming reader, and by the whole-frame reader.
    refused_stream: int = 0
    refused_table: int = 0
    exceptions: Counter[str] = dataclasses.field(default_factory=Counter)
    unaccounted: int = 0


def check_input(generated: Generated, folder: Path, *, model: Any = None) -> Seen:
    """Read ``generated`` with :func:`read_chunks` and :func:`read_table` (and ``score`` with ``model``)."""
    from imdb_sentiment.batch import score
    from imdb_sentiment.config import ScoreConfig

    path = folder / f"input{generated.suffix}"
    path.write_bytes(generated.data)
    seen = Seen()
    try:
        for chunk in read_chunks(input_files(path), 5, "text"):
            reasons = chunk.reasons or ()
            assert not reasons or len(reasons) == chunk.table.num_rows
            seen.rows += chunk.table.num_rows
            seen.error_rows += sum(r is not None for r in reasons)
        if generated.rows is not None and seen.rows != generated.rows:
            seen.unaccounted += 1
    except InputError:
        seen.refused_stream += 1
    except Exception as exc:  # a finding: counted by type, not raised, so that a long run goes on
        seen.exceptions[f"read_chunks {type(exc).__name__}: {str(exc)[:80]}"] += 1
    try:
        read_table(path)
    except InputError:
        seen.refused_table += 1
    except Exception as exc:
        seen.exceptions[f"read_table {type(exc).__name__}: {str(exc)[:80]}"] += 1
    if model is not None:
        out = folder / "out.jsonl"
        try:
            summary = score(model, path, out, ScoreConfig(batch_size=5, workers=1), progress=False)
            written = len(out.read_bytes().splitlines())
            errors = len(list(csv.reader(io.StringIO(out.with_name("out.errors.csv").read_text("utf-8"))))) - 1
            if not (summary.rows == seen.rows == written + errors and summary.errors == errors):
                seen.unaccounted += 1
        except InputError:
            pass
        except Exception as exc:
            seen.exceptions[f"score {type(exc).__name__}: {str(exc)[:80]}"] += 1
    return seen
