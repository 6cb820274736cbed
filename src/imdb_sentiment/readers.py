"""Read reviews (and optionally labels) from CSV, JSONL, Parquet or plain-text files, or standard input."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pandas as pd

from imdb_sentiment.errors import InputError

#: File suffixes understood by :func:`read_table`.
FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "lines",
}
_LABEL_WORDS = {"0": 0, "1": 1, "negative": 0, "positive": 1, "neg": 0, "pos": 1}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a whole input file into a DataFrame; ``"-"`` reads standard input.

    Standard input is JSON Lines when its first non-blank line is a JSON object, otherwise one review
    per line (column ``text``). ``.txt`` files are one review per line as well.

    Raises:
        InputError: the file is missing, its format is unknown, or it cannot be parsed.
    """
    if str(path) == "-":
        content = sys.stdin.read()
        first = next((line.strip() for line in content.splitlines() if line.strip()), "")
        if first.startswith("{"):
            return _parse(io.StringIO(content), "jsonl", "standard input")
        return pd.DataFrame({"text": [line for line in content.splitlines() if line.strip()]})
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot read {path}: unknown format {path.suffix!r}; use one of {', '.join(sorted(FORMATS))}")
    return _parse(path, fmt, str(path))


def _parse(source: str | Path | io.StringIO, fmt: str, name: str) -> pd.DataFrame:
    try:
        if fmt == "csv":
            return pd.read_csv(source, dtype=str, keep_default_na=False)
        if fmt == "jsonl":
            if isinstance(source, Path) and source.suffix.lower() == ".json" and _starts_with_array(source):
                return pd.read_json(source, dtype=False)  # a .json file holding one array of objects
            return pd.read_json(source, lines=True, dtype=False)
        if fmt == "parquet":
            return pd.read_parquet(source)
        text = source.getvalue() if isinstance(source, io.StringIO) else Path(source).read_text(encoding="utf-8")
        return pd.DataFrame({"text": [line for line in text.splitlines() if line.strip()]})
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot parse {name} as {fmt}: {first_line}") from None


def _starts_with_array(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def text_column(frame: pd.DataFrame, column: str, *, source: str = "input") -> list[str]:
    """Return ``frame[column]`` as a list of non-empty strings.

    Raises:
        InputError: the column is missing, or a row is empty or not text (the message names the row).
    """
    _require_column(frame, column, source)
    texts = frame[column].tolist()
    for i, value in enumerate(texts):
        if not isinstance(value, str) or not value.strip():
            missing = isinstance(value, str) or value is None or (isinstance(value, float) and pd.isna(value))
            what = "empty" if missing else f"not text ({type(value).__name__})"
            raise InputError(f"{source}: row {i + 1} of column {column!r} is {what}")
    return texts


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


def write_jsonl(records: list[dict], path: str | Path | None) -> None:
    """Write one JSON object per line to ``path`` (atomically) or to standard output when ``path`` is None."""
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if path is None:
        sys.stdout.write(lines)
        return
    from imdb_sentiment._atomic import atomic_path

    with atomic_path(Path(path)) as tmp:
        tmp.write_text(lines, encoding="utf-8")
