"""Reading reviews and labels from files, folders, standard input and uploaded bytes (imdb_sentiment.io.readers),
the one format table (imdb_sentiment.io.formats), and writing JSON Lines."""

from __future__ import annotations

import io
import json
import os
import re
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from imdb_sentiment.errors import InputError
from imdb_sentiment.io.formats import FORMATS, INPUT_SUFFIXES, input_format, output_format
from imdb_sentiment.io.readers import input_files, label_column, read_chunks, read_table, text_column
from imdb_sentiment.io.writers import write_jsonl

TEXTS = ["A superb film.", "Awful, boring & long<br />really", 'Café naïve, "quoted", commas']
LABELS = [1, 0, 1]


def _write(path, fmt: str) -> None:
    frame = pd.DataFrame({"review": TEXTS, "sentiment": LABELS})
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif fmt == "parquet":
        frame.to_parquet(path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".PQ", ".CSV"])
def test_read_table_formats(tmp_path, suffix):
    fmt = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
    path = tmp_path / f"reviews{suffix}"
    _write(path, fmt[suffix.lower()])
    frame = read_table(path)
    assert list(frame.columns) == ["review", "sentiment"]
    assert text_column(frame, "review") == TEXTS
    assert label_column(frame, "sentiment") == LABELS


def test_read_table_json_array_of_objects(tmp_path):
    path = tmp_path / "reviews.json"
    records = [{"review": t, "sentiment": y} for t, y in zip(TEXTS, LABELS, strict=True)]
    path.write_text("\n  " + json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["review", "sentiment"]
    assert text_column(frame, "review") == TEXTS
    assert label_column(frame, "sentiment") == LABELS


def test_read_table_txt_is_one_review_per_line(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("first review\n\n  \nsecond, with a comma\n{not json}\n", encoding="utf-8")
    frame = read_table(str(path))
    assert list(frame.columns) == ["text"]
    assert frame["text"].tolist() == ["first review", "second, with a comma", "{not json}"]


def test_csv_keeps_text_as_strings(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\n123,1\nNA,0\nnull,1\n")
    frame = read_table(path)
    assert text_column(frame, "text") == ["123", "NA", "null"]
    assert label_column(frame, "label") == [1, 0, 1]


def test_stdin_jsonl(monkeypatch):
    lines = "\n" + "\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(TEXTS)) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    frame = read_table("-")
    assert frame["id"].tolist() == [0, 1, 2]
    assert text_column(frame, "text", source="standard input") == TEXTS


def test_stdin_plain_lines(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("brilliant\n\n   \nboring, dull\n"))
    frame = read_table("-")
    assert list(frame.columns) == ["text"]
    assert frame["text"].tolist() == ["brilliant", "boring, dull"]


def test_stdin_malformed_jsonl(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"text": "fine"}\n{"text": \n'))
    with pytest.raises(InputError, match="cannot read standard input as jsonl"):
        read_table("-")


def test_unknown_suffix(tmp_path):
    path = tmp_path / "reviews.xlsx"
    path.write_text("x")
    with pytest.raises(InputError, match=r"unknown format '\.xlsx'") as info:
        read_table(path)
    assert str(path) in str(info.value) and ".csv" in str(info.value) and ".jsonl" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="input not found") as info:
        read_table(tmp_path / "missing.csv")
    assert str(tmp_path / "missing.csv") in str(info.value)
    with pytest.raises(InputError, match="no input files in"):
        read_table(tmp_path)  # a folder without input files


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bad.jsonl", '{"text": "fine"}\n{"text": "unterminated\n'),
        ("bad.jsonl", "just words, not json\n"),
        ("bad.parquet", "not parquet at all"),
    ],
)
def test_malformed_files(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError, match=f"cannot read {path}"):
        read_table(path)


def test_text_column_missing_column_lists_columns():
    frame = pd.DataFrame({"review": ["a"], "stars": [5]})
    with pytest.raises(InputError) as info:
        text_column(frame, "text", source="reviews.csv")
    assert str(info.value) == "reviews.csv has no column 'text'; its columns are: review, stars"


@pytest.mark.parametrize(
    ("values", "row", "what"),
    [
        (["fine", ""], 2, "is empty"),
        (["fine", "ok", "   \n"], 3, "is empty"),
        ([None, "fine"], 1, ""),
        (["fine", np.nan], 2, ""),
        (["fine", 42], 2, "is not text (int)"),
        ([3.5, "fine"], 1, "is not text (float)"),
    ],
)
def test_text_column_bad_rows(values, row, what):
    frame = pd.DataFrame({"text": pd.Series(values, dtype=object)})
    with pytest.raises(InputError, match=rf"^in\.csv: row {row} of column 'text' {re.escape(what)}"):
        text_column(frame, "text", source="in.csv")


def test_text_column_null_in_jsonl(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"text": "fine"}\n{"text": null}\n')
    with pytest.raises(InputError, match=r"row 2 of column 'text'"):
        text_column(read_table(path), "text")


def test_text_column_reports_json_null_and_nan_as_empty(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"text": "fine"}\n{"text": null}\n')
    with pytest.raises(InputError, match=r"^in\.jsonl: row 2 of column 'text' is empty$"):
        text_column(read_table(path), "text", source="in.jsonl")
    frame = pd.DataFrame({"text": pd.Series(["fine", "ok", np.nan], dtype=object)})
    with pytest.raises(InputError, match=r"^in\.csv: row 3 of column 'text' is empty$"):
        text_column(frame, "text", source="in.csv")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 1], [0, 1]),
        (["0", "1"], [0, 1]),
        ([1.0, 0.0], [1, 0]),
        (["Positive", "NEGATIVE"], [1, 0]),
        (["pos", "neg", " Pos "], [1, 0, 1]),
        ([np.int64(1), np.int64(0)], [1, 0]),
    ],
)
def test_label_column_accepts(values, expected):
    assert label_column(pd.DataFrame({"y": pd.Series(values, dtype=object)}), "y") == expected


def test_label_column_accepts_float_strings_from_csv(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("text,label\nsuperb,1.0\nawful,0.0\nloved, 1.0 \n")
    frame = read_table(path)
    assert frame["label"].tolist() == ["1.0", "0.0", " 1.0 "]  # CSV is read as text
    assert label_column(frame, "label", source=str(path)) == [1, 0, 1]


@pytest.mark.parametrize(
    ("values", "row", "shown"),
    [
        ([1, "maybe"], 2, "'maybe'"),
        ([np.nan, 1], 1, "nan"),
        ([0, 1, True], 3, "True"),
        ([2], 1, "2"),
        ([0.5], 1, "0.5"),
    ],
)
def test_label_column_rejects(values, row, shown):
    frame = pd.DataFrame({"y": pd.Series(values, dtype=object)})
    with pytest.raises(InputError, match=rf"^labels\.csv: row {row} of column 'y' is {shown}; labels must be 0/1"):
        label_column(frame, "y", source="labels.csv")


def test_label_column_missing_column():
    with pytest.raises(InputError, match="has no column 'label'; its columns are: text"):
        label_column(pd.DataFrame({"text": ["a"]}), "label")


RECORDS = [{"id": 1, "label": "positive", "p_positive": 0.9}, {"id": "b", "text": "café ✓"}]


def test_write_jsonl_to_file(tmp_path):
    path = tmp_path / "out" / "predictions.jsonl"
    path.parent.mkdir()
    path.write_text("old contents\n")
    write_jsonl(RECORDS, path)
    content = path.read_text(encoding="utf-8")
    assert [json.loads(line) for line in content.splitlines()] == RECORDS
    assert "café ✓" in content  # not \u-escaped
    assert content.endswith("\n")
    assert sorted(p.name for p in path.parent.iterdir()) == ["predictions.jsonl"]  # no temporary left
    assert os.stat(path).st_mode & 0o077 != 0  # normal permissions, not the temp file's 0600


def test_write_jsonl_to_stdout(capsys, tmp_path):
    write_jsonl(RECORDS, None)
    out = capsys.readouterr().out
    assert [json.loads(line) for line in out.splitlines()] == RECORDS
    write_jsonl([], None)
    assert capsys.readouterr().out == ""
    assert not list(tmp_path.iterdir())


def test_read_table_json_array_of_strings_and_a_folder(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(TEXTS[:2]), encoding="utf-8")
    (tmp_path / "b.txt").write_text(TEXTS[2] + "\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("not read\n", encoding="utf-8")
    assert read_table(tmp_path / "a.json")["text"].tolist() == TEXTS[:2]
    assert read_table(tmp_path)["text"].tolist() == TEXTS  # every file of the folder, in name order


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_uploaded_bytes_read_as_the_file_does(tmp_path, suffix):
    path = tmp_path / f"reviews{suffix}"
    _write(path, {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet"}[suffix])
    pd.testing.assert_frame_equal(read_table(path.name, path.read_bytes()), read_table(path))


def test_one_format_table_drives_every_reader(tmp_path):
    """Every input suffix is read whole and streamed; the writable ones are the outputs of score."""
    assert {fmt.name for fmt in FORMATS} == {"csv", "tsv", "jsonl", "json", "parquet", "txt"}
    for suffix in INPUT_SUFFIXES:
        fmt = input_format(f"x{suffix}").name
        path = tmp_path / f"reviews{suffix}"
        if fmt in ("csv", "tsv", "jsonl", "parquet"):
            _write(path, fmt)
            column = "review"
        elif fmt == "json":
            path.write_text(json.dumps(TEXTS), encoding="utf-8")
            column = "text"
        else:
            path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
            column = "text"
        assert read_table(path)[column].tolist() == TEXTS, suffix
        chunks = list(read_chunks(input_files(path), 2, column))
        assert [c.table.num_rows for c in chunks] == [2, 1], suffix
        assert [t for c in chunks for t in c.table[column].to_pylist()] == TEXTS, suffix
    outputs = {output_format(f"x{s}").name for s in (".csv", ".tsv", ".jsonl", ".parquet")}
    assert outputs == {"csv", "tsv", "jsonl", "parquet"}
    with pytest.raises(
        InputError, match=r"cannot write x\.json: json is an input format only; name the output with one of \.csv"
    ):
        output_format("x.json")


def test_streamed_csv_error_rows_name_the_physical_line(tmp_path):
    """A quoted review may span lines: the reason names the line where the bad record starts."""
    path = tmp_path / "in.csv"
    path.write_bytes(b'id,text\n1,"three\nline\nreview"\n2,fine,surplus\n3,"caf\xe9"\n\n4,last\n')
    (chunk,) = read_chunks(input_files(path), 10, "text")
    assert chunk.table["id"].to_pylist() == ["1", None, "3", "4"]  # the blank line is not a row
    assert chunk.reasons == (
        None,
        "malformed row at line 5: 3 fields, expected 2",
        "invalid UTF-8 in column 'text' at line 6",
        None,
    )


def test_streamed_json_lines_are_strict_and_keep_the_first_batchs_columns(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": null, "text": "a"}\n{"text": "b"}\n{"id": 2, "text": "\xff", "x": 1}\n{"id": "4"}\n')
    first, second = read_chunks(input_files(path), 2, "text")
    assert first.table.schema == second.table.schema == pa.schema([("id", pa.string()), ("text", pa.string())])
    assert second.table.to_pylist() == [{"id": None, "text": None}, {"id": "4", "text": None}]
    assert second.reasons == ("invalid UTF-8 (byte 0xff at position 20)", None)
