"""The one table of file formats: which suffix means which format, which formats can be read a chunk at a
time, and which can be written. Every reader and writer in :mod:`imdb_sentiment.io` looks formats up here,
so ``predict --input``, ``score`` and the app's upload page accept the same files.
"""

from __future__ import annotations

import dataclasses
from pathlib import PurePath

from imdb_sentiment.errors import InputError

#: The name that means standard input instead of a file.
STDIN = "-"


@dataclasses.dataclass(frozen=True)
class Format:
    """One file format and what the library can do with it."""

    name: str
    suffixes: tuple[str, ...]
    #: Read a chunk of rows at a time, however large the file (otherwise read whole, then chunked).
    streamed: bool
    #: Accepted as an output of ``score``.
    writable: bool
    #: The field separator of delimited text formats.
    delimiter: str = ","


FORMATS: tuple[Format, ...] = (
    Format("csv", (".csv",), streamed=True, writable=True),
    Format("tsv", (".tsv",), streamed=True, writable=True, delimiter="\t"),
    Format("jsonl", (".jsonl", ".ndjson"), streamed=True, writable=True),
    # A JSON array (of records, or of review strings) has no row boundaries a line reader could find:
    # it is parsed whole. Use JSON Lines for inputs larger than memory.
    Format("json", (".json",), streamed=False, writable=False),
    Format("parquet", (".parquet", ".pq"), streamed=True, writable=True),
    # One review per line, no header: the rows' only column is ``text``.
    Format("txt", (".txt",), streamed=True, writable=False),
)
#: Format by lower-case suffix.
BY_SUFFIX: dict[str, Format] = {suffix: fmt for fmt in FORMATS for suffix in fmt.suffixes}
BY_NAME: dict[str, Format] = {fmt.name: fmt for fmt in FORMATS}
#: Suffixes of the inputs, and of the outputs, for messages and the upload widget.
INPUT_SUFFIXES: tuple[str, ...] = tuple(sorted(BY_SUFFIX))
OUTPUT_SUFFIXES: tuple[str, ...] = tuple(sorted(s for s, fmt in BY_SUFFIX.items() if fmt.writable))
#: The column of formats without columns (``txt``, a JSON array of strings, plain lines on standard input).
TEXT = "text"


def input_format(name: str | PurePath) -> Format:
    """The format of an input named ``name``, by its suffix (any case).

    Raises:
        InputError: the suffix is not one of :data:`INPUT_SUFFIXES`.
    """
    suffix = PurePath(name).suffix.lower()
    fmt = BY_SUFFIX.get(suffix)
    if fmt is None:
        raise InputError(
            f"cannot read {name}: unknown format {suffix!r}; use one of {', '.join(INPUT_SUFFIXES)}, "
            f"a folder of them, or {STDIN} for standard input"
        )
    return fmt


def output_format(name: str | PurePath) -> Format:
    """The format of an output named ``name``, by its suffix (any case).

    Raises:
        InputError: the suffix is not one of :data:`OUTPUT_SUFFIXES`.
    """
    suffix = PurePath(name).suffix.lower()
    fmt = BY_SUFFIX.get(suffix)
    if fmt is None or not fmt.writable:
        what = f"unknown format {suffix!r}" if fmt is None else f"{fmt.name} is an input format only"
        raise InputError(f"cannot write {name}: {what}; name the output with one of {', '.join(OUTPUT_SUFFIXES)}")
    return fmt


def stdin_format(first_line: str) -> Format:
    """How to read standard input from its first non-blank line: JSON Lines if it is an object, else one
    review per line."""
    return BY_NAME["jsonl"] if first_line.lstrip("\ufeff \t").startswith("{") else BY_NAME["txt"]
