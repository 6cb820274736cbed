"""Batch scoring (imdb_sentiment.batch): every input and output format, the errors file, order, folders,
standard input, atomic output, the read-ahead bound, the CLI verb, and the Ray engine against the local one."""

from __future__ import annotations

import io
import json
import random
import string
import sys
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import make_toy_reviews
from imdb_sentiment import ConfigError, InputError, load_model
from imdb_sentiment.batch import score
from imdb_sentiment.batch.local import read_ahead_bound
from imdb_sentiment.cli import app as cli_app
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.io.writers import errors_path
from imdb_sentiment.scoring import column_problems, text_problem


@pytest.fixture(scope="module")
def model_dir(toy_ngram_dir):
    return toy_ngram_dir


@pytest.fixture(scope="module")
def model(model_dir):
    return load_model(model_dir)


@pytest.fixture
def reviews() -> pd.DataFrame:
    texts, _ = make_toy_reviews(50, seed=11)
    return pd.DataFrame({"review_id": [f"r{i}" for i in range(50)], "stars": list(range(50)), "text": texts})


def write(frame: pd.DataFrame, path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".json":
        path.write_text(json.dumps(frame.to_dict("records")), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")), encoding="utf-8")


def expected_p(model, texts) -> np.ndarray:
    return model.predict_proba(list(texts))[:, 1]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json", ".parquet"])
def test_every_input_format_scores_every_row_in_order(tmp_path, model_dir, model, reviews, suffix):
    source = tmp_path / f"in{suffix}"
    write(reviews, source)
    summary = score(model_dir, source, tmp_path / "out.parquet", ScoreConfig(batch_size=7), progress=False)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert (summary.rows, summary.scored, summary.errors) == (50, 50, 0)
    assert list(out.columns) == ["review_id", "stars", "label", "p_positive", "rating", "model"]
    assert out["review_id"].tolist() == reviews["review_id"].tolist()
    np.testing.assert_allclose(out["p_positive"], expected_p(model, reviews["text"]), rtol=0, atol=1e-12)
    assert out["label"].tolist() == ["positive" if p >= 0.5 else "negative" for p in out["p_positive"]]
    assert set(out["model"]) == {"toy"}
    # The errors file always exists, so a pipeline can rely on it; here it has only its header.
    assert pd.read_csv(errors_path(tmp_path / "out.parquet")).empty


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_output_format_follows_the_extension(tmp_path, model_dir, model, reviews, suffix):
    write(reviews, tmp_path / "in.parquet")
    out_path = tmp_path / f"out{suffix}"
    score(model_dir, tmp_path / "in.parquet", out_path, progress=False)
    if suffix == ".jsonl":
        out = pd.read_json(out_path, lines=True)
    else:
        out = pd.read_csv(out_path, sep="\t" if suffix == ".tsv" else ",")
    assert out["review_id"].tolist() == reviews["review_id"].tolist()
    np.testing.assert_allclose(out["p_positive"], expected_p(model, reviews["text"]), atol=1e-9)


def test_order_and_predictions_do_not_depend_on_batch_size_or_workers(tmp_path, model_dir, reviews):
    write(reviews, tmp_path / "in.parquet")
    outputs = []
    for i, (batch_size, workers) in enumerate([(1000, 1), (3, 2), (4, 5)]):
        path = tmp_path / f"out{i}.parquet"
        score(
            model_dir,
            tmp_path / "in.parquet",
            path,
            ScoreConfig(batch_size=batch_size, workers=workers),
            progress=False,
        )
        outputs.append(pd.read_parquet(path))
    for other in outputs[1:]:
        pd.testing.assert_frame_equal(outputs[0], other)


def test_unless_told_the_model_kind_says_how_many_chunks_to_score_at_once(
    tmp_path, model_dir, model, reviews, monkeypatch
):
    write(reviews, tmp_path / "in.parquet")
    monkeypatch.setattr("os.cpu_count", lambda: 3)

    def run(name: str, **settings) -> int:
        config = ScoreConfig(batch_size=10, **settings)
        return score(model_dir, tmp_path / "in.parquet", tmp_path / name, config, progress=False).workers

    assert run("per-core.parquet") == 3  # ngram: one chunk per core
    monkeypatch.setattr(type(model), "chunk_workers", lambda self, cores: 1)  # as the transformer kind says
    assert run("one.parquet") == 1
    assert run("told.parquet", workers=2) == 2
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "one.parquet"), pd.read_parquet(tmp_path / "told.parquet"))


def test_bad_rows_go_to_the_errors_file_with_row_number_and_reason(tmp_path, model_dir, model):
    good = "A superb, wonderful film that I loved."
    lines = [
        json.dumps({"id": 1, "text": good}),
        json.dumps({"id": 2, "text": ""}),
        json.dumps({"id": 3, "text": None}),
        "{not json",
        json.dumps({"id": 5, "text": 42}),
        json.dumps({"id": 6, "text": "x" * 60}),
        "[1, 2]",
        json.dumps({"id": 8, "text": "   "}),
        json.dumps({"id": 9, "text": good + " Really."}),
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = score(
        model_dir,
        tmp_path / "in.jsonl",
        tmp_path / "out.parquet",
        ScoreConfig(max_chars=50, batch_size=4),
        progress=False,
    )
    assert (summary.rows, summary.scored, summary.errors) == (9, 2, 7)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["id"].tolist() == [1, 9]
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors["row"].tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert set(errors["source"]) == {"in.jsonl"}
    reasons = dict(zip(errors["row"], errors["reason"], strict=True))
    assert reasons[2] == reasons[3] == reasons[8] == "empty"
    assert reasons[4].startswith("not valid JSON")
    assert reasons[5] == "not text (int)"
    assert reasons[6] == "60 characters, over the limit of 50"
    assert reasons[7] == "not a JSON object (list)"
    assert errors.loc[errors["row"] == 5, "id"].item() == 5  # the id columns identify the bad row


def test_vectorised_problems_match_the_per_value_rule():
    values = ["fine review", "", "  \n", None, "é" * 11, "é" * 6, "ok"]
    assert column_problems(pa.array(values), 10) == [text_problem(v, 10) for v in values]
    assert column_problems(pa.array([1, None]), 10) == ["not text (int64)", None]
    # A whole non-text column is reported row by row: the message names the column's type.
    assert text_problem(3.5, 10) == "not text (float)"


def test_a_folder_is_read_file_by_file_with_row_numbers_per_file(tmp_path, model_dir, model, reviews):
    folder = tmp_path / "dump"
    folder.mkdir()
    first, second = reviews.iloc[:20].copy(), reviews.iloc[20:].copy()
    second.loc[second.index[2], "text"] = ""
    write(first, folder / "a.csv")
    write(second, folder / "b.csv")
    (folder / "notes.md").write_text("not an input", encoding="utf-8")
    summary = score(model_dir, folder, tmp_path / "out.parquet", ScoreConfig(batch_size=8), progress=False)
    assert (summary.rows, summary.errors) == (50, 1)
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors[["source", "row", "reason"]].values.tolist() == [["b.csv", 3, "empty"]]
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["review_id"].tolist() == [r for i, r in enumerate(reviews["review_id"]) if i != 22]


def test_files_with_different_columns_keep_the_first_files_columns(tmp_path, model_dir, reviews):
    folder = tmp_path / "dump"
    folder.mkdir()
    write(reviews, folder / "a.parquet")
    write(reviews.drop(columns="stars").assign(extra=1), folder / "b.parquet")
    summary = score(model_dir, folder, tmp_path / "out.parquet", progress=False)
    assert (summary.scored, summary.errors) == (100, 0)
    out = pq.read_table(tmp_path / "out.parquet")
    # The columns are fixed by the first rows: a missing one is null, an extra one is dropped.
    assert out.column_names == ["review_id", "stars", "label", "p_positive", "rating", "model"]
    assert out["stars"].to_pylist() == list(range(50)) + [None] * 50
    summary = score(model_dir, folder, tmp_path / "out.parquet", ScoreConfig(id_columns=("review_id",)), progress=False)
    assert summary.scored == 100


def test_standard_input_is_read_as_json_lines(tmp_path, model_dir, model, reviews, monkeypatch):
    payload = "".join(json.dumps(r) + "\n" for r in reviews.to_dict("records")).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
    score(model_dir, "-", tmp_path / "out.parquet", progress=False)
    out = pd.read_parquet(tmp_path / "out.parquet")
    np.testing.assert_allclose(out["p_positive"], expected_p(model, reviews["text"]), atol=1e-12)


def test_id_columns_and_name_clashes(tmp_path, model_dir, reviews):
    labelled = reviews.assign(label=["pos"] * 50)
    write(labelled, tmp_path / "in.parquet")
    score(model_dir, tmp_path / "in.parquet", tmp_path / "a.parquet", progress=False)
    # The input's own label column is kept; the prediction is named so that it does not overwrite it.
    assert list(pd.read_parquet(tmp_path / "a.parquet").columns) == [
        "review_id",
        "stars",
        "label",
        "predicted_label",
        "p_positive",
        "rating",
        "model",
    ]
    score(
        model_dir,
        tmp_path / "in.parquet",
        tmp_path / "b.parquet",
        ScoreConfig(id_columns=("stars", "text")),
        progress=False,
    )
    assert list(pd.read_parquet(tmp_path / "b.parquet").columns) == [
        "stars",
        "text",
        "label",
        "p_positive",
        "rating",
        "model",
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (ScoreConfig(text_column="body"), "no column 'body'.*review_id, stars, text"),
        (ScoreConfig(id_columns=("nope",)), "no column.*'nope'"),
    ],
)
def test_missing_columns_are_named(tmp_path, model_dir, reviews, config, message):
    write(reviews, tmp_path / "in.csv")
    with pytest.raises(InputError, match=message):
        score(model_dir, tmp_path / "in.csv", tmp_path / "out.parquet", config, progress=False)
    assert not (tmp_path / "out.parquet").exists()


def test_bad_paths_and_config_are_refused(tmp_path, model_dir, reviews):
    write(reviews, tmp_path / "in.parquet")
    with pytest.raises(InputError, match="input not found"):
        score(model_dir, tmp_path / "missing.csv", tmp_path / "out.parquet", progress=False)
    with pytest.raises(InputError, match=r"unknown format '\.xlsx'"):
        score(model_dir, tmp_path / "in.parquet", tmp_path / "out.xlsx", progress=False)
    with pytest.raises(InputError, match="would overwrite the input"):
        score(model_dir, tmp_path / "in.parquet", tmp_path / "in.parquet", progress=False)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=r"cannot read broken\.parquet as parquet"):
        score(model_dir, tmp_path / "broken.parquet", tmp_path / "out.parquet", progress=False)
    with pytest.raises(ConfigError, match="engine must be local or ray"):
        ScoreConfig(engine="spark")
    with pytest.raises(ConfigError, match="batch_size"):
        ScoreConfig(batch_size=0)


class _InterruptedModel:
    """Wraps a model; raises KeyboardInterrupt on its ``fail_on``-th call, like Ctrl-C mid-run."""

    def __init__(self, model, fail_on: int):
        self.model, self.fail_on, self.calls = model, fail_on, 0

    def __getattr__(self, name):
        return getattr(self.model, name)

    def predict_proba(self, texts):
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        return self.model.predict_proba(texts)


def test_an_interrupted_run_leaves_the_previous_output_untouched(tmp_path, model, reviews, monkeypatch):
    write(reviews, tmp_path / "in.parquet")
    out_path = tmp_path / "out.parquet"
    score(model, tmp_path / "in.parquet", out_path, progress=False)
    before = out_path.read_bytes()
    wrapped = _InterruptedModel(model, fail_on=3)
    monkeypatch.setattr("imdb_sentiment.batch._load", lambda m: (wrapped, "toy"))
    with pytest.raises(KeyboardInterrupt):
        score(model, tmp_path / "in.parquet", out_path, ScoreConfig(batch_size=5, workers=1), progress=False)
    assert out_path.read_bytes() == before
    # The chunks done are kept for --resume (tests/test_batch_faults.py), beside the untouched output.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.parquet",
        "out.errors.csv",
        "out.parquet",
        "out.parquet.partial",
    ]


@pytest.mark.parametrize("workers", [1, 3])
def test_reading_stays_within_the_read_ahead_bound_of_the_scorer(tmp_path, model, monkeypatch, workers):
    """Reading is lazy: at most ``read_ahead_bound(workers)`` chunks are read and not yet scored, however
    many rows the file has (reading everything first would reach 100 here)."""
    texts, _ = make_toy_reviews(40, seed=1)
    pq.write_table(pa.table({"text": texts * 25}), tmp_path / "in.parquet", row_group_size=100)
    lock = threading.Lock()
    read, scored, ahead = [0], [0], []
    original = model.predict_proba

    def slow_scoring(batch):
        time.sleep(0.002)  # slower than reading, so that an unbounded reader would run far ahead
        result = original(batch)
        with lock:
            scored[0] += 1
        return result

    import imdb_sentiment.batch.local as local

    real_read = local.read_chunks

    def counting_read(*args, **kwargs):
        for chunk in real_read(*args, **kwargs):
            assert chunk.table.num_rows <= 10
            with lock:
                read[0] += 1
                ahead.append(read[0] - scored[0])
            yield chunk

    monkeypatch.setattr(local, "read_chunks", counting_read)
    monkeypatch.setattr(model, "predict_proba", slow_scoring)
    summary = score(
        model,
        tmp_path / "in.parquet",
        tmp_path / "out.parquet",
        ScoreConfig(batch_size=10, workers=workers),
        progress=False,
    )
    assert summary.scored == 1000 and read[0] == scored[0] == 100
    assert max(ahead) <= read_ahead_bound(workers) == workers + 1


def test_cli_score_prints_a_summary_and_rejects_bad_input(tmp_path, model_dir, reviews):
    write(reviews, tmp_path / "in.csv")
    runner = CliRunner()
    command = ["score", str(model_dir), "--input", str(tmp_path / "in.csv"), "--output"]
    result = runner.invoke(cli_app, [*command, str(tmp_path / "o.jsonl"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "scored 50 of 50 rows" in result.output and "no errors" in result.output
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 50
    result = runner.invoke(cli_app, [*command, str(tmp_path / "o.parquet"), "--text-column", "body"])
    assert result.exit_code == 2
    assert "error:" in result.output and "no column 'body'" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_ray_engine_gives_the_local_engine_output(tmp_path, model_dir):
    pytest.importorskip("ray", reason="the ray extra is not installed: pip install -e '.[ray]'")
    texts, _ = make_toy_reviews(300, seed=5)
    texts[17] = ""
    frame = pd.DataFrame({"n": range(300), "text": texts})
    folder = tmp_path / "dump"
    folder.mkdir()
    write(frame.iloc[:150], folder / "part-0.parquet")
    write(frame.iloc[150:], folder / "part-1.parquet")
    local = score(model_dir, folder, tmp_path / "local.parquet", ScoreConfig(batch_size=64), progress=False)
    ray_run = score(
        model_dir, folder, tmp_path / "ray.parquet", ScoreConfig(batch_size=64, engine="ray", workers=2), progress=False
    )
    assert (ray_run.rows, ray_run.errors) == (local.rows, local.errors) == (300, 1)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "ray.parquet"), pd.read_parquet(tmp_path / "local.parquet")
    )
    assert (tmp_path / "ray.errors.csv").read_text() == (tmp_path / "local.errors.csv").read_text()


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_reading_holds_about_one_batch_not_the_file(tmp_path, suffix, monkeypatch):
    """Arrow memory while streaming a file stays near one batch's worth, whatever the file's size."""
    from imdb_sentiment.io import readers
    from imdb_sentiment.io.readers import input_files, read_chunks

    # pyarrow's CSV reader reads a few dozen blocks ahead: small blocks make that small next to the file.
    monkeypatch.setattr(readers, "CSV_BLOCK", 32 << 10)
    # 4,000 reviews of 2,000 random letters and spaces: ~8 MB that compression cannot shrink, as in
    # real reviews (a repeated toy review would compress to almost nothing and hide a read-ahead).
    rng = random.Random(0)
    frame = pd.DataFrame({"text": ["".join(rng.choices(string.ascii_letters + "     ", k=2000)) for _ in range(4000)]})
    path = tmp_path / f"big{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=100)
    else:
        write(frame, path)
    text_bytes = int(frame["text"].str.len().sum())
    baseline = pa.total_allocated_bytes()
    peak, rows = 0, 0
    for chunk in read_chunks(input_files(path), 50, "text"):
        rows += chunk.table.num_rows
        peak = max(peak, pa.total_allocated_bytes() - baseline)
    assert rows == 4000
    assert peak < text_bytes / 4, f"{peak:,} bytes held while reading {text_bytes:,} bytes of reviews"


@pytest.mark.parametrize("suffix", [".json", ".txt"])
def test_cli_score_reads_json_arrays_and_text_lines(tmp_path, model_dir, model, reviews, suffix):
    """``score --input`` takes every format ``predict --input`` takes: a .json array and one review per line."""
    source = tmp_path / f"in{suffix}"
    if suffix == ".json":
        source.write_text(json.dumps(reviews["text"].tolist()), encoding="utf-8")  # an array of strings
    else:
        source.write_text("\n\n".join(reviews["text"]) + "\n", encoding="utf-8")  # blank lines are not rows
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli_app, ["score", str(model_dir), "--input", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "scored 50 of 50 rows" in result.output
    rows = pd.read_json(out, lines=True)
    assert list(rows.columns) == ["label", "p_positive", "rating", "model"]
    np.testing.assert_allclose(rows["p_positive"], expected_p(model, reviews["text"]), atol=1e-9)


def test_a_json_array_item_that_is_not_a_record_is_an_error_row(tmp_path, model_dir):
    items = [{"text": "A superb film."}, 7, {"text": "Dreadful."}, {"text": ["a", "list"]}]
    (tmp_path / "in.json").write_text(json.dumps(items), encoding="utf-8")
    summary = score(
        model_dir, tmp_path / "in.json", tmp_path / "out.parquet", ScoreConfig(batch_size=3), progress=False
    )
    assert (summary.rows, summary.scored, summary.errors) == (4, 2, 2)
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors[["row", "reason"]].values.tolist() == [[2, "not a JSON object (int)"], [4, "not text (list)"]]


def test_standard_input_of_plain_lines_is_one_review_per_line(tmp_path, model_dir, model, reviews, monkeypatch):
    payload = ("\n" + "\n".join(reviews["text"]) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
    summary = score(model_dir, "-", tmp_path / "out.parquet", ScoreConfig(batch_size=16), progress=False)
    assert summary.scored == 50
    out = pd.read_parquet(tmp_path / "out.parquet")
    np.testing.assert_allclose(out["p_positive"], expected_p(model, reviews["text"]), atol=1e-12)


def test_the_ray_engine_refuses_what_it_cannot_read_before_starting(tmp_path, model_dir, reviews):
    write(reviews, tmp_path / "in.json")
    with pytest.raises(InputError, match="use --engine local for json"):
        score(model_dir, tmp_path / "in.json", tmp_path / "out.parquet", ScoreConfig(engine="ray"), progress=False)
    with pytest.raises(InputError, match="not standard input"):
        score(model_dir, "-", tmp_path / "out.parquet", ScoreConfig(engine="ray"), progress=False)
    assert not (tmp_path / "out.parquet").exists()
