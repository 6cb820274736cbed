"""What the app refuses and how: uploads over the row and decoded-size limits, unreadable uploads as one
line, formula cells in the download, and no tracebacks in the browser."""

from __future__ import annotations

import io
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("streamlit", reason="the app extra is not installed: pip install -e '.[app]'")

from streamlit.testing.v1 import AppTest

from conftest import make_toy_reviews
from imdb_sentiment import InputError, NgramConfig, get_model_class
from imdb_sentiment.settings import UiSettings
from imdb_sentiment.ui import analysis, batch, launch
from imdb_sentiment.ui.upload import read_upload

LIMITS = UiSettings(max_rows=1_000, max_text_mb=1)


def parquet_bytes(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def test_a_small_parquet_file_that_decodes_to_a_lot_is_refused_before_it_is_read(monkeypatch):
    # 100 copies of one 2 MB value: a few hundred bytes on the wire, 200 million characters once read.
    bomb = parquet_bytes(pa.table({"text": ["a" * 2_000_000] * 100}), compression="zstd")
    assert len(bomb) < 25_000
    monkeypatch.setattr("imdb_sentiment.ui.upload.read_table", lambda *a: pytest.fail("read before the checks"))
    with pytest.raises(InputError, match=r"bomb\.parquet decodes to over .* MB; the app takes at most 100 MB"):
        read_upload("bomb.parquet", bomb, UiSettings())
    # Without dictionary encoding the footer alone tells.
    plain = parquet_bytes(pa.table({"text": ["a" * 2_000_000] * 100}), compression="zstd", use_dictionary=False)
    with pytest.raises(InputError, match=r"uncompresses to 190\.7 MB.*IMDB_SENTIMENT_MAX_TEXT_MB"):
        read_upload("plain.parquet", plain, UiSettings())


def test_parquet_rows_are_counted_from_the_footer(monkeypatch):
    many = parquet_bytes(pa.table({"text": ["good"] * 1_001}))
    monkeypatch.setattr("imdb_sentiment.ui.upload.read_table", lambda *a: pytest.fail("read before the checks"))
    with pytest.raises(InputError, match=r"has 1,001 rows; the app takes at most 1,000 \(IMDB_SENTIMENT_MAX_ROWS\)"):
        read_upload("many.parquet", many, LIMITS)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("lines.txt", b"a\n" * 1_001),
        ("lines.jsonl", b'{"text": "a"}\n' * 1_001),
        ("rows.csv", b"text\n" + b"a\n" * 1_001),
        ("rows.tsv", b"id\ttext\n" + b"1\ta\r" * 1_001),  # old Mac line ends are rows too
        ("array.json", b"[" + b",".join([b'"a"'] * 1_001) + b"]"),
    ],
)
def test_text_formats_over_the_row_limit_are_refused(name, data):
    with pytest.raises(InputError, match=rf"{name.replace('.', '[.]')} has (over )?1,00\d rows.*predict MODEL_DIR"):
        read_upload(name, data, LIMITS)


def test_rows_are_counted_as_the_reader_counts_them():
    # Line breaks inside quoted cells and blank lines are not rows: a file under the limit is read.
    csv = b"text\n" + b'"one\nreview"\n' * 1_000
    assert len(read_upload("quoted.csv", csv, LIMITS)) == 1_000
    txt = b"a review\n" + b"\n" * 5_000
    assert read_upload("blank.txt", txt, LIMITS)["text"].tolist() == ["a review"]


def test_text_uploads_over_the_decoded_size_limit_are_refused():
    with pytest.raises(InputError, match=r"big\.csv is 1\.0 MB; the app takes at most 1 MB"):
        read_upload("big.csv", b"text\n" + b"x" * 2**20, LIMITS)
    with pytest.raises(InputError, match=r"IMDB_SENTIMENT_MAX_UPLOAD_MB"):
        read_upload("big.csv", b"text\n" + b"x" * 2**20, UiSettings(max_upload_mb=1))


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "cannot read deep.json as json"),  # a RecursionError
        ("deep.jsonl", b"[" * 100_000 + b"]" * 100_000, "cannot read deep.jsonl as jsonl"),
        ("latin1.txt", "café".encode("latin-1"), "cannot read latin1.txt as txt"),
        ("broken.parquet", b"PAR1 not really PAR1", "cannot read broken.parquet as parquet"),
        ("empty.csv", b"", "cannot read empty.csv as csv"),
    ],
)
def test_unreadable_uploads_are_one_input_error(name, data, fragment):
    with pytest.raises(InputError) as info:
        read_upload(name, data, UiSettings())
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_an_upload_within_the_limits_reads_like_predict_input():
    texts, _ = make_toy_reviews(10, seed=1)
    frame = read_upload("ok.parquet", parquet_bytes(pa.table({"review": texts})), LIMITS)
    assert frame["review"].tolist() == texts


def test_the_download_neutralises_formula_cells(tmp_path):
    texts, labels = make_toy_reviews(40, seed=2)
    model = get_model_class("ngram")(config=NgramConfig(n_bits=12)).fit(texts, labels)
    attacks = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    frame = pd.DataFrame({"review": [f"{t} wonderful superb" for t in attacks] + ["fine=ok", "-5"], "n": range(8)})
    frame = frame.rename(columns={"n": "=cmd"})
    result = batch.score_table(model, frame, "review", max_chars=1_000)
    back = pd.read_csv(io.BytesIO(batch.to_csv_bytes(result)), dtype=str, keep_default_na=False)
    assert list(back.columns) == [result.label_column, result.probability_column, "review", "'=cmd"]
    assert back["review"].tolist()[:6] == [f"'{t} wonderful superb" for t in attacks]
    assert back["review"].tolist()[6:] == ["fine=ok", "'-5"]
    assert not back.map(lambda v: v.startswith(batch.FORMULA_STARTS)).any().any()
    # Numbers are not text: a probability is written as it is.
    assert back[result.probability_column].astype(float).tolist() == result.predictions["p_positive"].tolist()


def test_an_unexpected_error_shows_no_traceback_or_server_path(tmp_path, monkeypatch):
    texts, labels = make_toy_reviews(40, seed=2)
    model = get_model_class("ngram")(config=NgramConfig(n_bits=12)).fit(texts, labels).save(tmp_path / "m")
    monkeypatch.setenv(launch.MODELS_ENV, str(model))

    def broken(*args, **kwargs):
        raise RuntimeError("boom in /srv/secret/path.py")

    monkeypatch.setattr(analysis, "explain", broken)
    at = AppTest.from_file(str(launch.APP_PATH), default_timeout=60).run()
    at.text_area[0].input("A wonderful film.")
    at.button[0].click().run()
    assert at.exception, "the error should reach Streamlit's handler"
    shown = at.exception[0]
    assert shown.stack_trace == [] and "/srv/secret" not in shown.message
    assert "redacted" in shown.message


def test_the_launcher_turns_error_details_off():
    command = launch.streamlit_command([], host="127.0.0.1", port=8501, max_upload_mb=5)
    assert command[command.index("--client.showErrorDetails") + 1] == "none"
    assert os.path.isabs(command[0])  # exec needs the interpreter's path, not a name to look up


@pytest.mark.parametrize(
    "error", [RecursionError("maximum recursion depth exceeded"), pa.ArrowNotImplementedError("no such type")]
)
def test_whatever_the_reader_raises_is_one_input_error(monkeypatch, error):
    def reader(*args):
        raise error

    monkeypatch.setattr("imdb_sentiment.ui.upload.read_table", reader)
    with pytest.raises(InputError, match=r"^cannot read x\.json as json: "):
        read_upload("x.json", b"[]", UiSettings())
