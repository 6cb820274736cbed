"""The local engine of :func:`imdb_sentiment.batch.score`: chunks scored on a pool of threads in this
process (the models' NumPy, SciPy and PyTorch kernels release the GIL), results in input order."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import InputError
from imdb_sentiment.io.readers import Chunk, InputFile, read_chunks
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.scoring import score_chunk


def read_ahead_bound(workers: int) -> int:
    """The most chunks read but not yet scored at any time: memory grows with this, not with the input."""
    return workers + 1


def local_tables(
    model: SentimentModel, name: str, files: list[InputFile], config: ScoreConfig, workers: int, *, skip: int = 0
) -> Generator[tuple[str | None, pa.Table], None, None]:
    """Score the input's chunks on ``workers`` threads, yielding ``(file name, scored table)`` in input order.

    At most :func:`read_ahead_bound` chunks are in flight, so memory does not grow with the input. The first
    ``skip`` chunks (done by an interrupted run) are read, so that the columns are fixed as then, not scored.

    Raises:
        InputError: a file cannot be read or lacks a column (the message names the file).
    """

    def work(chunk: Chunk) -> pa.Table:
        try:
            return score_chunk(model, chunk.table, config, name, chunk.reasons)
        except InputError as exc:
            raise InputError(f"{chunk.source}: {exc}") from None

    # The chunks are the parallelism: a model that also spreads each chunk over every core (ngram's
    # n_jobs) would run workers x cores threads and lose time switching between them.
    previous = model.limit_threads(1) if workers > 1 else None
    pool = ThreadPoolExecutor(max_workers=workers)
    pending: collections.deque[tuple[str, Future[pa.Table]]] = collections.deque()
    try:
        chunks = read_chunks(files, config.batch_size, config.text_column, _wanted(config))
        for chunk in itertools.islice(chunks, skip, None):
            pending.append((chunk.source, pool.submit(work, chunk)))
            # Wait for the oldest chunk before reading more than the bound ahead of the scorer.
            if len(pending) >= read_ahead_bound(workers):
                source, future = pending.popleft()
                yield source, future.result()
        while pending:
            source, future = pending.popleft()
            yield source, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if workers > 1:
            model.limit_threads(previous)


def _wanted(config: ScoreConfig) -> tuple[str, ...] | None:
    """The input columns to read: ``--id-columns`` and the text column, or (``None``) all of them."""
    return None if config.id_columns is None else tuple(dict.fromkeys((*config.id_columns, config.text_column)))
