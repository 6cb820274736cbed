"""Batch scoring never loses a run to a row: truncated or non-UTF-8 lines, malformed CSV rows, keys and
types that drift between batches all become error rows, every input row lands in exactly one of the two
files, and a run killed half-way finishes with ``--resume`` without rescoring what was done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import make_toy_reviews
from imdb_sentiment import ConfigError, InputError, load_model
from imdb_sentiment.batch import score
from imdb_sentiment.cli import app as cli_app
from imdb_sentiment.config import ScoreConfig

GOOD = "A superb, wonderful film that I loved."


@pytest.fixture(scope="module")
def model_dir(toy_ngram_dir):
    return toy_ngram_dir


def jsonl(records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def run_cli(*args: str):
    return CliRunner().invoke(cli_app, ["score", *map(str, args), "--quiet"])


def errors_of(out: Path) -> pd.DataFrame:
    return pd.read_csv(out.with_name(f"{out.stem}.errors.csv"))


# ----------------------------------------------------------------------------- finding 1: JSON Lines


def test_a_truncated_last_jsonl_line_is_one_error_row(tmp_path, model_dir):
    """A full first batch then one truncated line (alone in the last batch) exited 2 with no output."""
    texts, _ = make_toy_reviews(8, seed=2)
    body = jsonl({"id": i, "text": t} for i, t in enumerate(texts)) + '{"id": 8, "text": "Grea'
    (tmp_path / "in.jsonl").write_text(body, encoding="utf-8")
    out = tmp_path / "out.parquet"
    result = run_cli(model_dir, "--input", tmp_path / "in.jsonl", "--output", out, "--batch-size", 8)
    assert result.exit_code == 0, result.output
    assert "scored 8 of 9 rows" in result.output
    assert pd.read_parquet(out)["id"].tolist() == list(range(8))
    errors = errors_of(out)
    assert errors["row"].tolist() == [9] and errors["reason"].item().startswith("not valid JSON")


def test_a_key_appearing_in_a_later_batch_is_ignored_and_a_null_id_then_integer_is_cast(tmp_path, model_dir):
    records = [{"id": None, "text": GOOD}] * 3 + [{"id": 7, "text": GOOD, "late": True}, {"id": 8, "text": GOOD}]
    (tmp_path / "in.jsonl").write_text(jsonl(records), encoding="utf-8")
    summary = score(
        model_dir, tmp_path / "in.jsonl", tmp_path / "out.parquet", ScoreConfig(batch_size=3), progress=False
    )
    assert (summary.rows, summary.scored, summary.errors) == (5, 5, 0)
    out = pd.read_parquet(tmp_path / "out.parquet")
    # The schema is the first batch's: `late` is ignored; `id` had no type there, so it holds text.
    assert list(out.columns) == ["id", "label", "p_positive", "rating", "model"]
    assert pq.read_table(tmp_path / "out.parquet")["id"].to_pylist() == [None, None, None, "7", "8"]


def test_a_type_that_cannot_be_cast_is_an_error_row_with_its_reason(tmp_path, model_dir):
    records = [{"n": 1, "text": GOOD}, {"n": 2, "text": GOOD}, {"n": "three", "text": GOOD}, {"n": 4.0, "text": GOOD}]
    (tmp_path / "in.jsonl").write_text(jsonl(records), encoding="utf-8")
    summary = score(model_dir, tmp_path / "in.jsonl", tmp_path / "out.csv", ScoreConfig(batch_size=2), progress=False)
    assert (summary.rows, summary.scored, summary.errors) == (4, 3, 1)
    assert pd.read_csv(tmp_path / "out.csv")["n"].tolist() == [1, 2, 4]
    errors = errors_of(tmp_path / "out.csv")
    assert errors["row"].tolist() == [3]
    assert errors["reason"].item() == "column 'n' is 'three', not int64"


def test_files_with_different_keys_share_the_first_files_columns(tmp_path, model_dir):
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "a.jsonl").write_text(jsonl([{"id": 1, "stars": 5, "text": GOOD}]), encoding="utf-8")
    (folder / "b.jsonl").write_text(jsonl([{"text": GOOD, "id": 2, "extra": "x"}]), encoding="utf-8")
    score(model_dir, folder, tmp_path / "out.parquet", progress=False)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.select(["id", "stars"]).to_pylist() == [{"id": 1, "stars": 5}, {"id": 2, "stars": None}]


# ----------------------------------------------------------------------------- findings 2 and 3: bad rows


def test_a_csv_row_with_an_extra_field_is_an_error_row(tmp_path, model_dir):
    rows = ["id,text", f'1,"{GOOD}"', f'2,"{GOOD}",surplus', '3,"Multi\nline, quoted"', f"4,{GOOD.replace(',', '')}"]
    (tmp_path / "in.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_cli(model_dir, "--input", tmp_path / "in.csv", "--output", out)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["1", "3", "4"]
    errors = errors_of(out)
    assert errors["row"].tolist() == [2]
    assert errors["reason"].item() == "malformed row at line 3: 3 fields, expected 2"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".txt"])
def test_a_non_utf8_byte_is_an_error_row_not_a_replacement_character(tmp_path, model_dir, suffix):
    latin1 = "Un film épatant, vraiment.".encode("latin-1")
    if suffix == ".jsonl":
        body = b'{"text": "' + latin1 + b'"}\n' + json.dumps({"text": GOOD}).encode() + b"\n"
    elif suffix == ".txt":
        body = latin1 + b"\n" + GOOD.encode() + b"\n"
    else:
        sep = b"\t" if suffix == ".tsv" else b","
        body = b"n" + sep + b"text\n1" + sep + latin1.replace(b",", b"") + b"\n2" + sep + b'"' + GOOD.encode() + b'"\n'
    (tmp_path / f"in{suffix}").write_bytes(body)
    out = tmp_path / "out.parquet"
    result = run_cli(model_dir, "--input", tmp_path / f"in{suffix}", "--output", out)
    assert result.exit_code == 0, result.output
    assert "scored 1 of 2 rows" in result.output
    errors = errors_of(out)
    assert errors["row"].tolist() == [1]
    assert errors["reason"].item().startswith("invalid UTF-8")
    assert "\ufffd" not in pd.read_parquet(out).to_string()


def write_bad_input(path: Path) -> int:
    """Write ``path`` (by its suffix) with good rows and bad ones of every kind; return its row count."""
    texts, _ = make_toy_reviews(12, seed=4)
    if path.suffix in (".csv", ".tsv"):
        sep = "\t" if path.suffix == ".tsv" else ","
        lines = [f"id{sep}text".encode()]
        lines += [f'{i}{sep}"{t}"'.encode() for i, t in enumerate(texts)]
        lines[3] += f"{sep}extra".encode()  # too many fields
        lines[5] = b"5"  # too few
        lines[7] = f"7{sep}".encode() + "café".encode("latin-1")  # not UTF-8
        lines[9] = f'9{sep}""'.encode()  # empty
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif path.suffix in (".jsonl", ".json"):
        lines = [json.dumps({"id": i, "text": t}).encode() for i, t in enumerate(texts)]
        lines[2] = b'{"id": 2, "text": '  # truncated
        lines[4] = b'{"id": 4, "text": "caf\xe9"}'  # not UTF-8
        lines[6] = b"[1, 2]"  # not an object
        lines[8] = json.dumps({"id": "eight", "text": 8}).encode()  # drifted type, not text
        lines[10] = json.dumps({"text": texts[10]}).encode()  # missing key
        path.write_bytes(b"\n".join(lines) + b"\n")
    elif path.suffix == ".txt":
        lines = [t.encode() for t in texts]
        lines[3] = "café".encode("latin-1")
        path.write_bytes(b"\n".join(lines) + b"\n")
    else:
        values: list[object] = list(texts)
        values[1], values[2] = None, "   "
        pq.write_table(pa.table({"id": list(range(12)), "text": values}), path)
    return 12


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json", ".txt", ".parquet"])
def test_every_input_row_lands_in_exactly_one_of_the_two_files(tmp_path, model_dir, suffix):
    n = write_bad_input(tmp_path / f"in{suffix}")
    out = tmp_path / "out.csv"
    summary = score(model_dir, tmp_path / f"in{suffix}", out, ScoreConfig(batch_size=5), progress=False)
    written, errors = pd.read_csv(out), errors_of(out)
    assert summary.errors > 0 and summary.rows == n
    assert len(written) + len(errors) == n == summary.scored + summary.errors
    assert errors["row"].is_unique and errors["row"].between(1, n).all()


def test_bytes_and_nested_input_columns_are_written_as_text_to_delimited_files(tmp_path, model_dir):
    """Found by bench/fuzz_readers.py: a Parquet bytes column that is not UTF-8 failed the CSV writers."""
    table = pa.table(
        {"key": [b"\xff\xfe", b"ok"], "tags": [[1, 2], None], "text": pa.array([GOOD.encode(), b"\xe9"], pa.binary())}
    )
    pq.write_table(table, tmp_path / "in.parquet")
    summary = score(model_dir, tmp_path / "in.parquet", tmp_path / "out.csv", progress=False)
    assert (summary.rows, summary.errors) == (2, 2)  # a bytes review is not text
    errors = errors_of(tmp_path / "out.csv")
    assert errors["key"].tolist() == ["\ufffd\ufffd", "ok"] and errors["tags"].tolist()[0] == "[1, 2]"
    assert errors["reason"].tolist() == ["not text (binary)"] * 2


# ----------------------------------------------------------------------------- resume


class CountingModel:
    """Wraps a model and counts the rows it is asked to score."""

    def __init__(self, model):
        self.model, self.rows = model, 0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def predict_proba(self, texts):
        self.rows += len(texts)
        return self.model.predict_proba(texts)


def big_input(path: Path, n: int = 2000) -> None:
    texts, _ = make_toy_reviews(200, seed=9)
    texts = [f"{t} ({i})" for i, t in enumerate(texts * (n // 200))]
    texts[5] = ""
    pq.write_table(pa.table({"id": list(range(n)), "text": texts}), path, row_group_size=300)


_KILLED_RUN = """
import sys, time
import imdb_sentiment.batch as batch
real = batch._load
def slow(model):
    loaded, name = real(model)
    predict = loaded.predict_proba
    def predict_proba(texts):
        time.sleep(0.1)
        return predict(texts)
    loaded.predict_proba = predict_proba
    return loaded, name
batch._load = slow
from imdb_sentiment.cli import app
app(sys.argv[1:])
"""


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_run_killed_with_sigkill_resumes_without_rescoring_to_the_same_file(tmp_path, model_dir, suffix, monkeypatch):
    big_input(tmp_path / "in.parquet")
    reference = tmp_path / f"reference{suffix}"
    score(model_dir, tmp_path / "in.parquet", reference, ScoreConfig(batch_size=50, workers=1), progress=False)
    out = tmp_path / f"out{suffix}"
    (tmp_path / "killed.py").write_text(_KILLED_RUN, encoding="utf-8")
    args = ["score", model_dir, "--input", tmp_path / "in.parquet", "--output", out, "--batch-size", "50"]
    process = subprocess.Popen([sys.executable, tmp_path / "killed.py", *map(str, args), "--workers", "1", "--quiet"])
    progress = Path(f"{out}.partial") / "progress.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if progress.exists() and json.loads(progress.read_text())["chunks"] >= 5:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()
    done = json.loads(progress.read_text())["chunks"]
    assert 5 <= done < 40

    counting = CountingModel(load_model(model_dir))
    monkeypatch.setattr("imdb_sentiment.batch._load", lambda m: (counting, "toy"))
    summary = score(model_dir, tmp_path / "in.parquet", out, ScoreConfig(batch_size=50, resume=True), progress=False)
    assert counting.rows == 2000 - 50 * done  # completed chunks are not rescored (the empty row is in chunk 1)
    assert (summary.rows, summary.scored, summary.errors) == (2000, 1999, 1)
    assert out.read_bytes() == reference.read_bytes()
    assert errors_of(out).equals(errors_of(reference))
    assert not Path(f"{out}.partial").exists()


class FailingModel(CountingModel):
    def __init__(self, model, fail_after: int):
        super().__init__(model)
        self.fail_after = fail_after

    def predict_proba(self, texts):
        if self.rows >= self.fail_after:
            raise KeyboardInterrupt
        return super().predict_proba(texts)


@pytest.mark.parametrize("suffix", [".jsonl", ".tsv", ".parquet"])
def test_an_interrupted_run_resumes_to_an_identical_file(tmp_path, model_dir, suffix, monkeypatch):
    big_input(tmp_path / "in.parquet", 400)
    config = ScoreConfig(batch_size=40, workers=1)
    score(model_dir, tmp_path / "in.parquet", tmp_path / f"reference{suffix}", config, progress=False)
    out = tmp_path / f"out{suffix}"
    failing = FailingModel(load_model(model_dir), fail_after=200)
    monkeypatch.setattr("imdb_sentiment.batch._load", lambda m: (failing, "toy"))
    with pytest.raises(KeyboardInterrupt):
        score(model_dir, tmp_path / "in.parquet", out, config, progress=False)
    assert not out.exists() and Path(f"{out}.partial").is_dir()
    counting = CountingModel(load_model(model_dir))
    monkeypatch.setattr("imdb_sentiment.batch._load", lambda m: (counting, "toy"))
    done = json.loads((Path(f"{out}.partial") / "progress.json").read_text())["chunks"]
    assert done >= 4
    score(model_dir, tmp_path / "in.parquet", out, dataclass_replace(config, resume=True), progress=False)
    assert counting.rows == 400 - 40 * done
    if suffix == ".parquet":
        assert pq.read_table(out).equals(pq.read_table(tmp_path / f"reference{suffix}"))
    assert out.read_bytes() == (tmp_path / f"reference{suffix}").read_bytes()


def dataclass_replace(config: ScoreConfig, **changes) -> ScoreConfig:
    return ScoreConfig.from_dict({**config.to_dict(), **changes})


def interrupted(tmp_path: Path, model_dir: Path, monkeypatch, config: ScoreConfig) -> Path:
    big_input(tmp_path / "in.parquet", 400)
    out = tmp_path / "out.csv"
    failing = FailingModel(load_model(model_dir), fail_after=120)
    with monkeypatch.context() as patch:
        patch.setattr("imdb_sentiment.batch._load", lambda m: (failing, "toy"))
        with pytest.raises(KeyboardInterrupt):
            score(model_dir, tmp_path / "in.parquet", out, config, progress=False)
    return out


def test_resume_refuses_a_changed_input_model_or_setting(tmp_path, model_dir, monkeypatch, toy_reviews):
    config = ScoreConfig(batch_size=40, workers=1)
    out = interrupted(tmp_path, model_dir, monkeypatch, config)
    resume = dataclass_replace(config, resume=True)
    with pytest.raises(InputError, match=r"^cannot resume .*: the settings differ .*max_chars"):
        score(model_dir, tmp_path / "in.parquet", out, dataclass_replace(resume, max_chars=99), progress=False)
    from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

    other = NgramClassifier(config=NgramConfig(n_bits=12)).fit(*toy_reviews).save(tmp_path / "other")
    with pytest.raises(InputError, match=r"^cannot resume .*: the model differs"):
        score(other, tmp_path / "in.parquet", out, resume, progress=False)
    big_input(tmp_path / "in.parquet", 600)
    with pytest.raises(InputError, match=r"^cannot resume .*: the input differs \(in\.parquet"):
        score(model_dir, tmp_path / "in.parquet", out, resume, progress=False)
    assert not out.exists() and Path(f"{out}.partial").is_dir()  # refusing keeps the work done


def test_without_resume_a_stale_partial_folder_is_replaced_with_a_message(tmp_path, model_dir, monkeypatch, capsys):
    config = ScoreConfig(batch_size=40, workers=1)
    out = interrupted(tmp_path, model_dir, monkeypatch, config)
    capsys.readouterr()
    counting = CountingModel(load_model(model_dir))
    monkeypatch.setattr("imdb_sentiment.batch._load", lambda m: (counting, "toy"))
    summary = score(model_dir, tmp_path / "in.parquet", out, config, progress=False)
    assert counting.rows == 400 - 1 and summary.rows == 400
    assert "replacing the unfinished run" in capsys.readouterr().err
    assert not Path(f"{out}.partial").exists()


def test_resume_is_refused_for_the_ray_engine_and_standard_input(tmp_path, model_dir):
    with pytest.raises(ConfigError, match=r"resume.*ray engine"):
        ScoreConfig(engine="ray", resume=True)
    result = run_cli(model_dir, "--input", "-", "--output", tmp_path / "o.csv", "--resume")
    assert result.exit_code == 2 and "standard input" in result.output and "Traceback" not in result.output
