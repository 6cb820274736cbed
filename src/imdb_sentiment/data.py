"""The Large Movie Review Dataset (Maas et al., 2011): locate, download, verify, parse, cache, split.

Where the data comes from, in order:

1. an explicit path (``load_imdb(data=...)``, ``--data PATH``): the ``.tar.gz`` or an extracted ``aclImdb/``;
2. the ``IMDB_DATA`` environment variable (same forms);
3. the archive in the cache (``$IMDB_SENTIMENT_CACHE``, else ``$XDG_CACHE_HOME/imdb-sentiment``,
   else ``~/.cache/imdb-sentiment``);
4. a download of the published archive, verified against its published SHA-256 and stopped if it grows
   past the published size.

An archive found on disk is checked against the published SHA-256 too: one that differs is used (its
layout and counts are checked like any source's) with an :class:`UnpublishedArchiveWarning`. The hash
is computed once per file and kept in the cache, keyed by the file's path, size and modification time.
Temporary files that a killed download or parse left in the cache are removed on the next load.

Whatever the source, the reviews are parsed once into a Parquet file in the cache, named after a
fingerprint of the source, so later loads are fast and a different archive is never served stale.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.client
import math
import os
import re
import tarfile
import urllib.error
import urllib.request
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.model_selection import train_test_split

from imdb_sentiment._atomic import atomic_path
from imdb_sentiment._datacache import archive_digests, clean_leftover_tmp
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.errors import ConfigError, DataError

PUBLISHED_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
PUBLISHED_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
#: The published archive's size in bytes: a download that sends more is stopped.
PUBLISHED_SIZE = 84_125_825
ARCHIVE_NAME = "aclImdb_v1.tar.gz"

#: Reviews per (split, folder) in the published dataset; a source with other counts is rejected.
EXPECTED_COUNTS: dict[tuple[str, str], int] = {
    ("train", "pos"): 12_500,
    ("train", "neg"): 12_500,
    ("train", "unsup"): 50_000,
    ("test", "pos"): 12_500,
    ("test", "neg"): 12_500,
}

#: The archives' hashes, by path, size and modification time (a file in the cache folder).
HASHES_NAME = "sha256.json"
#: A temporary file in the cache untouched for this long is a leftover, whoever wrote it.
STALE_TMP_S = 3600


class UnpublishedArchiveWarning(UserWarning):
    """An archive's SHA-256 is not the published one: a repacked copy, a damaged file, or another dataset."""


# Bump when the parsed table changes shape, so caches written by older code are not reused.
_CACHE_FORMAT = 1
_REVIEW_PATH = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
_LABELS = {"pos": 1, "neg": 0, "unsup": None}
_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("split", pa.string()),
        ("label", pa.int8()),
        ("rating", pa.int8()),
        ("text", pa.string()),
    ]
)


@dataclasses.dataclass(frozen=True)
class ImdbData:
    """The dataset's splits as DataFrames with columns ``id, split, label, rating, text``.

    ``label`` is 1 for positive, 0 for negative (``<NA>`` for unlabelled reviews); ``rating`` is the
    reviewer's 1-10 score (0 for unlabelled). ``id`` is ``"{split}/{pos|neg|unsup}/{number}"``, unique
    across the dataset and pointing back at the review's file. ``validation`` is carved from the train
    split (stratified, seeded) and does not overlap ``train``; ``unsup`` is empty unless asked for.
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    unsup: pd.DataFrame
    #: Fingerprint of the source archive or folder (sha256-based), recorded in every trained model.
    fingerprint: str
    #: Where the reviews were read from.
    source: Path
    split: SplitConfig


def cache_dir(override: str | Path | None = None) -> Path:
    """Return the cache folder: ``override``, ``$IMDB_SENTIMENT_CACHE``, ``$XDG_CACHE_HOME/imdb-sentiment``
    or ``~/.cache/imdb-sentiment``, in that order."""
    if override is not None:
        return Path(override).expanduser()
    if env := os.environ.get("IMDB_SENTIMENT_CACHE"):
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "imdb-sentiment"


def locate(data: str | Path | None = None, *, cache: str | Path | None = None, download: bool = True) -> Path:
    """Find the dataset: explicit path, then ``IMDB_DATA``, then the cache, then a download.

    Args:
        data: A ``.tar.gz`` or an extracted ``aclImdb/`` folder (or its parent). Takes precedence.
        cache: Cache folder override (see :func:`cache_dir`).
        download: Whether to download the published archive when nothing else is found.

    Returns:
        The path to an archive or a folder (not yet checked: :func:`read_reviews` checks).

    Raises:
        DataError: an explicit or ``IMDB_DATA`` path does not exist, or nothing was found and
            downloading was disabled or failed.
    """
    for origin, value in (("--data", data), ("IMDB_DATA", os.environ.get("IMDB_DATA") or None)):
        if value is not None:
            path = Path(value).expanduser()
            if not path.exists():
                raise DataError(f"{origin} points to {path}, which does not exist")
            return path
    cached = cache_dir(cache) / ARCHIVE_NAME
    if cached.is_file():
        return cached
    if not download:
        raise DataError(f"no dataset found: pass --data PATH, set IMDB_DATA, or put {ARCHIVE_NAME} in {cached.parent}")
    return download_archive(cached)


def download_archive(
    dest: Path,
    *,
    url: str = PUBLISHED_URL,
    sha256: str = PUBLISHED_SHA256,
    max_bytes: int = PUBLISHED_SIZE,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, verifying its SHA-256.

    The bytes go to a temporary file beside ``dest`` that is renamed only once the checksum matches, so
    an interrupted or corrupted download is never mistaken for the dataset later. A server that
    announces or sends more than ``max_bytes`` is cut off: the checksum could not match anyway, and
    an endless response would otherwise fill the disk.

    Raises:
        DataError: the download failed, was larger than ``max_bytes``, or its checksum does not match.
    """
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    too_big = f"downloading {url} sent more than the expected {max_bytes:,} bytes; stopped (nothing was kept)"
    try:
        with atomic_path(dest) as tmp, tmp.open("wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            if total is not None and total > max_bytes:
                raise DataError(too_big.replace("sent", f"announces {total:,} bytes,"))
            desc = f"downloading {dest.name}"
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=None if progress else True) as bar:
                while chunk := response.read(1 << 20):
                    received += len(chunk)
                    if received > max_bytes:
                        raise DataError(too_big)
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
            if digest.hexdigest() != sha256:
                # Raising inside atomic_path deletes the temporary file: a bad download is never kept.
                raise DataError(
                    f"downloaded {url} but its sha256 is {digest.hexdigest()}, expected {sha256}; "
                    "the download is corrupt or the file changed upstream (nothing was kept)"
                )
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise DataError(
            f"could not download {url} ({exc}); pass --data PATH or set IMDB_DATA to a local copy"
        ) from None
    return dest


def check_archive(archive: Path, *, cache: str | Path | None = None, sha256: str | None = None) -> str:
    """Compare an archive on disk with ``sha256`` (default: the published SHA-256); warn if it differs.

    Returns:
        The archive's :func:`fingerprint`.

    Warns:
        UnpublishedArchiveWarning: the archive is not byte for byte the published one (it is still used
            if its layout and counts are the dataset's).
    """
    sha256 = sha256 or PUBLISHED_SHA256
    digest, fp = archive_digests(archive, cache_dir(cache) / HASHES_NAME)
    if digest != sha256:
        warnings.warn(
            f"{archive} is not the published {ARCHIVE_NAME} (sha256 {digest}, published {sha256}); "
            "it is used if its layout and review counts are the dataset's (checked next)",
            UnpublishedArchiveWarning,
            stacklevel=3,
        )
    return fp


def fingerprint(source: Path) -> str:
    """Return a fingerprint of an archive (sha256 of its bytes) or a folder (sha256 of its review files'
    names, sizes and modification times, which is far cheaper than reading 100,000 files)."""
    digest = hashlib.sha256()
    if source.is_file():
        with source.open("rb") as fh:
            digest.update(b"file:")
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    else:
        root = _dataset_root(source)
        digest.update(b"dir:")
        for split, folder in sorted(EXPECTED_COUNTS):
            sub = root / split / folder
            if not sub.is_dir():
                continue
            with os.scandir(sub) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    st = entry.stat()
                    digest.update(f"{split}/{folder}/{entry.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def read_reviews(source: Path, *, progress: bool = True) -> pa.Table:
    """Parse every review under ``source`` (an archive or folder) and check the dataset's layout.

    Returns:
        A table with columns ``id, split, label, rating, text``, sorted by split, folder and number.

    Raises:
        DataError: the source is not a gzip archive, not the dataset, or its counts are wrong.
    """
    rows: dict[str, list] = {name: [] for name in _SCHEMA.names}
    order: list[tuple[str, str, int]] = []
    for split, folder, number, rating, text in _iter_reviews(source, progress=progress):
        rows["id"].append(f"{split}/{folder}/{number}")
        # The unlabelled reviews live under train/unsup/ but are their own split for every user.
        rows["split"].append("unsup" if folder == "unsup" else split)
        rows["label"].append(_LABELS[folder])
        rows["rating"].append(rating)
        rows["text"].append(text)
        order.append((split, folder, number))
    _check_counts(source, Counter((s, f) for s, f, _ in order))
    table = pa.table(rows, schema=_SCHEMA)
    # Sort so that the table (and everything downstream) does not depend on the archive's member order.
    indices = sorted(range(len(order)), key=order.__getitem__)
    return table.take(pa.array(indices, pa.int64()))


def _iter_reviews(source: Path, *, progress: bool) -> Iterator[tuple[str, str, int, int, str]]:
    from tqdm.auto import tqdm

    if source.is_file():
        with source.open("rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                raise DataError(f"{source} is not a gzip archive; expected {ARCHIVE_NAME} or an aclImdb/ folder")
    total = sum(EXPECTED_COUNTS.values())
    # disable=None hides the bar when stderr is not a terminal (CI logs, pipes); progress=False always hides it.
    with tqdm(total=total, unit=" reviews", desc=f"parsing {source.name}", disable=None if progress else True) as bar:
        if source.is_dir():
            root = _dataset_root(source)
            for split, folder in EXPECTED_COUNTS:
                sub = root / split / folder
                if not sub.is_dir():
                    continue
                for path in sub.glob("*.txt"):
                    match = _REVIEW_PATH.search(f"aclImdb/{split}/{folder}/{path.name}")
                    if match is None:
                        continue
                    try:
                        # Bytes, not read_text(): universal newlines would turn "\r\n" into "\n" and the
                        # folder would then disagree with the archive it was extracted from.
                        text = path.read_bytes().decode("utf-8")
                    except (OSError, UnicodeDecodeError) as exc:
                        raise DataError(f"{path} is damaged or unreadable ({exc})") from None
                    yield split, folder, int(match[3]), int(match[4]), text
                    bar.update()
            return
        try:
            # Stream mode ("r|") reads the archive once, front to back, without an index in memory.
            with gzip.open(source, "rb") as unzipped, tarfile.open(fileobj=unzipped, mode="r|") as archive:
                for member in archive:
                    match = _REVIEW_PATH.search(member.name) if member.isfile() else None
                    if match is None:
                        continue
                    handle = archive.extractfile(member)
                    assert handle is not None  # a regular file always has contents
                    text = handle.read().decode("utf-8")
                    yield match[1], match[2], int(match[3]), int(match[4]), text
                    bar.update()
                # tarfile stops quietly if the data breaks off between two members; reading the gzip
                # stream to its end raises EOFError then, so a truncated archive is named as such.
                while unzipped.read(1 << 20):
                    pass
        except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{source} is damaged or truncated ({exc}); download it again") from None


def _dataset_root(source: Path) -> Path:
    """Accept the ``aclImdb/`` folder itself or a folder that contains it."""
    if (source / "aclImdb").is_dir():
        return source / "aclImdb"
    return source


def _check_counts(source: Path, counts: Counter[tuple[str, str]]) -> None:
    if not counts:
        raise DataError(
            f"{source} is not the Large Movie Review Dataset: no aclImdb/{{train,test}}/{{pos,neg,unsup}}/*.txt reviews found"
        )
    problems = []
    for split in ("train", "test"):
        if not any(counts[(s, f)] for s, f in EXPECTED_COUNTS if s == split):
            problems.append(f"split {split!r} is missing")
            continue
        for (s, folder), expected in EXPECTED_COUNTS.items():
            if s == split and counts[(s, folder)] != expected:
                problems.append(f"{s}/{folder} has {counts[(s, folder)]:,} reviews, expected {expected:,}")
    if problems:
        raise DataError(f"{source} is not a complete copy of the dataset: " + "; ".join(problems))


def cache_file(source_fingerprint: str, *, cache: str | Path | None = None) -> Path:
    """The Parquet cache of the source with this fingerprint (parser format version included)."""
    return cache_dir(cache) / f"reviews-v{_CACHE_FORMAT}-{source_fingerprint[:20]}.parquet"


def prepare(
    data: str | Path | None = None, *, cache: str | Path | None = None, download: bool = True, progress: bool = True
) -> tuple[Path, str, Path]:
    """Locate the dataset and make sure its Parquet cache exists.

    Returns:
        ``(source, fingerprint, parquet_path)``.
    """
    clean_leftover_tmp(cache_dir(cache), stale_s=STALE_TMP_S)
    source = locate(data, cache=cache, download=download)
    fp = check_archive(source, cache=cache) if source.is_file() else fingerprint(source)
    parquet = cache_file(fp, cache=cache)
    if not parquet.is_file():
        table = read_reviews(source, progress=progress)
        parquet.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(parquet) as tmp:
            pq.write_table(table, tmp, row_group_size=10_000)
    return source, fp, parquet


def load_imdb(
    data: str | Path | None = None,
    *,
    split: SplitConfig | None = None,
    include_unsup: bool = False,
    cache: str | Path | None = None,
    download: bool = True,
    progress: bool = True,
) -> ImdbData:
    """Load the Large Movie Review Dataset as DataFrames, with a validation split carved from train.

    Args:
        data: Archive or folder to read; defaults to ``IMDB_DATA``, then the cache, then a download.
        split: Validation fraction and seed (default: 10% of train, seed 0).
        include_unsup: Also load the 50,000 unlabelled reviews into ``unsup``.
        cache: Cache folder override.
        download: Allow downloading the published archive when no local copy is found.
        progress: Show progress bars for the download and the first parse.

    Returns:
        The splits; see :class:`ImdbData`.

    Raises:
        DataError: the dataset cannot be found or is not valid.
    """
    split = split or SplitConfig()
    source, fp, parquet = prepare(data, cache=cache, download=download, progress=progress)
    wanted = ["train", "test", "unsup"] if include_unsup else ["train", "test"]
    frame = pq.read_table(parquet, filters=[("split", "in", wanted)]).to_pandas()
    frame["label"] = frame["label"].astype("Int8")
    parts = {name: group.reset_index(drop=True) for name, group in frame.groupby("split", sort=False)}
    train, validation = split_validation(parts["train"], split)
    empty = frame.iloc[:0].reset_index(drop=True)
    return ImdbData(
        train=train,
        validation=validation,
        test=parts["test"],
        unsup=parts.get("unsup", empty),
        fingerprint=fp,
        source=source,
        split=split,
    )


def split_validation(train: pd.DataFrame, split: SplitConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carve a stratified, seeded validation set from ``train``; returns ``(train, validation)``."""
    if split.validation_fraction == 0:
        return train, train.iloc[:0]
    n_val = math.ceil(len(train) * split.validation_fraction)  # how train_test_split sizes a float test_size
    if n_val < 2 or len(train) - n_val < 2:
        raise ConfigError(
            f"validation_fraction={split.validation_fraction} of {len(train):,} training reviews leaves "
            f"{n_val} for validation and {len(train) - n_val} for training; each needs at least 2 (one per class)"
        )
    fit, val = train_test_split(
        train, test_size=split.validation_fraction, stratify=train["label"], random_state=split.seed
    )
    return fit.reset_index(drop=True), val.reset_index(drop=True)


def stratified_sample(frame: pd.DataFrame, n: int, *, seed: int = 0, label: str = "label") -> pd.DataFrame:
    """Return a seeded sample of ``n`` rows with the label proportions of ``frame`` (all rows if ``n`` >= len)."""
    if n >= len(frame):
        return frame
    sample, _ = train_test_split(frame, train_size=n, stratify=frame[label], random_state=seed)
    return sample.reset_index(drop=True)
