"""Score reviews in bulk: stream a file, a folder of files or standard input of any size through a saved
model into one Parquet, CSV or JSON Lines file, in input order.

Rows that cannot be scored (empty, not text, too long, unparsable) go to an errors file beside the output
with their file, row number and reason; they are neither dropped silently nor fatal. Both files appear
under their names only when the run finishes, so an interrupted run leaves no partial output.

Two engines share :func:`score_chunk`, so they give identical predictions: ``local`` scores batches on a
pool of threads in this process (the models' NumPy, SciPy and PyTorch kernels release the GIL), ``ray``
runs it in Ray Data actors that each load the model once (:mod:`imdb_sentiment.batch_ray`).
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import os
import time
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from imdb_sentiment._surfaces import unique_names
from imdb_sentiment.batch_io import (
    Chunk,
    TableWriter,
    count_rows,
    errors_path,
    input_files,
    output_format,
    read_chunks,
)
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import InputError
from imdb_sentiment.models.base import SentimentModel

#: Internal column carrying each row's problem (null when the row was scored); never written.
REASON = "__reason"
#: Internal column carrying each row's input file, added by the Ray engine; never written.
SOURCE = "__source"


@dataclasses.dataclass(frozen=True)
class ScoreSummary:
    """What a :func:`score` run did."""

    rows: int
    scored: int
    errors: int
    seconds: float
    output: Path
    errors_file: Path
    engine: str
    workers: int

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: paths as strings, plus ``rows_per_s``."""
        values = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()}
        return {**values, "seconds": round(self.seconds, 3), "rows_per_s": round(self.rows_per_s, 1)}


def row_problem(value: object, max_chars: int) -> str | None:
    """Why one value cannot be scored as a review, or ``None`` when it can."""
    if not isinstance(value, str):
        missing = value is None or (isinstance(value, float) and np.isnan(value))
        return "empty" if missing else f"not text ({type(value).__name__})"
    if not value.strip():
        return "empty"
    if len(value) > max_chars:
        return f"{len(value):,} characters, over the limit of {max_chars:,}"
    return None


def column_problems(column: pa.ChunkedArray | pa.Array, max_chars: int) -> list[str | None]:
    """:func:`row_problem` for every value of an Arrow column, computed with Arrow's string kernels."""
    n = len(column)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return [None if v is None else f"not text ({column.type})" for v in column.to_pylist()] if n else []
    # Kernels that read the strings once and copy nothing: a review is blank when it has no characters
    # or only white space, and can only be over the limit in characters if it is over it in bytes.
    size = pc.binary_length(column)
    empty = pc.fill_null(pc.or_(pc.equal(size, 0), pc.utf8_is_space(column)), True).to_numpy(zero_copy_only=False)
    long_bytes = pc.fill_null(pc.greater(size, max_chars), False).to_numpy(zero_copy_only=False)
    lengths = np.zeros(n, dtype=np.int64)
    if long_bytes.any():
        lengths[long_bytes] = pc.utf8_length(column.filter(pa.array(long_bytes))).to_numpy(zero_copy_only=False)
    problems: list[str | None] = [None] * n
    for i in np.flatnonzero(empty | (lengths > max_chars)):
        problems[i] = "empty" if empty[i] else f"{int(lengths[i]):,} characters, over the limit of {max_chars:,}"
    return problems


def output_columns(input_columns: list[str], config: ScoreConfig) -> list[str]:
    """The input columns copied to the output: ``config.id_columns``, or all but the text column.

    Raises:
        InputError: the text column or an id column is missing.
    """
    found = ", ".join(input_columns) or "none"
    if config.text_column not in input_columns:
        raise InputError(f"the input has no column {config.text_column!r} (--text-column); its columns are: {found}")
    if config.id_columns is None:
        return [c for c in input_columns if c != config.text_column]
    missing = [c for c in config.id_columns if c not in input_columns]
    if missing:
        raise InputError(
            f"the input has no column(s) {', '.join(map(repr, missing))} (--id-columns); its columns are: {found}"
        )
    return list(config.id_columns)


def prediction_names(kept: list[str]) -> tuple[str, str, str]:
    """Names for the label, P(positive) and model columns, prefixed ``predicted_`` where the input has them."""
    names = [n if n not in kept else f"predicted_{n}" for n in ("label", "p_positive", "model")]
    return names[0], names[1], names[2]


def score_chunk(
    model: SentimentModel,
    table: pa.Table,
    config: ScoreConfig,
    model_name: str,
    reasons: tuple[str | None, ...] | None = None,
) -> pa.Table:
    """Score one batch of rows: the kept input columns, label, P(positive), model name and :data:`REASON`.

    Rows with a problem (from parsing, ``reasons``, or :func:`column_problems`) get null predictions and
    their reason; the others are predicted in one call to ``model.predict_proba``.
    """
    kept = output_columns(table.column_names, config)
    problems = column_problems(table[config.text_column], config.max_chars)
    if reasons is not None:
        problems = [r if r is not None else p for r, p in zip(reasons, problems, strict=True)]
    good = np.array([p is None for p in problems], dtype=bool)
    p_positive = np.full(table.num_rows, np.nan)
    if good.any():
        texts = table[config.text_column].filter(pa.array(good)).to_pylist()
        p_positive[good] = model.predict_proba(texts)[:, 1]
    label_name, p_name, model_name_column = prediction_names(kept)
    labels = np.where(p_positive >= 0.5, "positive", "negative")
    return (
        table.select(kept)
        .append_column(label_name, pa.array(labels, pa.string(), mask=~good))
        .append_column(p_name, pa.array(p_positive, pa.float64(), mask=~good))
        .append_column(model_name_column, pa.array([model_name] * table.num_rows, pa.string()))
        .append_column(REASON, pa.array(problems, pa.string()))
    )


def score(
    model: SentimentModel | str | Path,
    input: str | Path,
    output: str | Path,
    config: ScoreConfig | None = None,
    *,
    progress: bool = True,
) -> ScoreSummary:
    """Score every review in ``input`` and write the predictions to ``output``, in input order.

    Args:
        model: A saved model's folder, or (local engine only) a fitted model.
        input: A CSV, JSON Lines or Parquet file, a folder of them, or ``-`` for JSON Lines on stdin.
        output: A ``.parquet``, ``.csv`` or ``.jsonl`` file; problems go to ``<stem>.errors.csv`` beside it.
        config: Columns, batch size, workers, length limit and engine.
        progress: Show a progress bar with rows/s.

    Returns:
        The counts and timing of the run.

    Raises:
        InputError: the input cannot be read, lacks the columns, or would be overwritten by the output.
        ModelError: the model folder cannot be loaded.
    """
    config = config or ScoreConfig()
    output = Path(output)
    fmt = output_format(output)
    files = input_files(input)
    targets = {output.resolve(), errors_path(output).resolve()}
    for name, path, _ in files:
        if path is not None and path.resolve() in targets:
            raise InputError(f"the output {output} would overwrite the input {name}; choose another --output")
    workers = config.workers or os.cpu_count() or 1
    start = time.perf_counter()
    if config.engine == "ray":
        if isinstance(model, SentimentModel):
            raise InputError("the ray engine loads the model in every worker: pass the saved model's folder")
        if any(path is None for _, path, _ in files):
            raise InputError("the ray engine reads files, not standard input; use --engine local for '-'")
        from imdb_sentiment.batch_ray import ray_tables

        tables = ray_tables(Path(model), files, config, workers)
    else:
        loaded, name = _load(model)
        tables = _local_tables(loaded, name, files, config, workers)
    rows = scored = errors = 0
    bar = _progress_bar(count_rows(files), progress)
    try:
        with TableWriter(errors_path(output), "csv") as problems, TableWriter(output, fmt) as predictions:
            counters: collections.Counter[str] = collections.Counter()
            for source, table in tables:
                good, bad = _split(source, table, counters)
                predictions.write(good)
                problems.write(bad)
                rows += table.num_rows
                scored += good.num_rows
                errors += bad.num_rows
                bar.update(table.num_rows)
    finally:
        bar.close()
        tables.close()
    seconds = time.perf_counter() - start
    return ScoreSummary(rows, scored, errors, seconds, output, errors_path(output), config.engine, workers)


def _load(model: SentimentModel | str | Path) -> tuple[SentimentModel, str]:
    if isinstance(model, SentimentModel):
        return model, model.kind
    from imdb_sentiment.models.registry import load_model

    return load_model(model), unique_names([Path(model)])[0]


def _local_tables(
    model: SentimentModel, name: str, files: list[Any], config: ScoreConfig, workers: int
) -> Generator[tuple[str | None, pa.Table], None, None]:
    """Score the input's chunks on ``workers`` threads, yielding results in input order.

    At most ``workers + 1`` chunks are in flight, so memory does not grow with the input.
    """

    def work(chunk: Chunk) -> pa.Table:
        try:
            return score_chunk(model, chunk.table, config, name, chunk.reasons)
        except InputError as exc:
            raise InputError(f"{chunk.source}: {exc}") from None

    # The batches are the parallelism: a model that also spreads each batch over every core (ngram's
    # n_jobs) would run workers x cores threads and lose time switching between them.
    inner_jobs = getattr(model, "n_jobs", None)
    if workers > 1 and hasattr(model, "n_jobs"):
        model.n_jobs = 1
    pool = ThreadPoolExecutor(max_workers=workers)
    pending: collections.deque[tuple[str, Future[pa.Table]]] = collections.deque()
    try:
        for chunk in read_chunks(files, config.batch_size, config.text_column):
            pending.append((chunk.source, pool.submit(work, chunk)))
            if len(pending) > workers:
                source, future = pending.popleft()
                yield source, future.result()
        while pending:
            source, future = pending.popleft()
            yield source, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if hasattr(model, "n_jobs"):
            model.n_jobs = inner_jobs


def _split(source: str | None, table: pa.Table, counters: collections.Counter[str]) -> tuple[pa.Table, pa.Table]:
    """Separate scored rows (written without the internal columns) from problem rows (numbered per file)."""
    sources = table[SOURCE].to_pylist() if SOURCE in table.column_names else [source] * table.num_rows
    table = table.drop_columns([SOURCE]) if SOURCE in table.column_names else table
    reasons = table[REASON]
    bad_mask = pc.is_valid(reasons).to_numpy(zero_copy_only=False)
    # Row numbers count every row of a file, so they are computed for all rows, in order.
    numbers = np.empty(table.num_rows, dtype=np.int64)
    start = 0
    for name, run in itertools.groupby(sources):
        n = sum(1 for _ in run)
        numbers[start : start + n] = counters[name] + np.arange(1, n + 1)
        counters[name] += n
        start += n
    good = table.filter(pa.array(~bad_mask)).drop_columns([REASON])
    bad_rows = np.flatnonzero(bad_mask)
    inputs = table.column_names[:-4]  # the input's columns, before label, P(positive), model and reason
    kept = table.select(inputs).take(pa.array(bad_rows, pa.int64()))
    bad = pa.table(
        {
            "source": pa.array([sources[i] for i in bad_rows], pa.string()),
            "row": pa.array(numbers[bad_rows], pa.int64()),
            "reason": reasons.take(pa.array(bad_rows, pa.int64())),
            **{c: kept[c] for c in kept.column_names},
        }
    )
    return good, bad


def _progress_bar(total: int | None, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=" rows", unit_scale=True, desc="scoring", disable=not enabled, smoothing=0.1)
