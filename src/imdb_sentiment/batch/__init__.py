"""Score reviews in bulk: stream a file, a folder of files or standard input of any size through a saved
model into one Parquet, CSV, TSV or JSON Lines file, in input order.

Rows that cannot be scored (empty, not text, too long, unparsable, not UTF-8, of a type that cannot be
cast) go to an errors file beside the output with their file, row number and reason; they are neither
dropped silently nor fatal, and every input row is in exactly one of the two files. The scored chunks are
kept in a work folder as the run goes (:mod:`~imdb_sentiment.batch.resume`), so a crashed run can be
resumed; both files appear under their names only when the run finishes.

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
from imdb_sentiment.batch.resume import Progress, WorkFolder, fingerprint
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import InputError
from imdb_sentiment.hosting import unique_names
from imdb_sentiment.io.formats import output_format
from imdb_sentiment.io.readers import count_rows, input_files
from imdb_sentiment.io.writers import errors_path
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
        config: Columns, batch size, workers, length limit, engine, and whether to resume an interrupted run.
        progress: Show a progress bar with rows/s.

    Returns:
        The counts and timing of the run.

    Raises:
        InputError: the input cannot be read, lacks the columns, or would be overwritten by the output; or
            ``config.resume`` and the interrupted run's input, model or settings differ (or the input is stdin).
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
    if config.resume and any(f.path is None for f in files):
        raise InputError("cannot resume standard input: it cannot be read again; score a file to use --resume")
    cores = os.cpu_count() or 1
    workers = config.workers or cores
    start = time.perf_counter()
    work = WorkFolder(output, fmt)
    if config.engine == "ray":
        if isinstance(model, SentimentModel):
            raise InputError("the ray engine loads the model in every worker: pass the saved model's folder")
        from imdb_sentiment.batch.ray import ray_tables  # Ray is optional: imported only when asked for

        tables = ray_tables(Path(model), files, config, workers)  # checks the input before the folder is made
        done = work.open(fingerprint(Path(model), files, config, fmt), resume=False)
    else:
        loaded, name = _load(model)
        workers = config.workers or loaded.chunk_workers(cores)  # the kind knows what suits it
        done = work.open(fingerprint(_model_ref(model), files, config, fmt), resume=config.resume)
        tables = local_tables(loaded, name, files, config, workers, skip=done.chunks)
    bar = _progress_bar(count_rows(files), progress, done.rows)
    schemas: list[pa.Schema] = []
    try:
        for source, table in tables:
            good, bad = (_same_columns(t, schemas, i) for i, t in enumerate(_split(source, table, done.counters)))
            done.chunks += 1
            done.rows += table.num_rows
            done.scored += good.num_rows
            done.errors += bad.num_rows
            work.write(done, good, bad)
            bar.update(table.num_rows)
    except BaseException:
        work.discard_if_empty(done)
        raise
    finally:
        bar.close()
        tables.close()
    work.finish(done)
    seconds = time.perf_counter() - start
    return _summary(done, seconds, output, config, workers)


def _summary(done: Progress, seconds: float, output: Path, config: ScoreConfig, workers: int) -> ScoreSummary:
    return ScoreSummary(
        done.rows, done.scored, done.errors, seconds, output, errors_path(output), config.engine, workers
    )


def _same_columns(table: pa.Table, schemas: list[pa.Schema], i: int) -> pa.Table:
    """``table`` with the columns of the run's first table ``i`` (output 0, errors 1). The local engine's
    columns are fixed by its reader; Ray Data's readers guess types per block, which may differ.

    Raises:
        InputError: the columns cannot be made the first table's.
    """
    if len(schemas) <= i:
        schemas.append(table.schema)
    if table.schema.equals(schemas[i]):
        return table
    try:
        return table.select(schemas[i].names).cast(schemas[i])
    except (KeyError, pa.ArrowException, ValueError):
        raise InputError(
            f"the input's columns changed from one block to the next ({', '.join(table.schema.names)} after "
            f"{', '.join(schemas[i].names)}, or their types); --engine local keeps the first batch's columns"
        ) from None


def _model_ref(model: SentimentModel | str | Path) -> SentimentModel | Path:
    return model if isinstance(model, SentimentModel) else Path(model)


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


def _progress_bar(total: int | None, enabled: bool, initial: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=initial, unit=" rows", unit_scale=True, desc="scoring", disable=not enabled, smoothing=0.1
    )
