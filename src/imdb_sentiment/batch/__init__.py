"""Score reviews in bulk: stream a file, a folder of files or standard input of any size through a saved
model into one Parquet, CSV, TSV or JSON Lines file, in input order.

Rows that cannot be scored (empty, not text, too long, unparsable) go to an errors file beside the output
with their file, row number and reason; they are neither dropped silently nor fatal. Both files appear
under their names only when the run finishes, so an interrupted run leaves no partial output.

Two engines share :func:`imdb_sentiment.scoring.score_chunk`, so they give identical predictions: ``local``
scores chunks on a pool of threads in this process (:mod:`~imdb_sentiment.batch.local`), ``ray`` runs it in
Ray Data actors that each load the model once (:mod:`~imdb_sentiment.batch.ray`).
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from imdb_sentiment.batch.local import local_tables
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import InputError
from imdb_sentiment.hosting import unique_names
from imdb_sentiment.io.formats import BY_NAME, output_format
from imdb_sentiment.io.readers import count_rows, input_files
from imdb_sentiment.io.writers import TableWriter, errors_path
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.scoring import REASON, SOURCE

__all__ = ["ScoreSummary", "score"]


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
        input: A file of any format of :data:`imdb_sentiment.io.formats.FORMATS`, a folder of them, or ``-``
            for standard input (JSON Lines, or one review per line).
        output: A ``.parquet``, ``.csv``, ``.tsv`` or ``.jsonl`` file; problems go to ``<stem>.errors.csv`` beside it.
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
    for file in files:
        if file.path is not None and file.path.resolve() in targets:
            raise InputError(f"the output {output} would overwrite the input {file.name}; choose another --output")
    workers = config.workers or os.cpu_count() or 1
    start = time.perf_counter()
    if config.engine == "ray":
        if isinstance(model, SentimentModel):
            raise InputError("the ray engine loads the model in every worker: pass the saved model's folder")
        from imdb_sentiment.batch.ray import ray_tables  # Ray is optional: imported only when asked for

        tables = ray_tables(Path(model), files, config, workers)
    else:
        loaded, name = _load(model)
        tables = local_tables(loaded, name, files, config, workers)
    rows = scored = errors = 0
    bar = _progress_bar(count_rows(files), progress)
    try:
        with TableWriter(errors_path(output), BY_NAME["csv"]) as problems, TableWriter(output, fmt) as predictions:
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
