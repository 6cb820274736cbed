"""The Ray engine of :func:`imdb_sentiment.batch.score`: Ray Data reads the files, a pool of actors that
each load the model once runs :func:`~imdb_sentiment.scoring.score_chunk` (the local engine's function, so
predictions are identical), and the results stream back in input order to the same writer.

Ray is an optional dependency (``pip install 'imdb-sentiment[ray]'``), imported only here.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pyarrow as pa

from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import InputError, ModelError
from imdb_sentiment.io.readers import InputFile, count_rows, csv_options
from imdb_sentiment.scoring import SOURCE, score_chunk

#: Object store of a local Ray started here, in bytes.
_LOCAL_OBJECT_STORE = 768 << 20
#: The column Ray Data's ``include_paths`` adds to every row.
_PATH = "path"
#: Formats Ray Data reads the way the local engine does (JSON arrays and .txt lines are local only).
RAY_FORMATS = ("csv", "tsv", "jsonl", "parquet")


class _Scorer:
    """A Ray actor: loads the model once, then scores batches like the local engine."""

    def __init__(self, model_dir: str, config: dict[str, Any], name: str):
        from imdb_sentiment.models.registry import load_model

        self.model = load_model(model_dir)
        self.model.limit_threads(1)  # the actors are the parallelism; threads inside each would oversubscribe
        self.config = ScoreConfig.from_dict(config)
        self.name = name

    def __call__(self, batch: pa.Table) -> pa.Table:
        paths = batch[_PATH]
        scored = score_chunk(self.model, batch.drop_columns([_PATH]), self.config, self.name)
        return scored.append_column(SOURCE, paths)


def ray_tables(
    model_dir: Path, files: list[InputFile], config: ScoreConfig, workers: int
) -> Generator[tuple[str | None, pa.Table], None, None]:
    """Scored tables in input order, their :data:`~imdb_sentiment.scoring.SOURCE` column naming each row's file.

    The input is checked and Ray started here, before the first table is asked for.

    Raises:
        ModelError: Ray is not installed, or ``model_dir`` is not a saved model.
        InputError: the input is standard input, mixes formats or has one Ray cannot read, or lacks a column.
    """
    if any(f.path is None or f.fmt is None for f in files):
        raise InputError("the ray engine reads files, not standard input; use --engine local for '-'")
    formats = {f.fmt.name for f in files if f.fmt is not None}
    if len(formats) > 1:
        raise InputError(f"the ray engine reads one format at a time; the input mixes {', '.join(sorted(formats))}")
    fmt = next(f.fmt for f in files if f.fmt is not None)
    if fmt.name not in RAY_FORMATS:
        raise InputError(f"the ray engine reads {', '.join(RAY_FORMATS)} files; use --engine local for {fmt.name}")
    try:
        import ray
        import ray.data
        import ray.exceptions
    except ImportError:
        raise ModelError("the ray engine needs Ray: pip install 'imdb-sentiment[ray]'") from None
    from imdb_sentiment.hosting import unique_names
    from imdb_sentiment.models.manifest import read_manifest

    read_manifest(model_dir)  # fail here, with the usual message, rather than inside every actor
    names = {str(f.path.resolve()): f.name for f in files if f.path is not None}
    paths = list(names)
    started = not ray.is_initialized()
    if started:
        # A local Ray by default; --ray-address joins a running cluster instead. Locally, one CPU slot
        # beyond the actors' is left for the read tasks: with every slot held by an actor, reading waits
        # for a free CPU forever.
        ray.init(
            address=config.ray_address or None,
            num_cpus=None if config.ray_address else workers + 1,
            # Ray's default object store (30% of RAM) lets Ray Data read far ahead of the actors; a dozen
            # blocks in flight keep them busy.
            object_store_memory=None if config.ray_address else _LOCAL_OBJECT_STORE,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # output rows in input order, as the local engine
    context.enable_progress_bars = False  # the driver shows one bar for the whole run
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not a log line per dataset step
    if fmt.name == "parquet":
        # Blocks of a few batches each: a block is scored by one actor, and every block in flight is held in
        # Ray's object store, so many small blocks keep all actors busy and memory flat.
        rows = count_rows(files) or 0
        blocks = max(len(paths), 2 * workers, rows // (4 * config.batch_size))
        dataset = ray.data.read_parquet(paths, include_paths=True, override_num_blocks=blocks)
    elif fmt.name in ("csv", "tsv"):
        dataset = ray.data.read_csv(paths, include_paths=True, **csv_options(Path(paths[0]), fmt.delimiter))
    else:
        dataset = ray.data.read_json(paths, lines=True, include_paths=True)
    scored = dataset.map_batches(
        _Scorer,
        fn_constructor_kwargs={
            "model_dir": str(model_dir.resolve()),
            "config": config.to_dict(),
            "name": unique_names([model_dir])[0],
        },
        batch_size=config.batch_size,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    return _stream(scored, names, started)


def _stream(scored: Any, names: dict[str, str], started: bool) -> Generator[tuple[str | None, pa.Table], None, None]:
    import ray
    import ray.exceptions

    try:
        for table in scored.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=2):
            yield None, _name_sources(table, names)
    except ray.exceptions.RayTaskError as exc:
        # A bad input (a missing column) fails inside an actor; report it as the local engine does.
        cause = getattr(exc, "cause", None)
        if isinstance(cause, InputError):
            raise InputError(str(cause)) from None
        raise
    finally:
        if started:
            ray.shutdown()  # the actors hold a model each; a Ray this run started ends with it


def _name_sources(table: pa.Table, names: dict[str, str]) -> pa.Table:
    """Replace Ray's absolute paths by the file names the local engine uses."""
    sources = [names.get(str(Path(p).resolve()), Path(p).name) for p in table[SOURCE].to_pylist()]
    return table.set_column(table.column_names.index(SOURCE), SOURCE, pa.array(sources, pa.string()))
