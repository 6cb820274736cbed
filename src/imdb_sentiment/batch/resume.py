"""The work folder of a ``score`` run, ``OUTPUT.partial/``: how a run survives a crash.

A run writes each scored chunk as two numbered parts (its predictions and its error rows), syncs them to
disk, then records the count of chunks done in ``progress.json`` (replaced atomically). The output and
errors files are joined from the parts at the end, so an uninterrupted run and a resumed one write the
same bytes; the folder is then removed. ``--resume`` reads the record, refuses if the input, the model or
the settings differ from the interrupted run's (its fingerprint), and scores only the chunks not done.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa

from imdb_sentiment._atomic import write_json
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import InputError
from imdb_sentiment.io.formats import BY_NAME, Format
from imdb_sentiment.io.readers import InputFile
from imdb_sentiment.io.writers import errors_path, header_bytes, join_parts, write_part
from imdb_sentiment.models.base import SentimentModel

PROGRESS = "progress.json"
#: Settings that do not change a run's output: a resumed run may change them.
_FREE_SETTINGS = ("workers", "resume", "ray_address")


def work_folder(output: Path) -> Path:
    """Where a run keeps its parts until it finishes: ``scored.csv`` -> ``scored.csv.partial/``."""
    return output.with_name(f"{output.name}.partial")


def fingerprint(model: SentimentModel | Path, files: list[InputFile], config: ScoreConfig, fmt: Format) -> dict:
    """What must not change between a run and its resume: the input files (name, size, modification time),
    the model (its manifest's hash) and the settings that shape the output."""
    if isinstance(model, SentimentModel):
        model_id = f"in memory: {model.kind}"  # a fitted model that was never saved has no manifest to hash
    else:
        model_id = hashlib.sha256((Path(model) / "manifest.json").read_bytes()).hexdigest()
    inputs = []
    for file in files:
        stat = file.path.stat() if file.path is not None else None
        inputs.append([file.name, stat.st_size if stat else None, stat.st_mtime_ns if stat else None])
    settings = {k: v for k, v in config.to_dict().items() if k not in _FREE_SETTINGS}
    # JSON round trip: the stored record and a fresh one compare equal (tuples become lists).
    return json.loads(json.dumps({"input": inputs, "model": model_id, "settings": {**settings, "output": fmt.name}}))


@dataclasses.dataclass
class Progress:
    """The counts of the chunks done so far (all zero for a new run)."""

    chunks: int = 0
    rows: int = 0
    scored: int = 0
    errors: int = 0
    #: Rows seen per input file, to number the error rows of the chunks still to come.
    counters: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)


class WorkFolder:
    """The parts and progress record of one run of ``score`` into ``output``."""

    def __init__(self, output: Path, fmt: Format, print_: Any = None):
        self.output, self.fmt = output, fmt
        self.path = work_folder(output)
        self._say = print_ or (lambda message: print(message, file=sys.stderr))
        self.fingerprint: dict = {}

    def open(self, fingerprint: dict, *, resume: bool) -> Progress:
        """Start a run: continue the recorded one (``resume``) or replace any unfinished one.

        Raises:
            InputError: ``resume`` and the recorded run's input, model or settings differ from this one's.
        """
        self.fingerprint = fingerprint
        record = self._record()
        if resume and record is not None:
            self._check(record["fingerprint"], fingerprint)
            progress = Progress(**{k: record[k] for k in ("chunks", "rows", "scored", "errors")})
            progress.counters.update(record["counters"])
            self._say(f"resuming {self.path}: {progress.chunks:,} chunks ({progress.rows:,} rows) already done")
            return progress
        if self.path.exists():
            if resume:
                self._say(f"nothing to resume in {self.path} (no progress record): starting again")
            else:
                self._say(f"replacing the unfinished run in {self.path} (resume it with --resume instead)")
            shutil.rmtree(self.path)
        elif resume:
            self._say(f"nothing to resume ({self.path} does not exist): starting from the first row")
        self.path.mkdir(parents=True)
        return Progress()

    def _record(self) -> dict | None:
        try:
            record = json.loads((self.path / PROGRESS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and "fingerprint" in record else None

    def _check(self, recorded: dict, current: dict) -> None:
        where = f"cannot resume {self.path}"
        again = "rerun without --resume to start again"
        if recorded.get("input") != current["input"]:
            old = {name: rest for name, *rest in recorded.get("input", [])}
            changed = [name for name, *rest in current["input"] if old.get(name) != rest]
            changed += [name for name in old if name not in {n for n, *_ in current["input"]}]
            raise InputError(f"{where}: the input differs ({changed[0]} changed since the run began); {again}")
        if recorded.get("model") != current["model"]:
            raise InputError(f"{where}: the model differs (its manifest is not the interrupted run's); {again}")
        before, now = recorded.get("settings", {}), current["settings"]
        differ = [
            f"{k}: {before.get(k)!r} -> {now.get(k)!r}"
            for k in sorted(set(before) | set(now))
            if before.get(k) != now.get(k)
        ]
        if differ:
            raise InputError(f"{where}: the settings differ ({', '.join(differ)}); {again}")

    def write(self, progress: Progress, good: pa.Table, bad: pa.Table) -> None:
        """Write one scored chunk's parts, then record it (and ``progress``, already counting it) as done."""
        index = progress.chunks - 1
        if index == 0:  # the headers come from the first chunk's columns, which every chunk shares
            (self.path / "header").write_bytes(header_bytes(good.schema, self.fmt))
            (self.path / "errors-header").write_bytes(header_bytes(bad.schema, BY_NAME["csv"]))
        write_part(good, self._part(index), self.fmt)
        write_part(bad, self._errors_part(index), BY_NAME["csv"])
        values = {k: v for k, v in dataclasses.asdict(progress).items() if k != "counters"}
        write_json(
            self.path / PROGRESS, {"fingerprint": self.fingerprint, **values, "counters": dict(progress.counters)}
        )

    def finish(self, progress: Progress) -> None:
        """Join the parts into the errors file and the output (each appearing whole), then remove the folder."""
        chunks = range(progress.chunks)
        errors_header, header = (self._header(name) for name in ("errors-header", "header"))
        join_parts([self._errors_part(i) for i in chunks], errors_path(self.output), BY_NAME["csv"], errors_header)
        join_parts([self._part(i) for i in chunks], self.output, self.fmt, header)
        shutil.rmtree(self.path, ignore_errors=True)

    def _header(self, name: str) -> bytes:
        path = self.path / name
        return path.read_bytes() if path.exists() else b""  # no chunk at all (an engine that yielded nothing)

    def discard_if_empty(self, progress: Progress) -> None:
        """Remove the folder of a run that failed before its first chunk: there is nothing to resume."""
        if progress.chunks == 0:
            shutil.rmtree(self.path, ignore_errors=True)

    def _part(self, index: int) -> Path:
        return self.path / f"part-{index:06d}{self.fmt.suffixes[0]}"

    def _errors_part(self, index: int) -> Path:
        return self.path / f"errors-{index:06d}.csv"
