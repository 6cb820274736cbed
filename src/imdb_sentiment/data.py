"""The Large Movie Review Dataset (Maas et al., 2011): locate, download, verify, parse, cache, split.

Where the data comes from, in order:

1. an explicit path (``load_imdb(data=...)``, ``--data PATH``): the ``.tar.gz``, an extracted ``aclImdb/``,
   or a ``.parquet`` export of some splits (:func:`export_reviews`, ``imdb-sentiment data --export``);
2. the ``IMDB_DATA`` environment variable (same forms);
3. the archive in the cache (``$IMDB_SENTIMENT_CACHE``, else ``$XDG_CACHE_HOME/imdb-sentiment``,
   else ``~/.cache/imdb-sentiment``);
4. a download of the published archive, verified against its published SHA-256 and stopped if it grows
   past the published size.

An archive found on disk is checked against the published SHA-256 too: one that differs is used (its
layout and counts are checked like any source's) with an :class:`UnpublishedArchiveWarning`. The hash
is computed once per file and kept in the cache, keyed by the file's path, size and modification time.
Temporary files that a killed download or parse left in the cache are removed on the next load.

An export is read as it is: it may hold only some splits (``train`` alone is 11 MB, where the archive is
57 MB: what a machine with little room for data needs to train), and the splits it lacks load empty.
Whatever other source, the reviews are parsed once (by :mod:`imdb_sentiment._dataparse`) into a Parquet
file in the cache, named after a fingerprint of the source, so later loads are fast and a different
archive is never served stale.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import math
import os
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.model_selection import train_test_split

from imdb_sentiment._atomic import atomic_path
from imdb_sentiment._datacache import archive_digests, clean_leftover_tmp
from imdb_sentiment._dataparse import ARCHIVE_NAME, SCHEMA, dataset_root, parse_reviews, urls_file
from imdb_sentiment._dataparse import MissingFilmsWarning as MissingFilmsWarning  # raised by read_reviews
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.errors import ConfigError, DataError

PUBLISHED_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
PUBLISHED_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
#: The published archive's size in bytes: a download that sends more is stopped.
PUBLISHED_SIZE = 84_125_825

#: What an export (:func:`export_reviews`) is: a Parquet file of the reviews table.
EXPORT_SUFFIX = ".parquet"
#: The dataset's splits, as the ``split`` column names them.
SPLITS = ("train", "test", "unsup")
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
# 2: the ``film`` column (from the urls_*.txt files).
_CACHE_FORMAT = 2


@dataclasses.dataclass(frozen=True)
class ImdbData:
    """The dataset's splits as DataFrames with columns ``id, split, label, rating, film, text``.

    ``label`` is 1 for positive, 0 for negative (``<NA>`` for unlabelled reviews); ``rating`` is the
    reviewer's 1-10 score (0 for unlabelled); ``film`` is the IMDb id of the film reviewed
    (``"tt0453418"``), from the dataset's ``urls_*.txt`` files (null where a source lacks them). ``id`` is
    ``"{split}/{pos|neg|unsup}/{number}"``, unique across the dataset and pointing back at the review's
    file. ``validation`` is carved from the train split (stratified, seeded) and does not overlap
    ``train``; ``unsup`` is empty unless asked for.
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

    def reviews(self, name: str) -> pd.DataFrame:
        """The split ``name`` (``train``, ``validation``, ``test`` or ``unsup``), refused if it is empty.

        Raises:
            DataError: the source holds none of it (an export of other splits).
        """
        frame: pd.DataFrame = getattr(self, name)
        if frame.empty:
            raise DataError(
                f"{self.source} holds no {name} reviews (an export of other splits?); give the archive, "
                f"or export {name} too (imdb-sentiment data --export FILE --splits ...)"
            )
        return frame


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
        data: A ``.tar.gz``, an extracted ``aclImdb/`` folder (or its parent), or a ``.parquet`` export.
            Takes precedence.
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
    """Return a fingerprint of an archive (sha256 of its bytes) or a folder (sha256 of the names, sizes and
    modification times of its review and ``urls_*.txt`` files, far cheaper than reading 100,000 files)."""
    digest = hashlib.sha256()
    if source.is_file():
        with source.open("rb") as fh:
            digest.update(b"file:")
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    else:
        root = dataset_root(source)
        digest.update(b"dir:")
        for split, folder in sorted(EXPECTED_COUNTS):
            sub = root / split / folder
            if not sub.is_dir():
                continue
            with os.scandir(sub) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    st = entry.stat()
                    digest.update(f"{split}/{folder}/{entry.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
            # The films come from the urls file beside the folder: adding or changing it changes the table.
            urls = urls_file(root, split, folder)
            if urls.is_file():
                st = urls.stat()
                digest.update(f"{split}/{urls.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def read_reviews(source: Path, *, progress: bool = True) -> pa.Table:
    """Parse every review under ``source`` (an archive or folder) and check the dataset's layout.

    The parsing itself is :func:`imdb_sentiment._dataparse.parse_reviews`, against :data:`EXPECTED_COUNTS`.

    Returns:
        A table with columns ``id, split, label, rating, film, text``, sorted by split, folder and number.

    Raises:
        DataError: the source is not a gzip archive, not the dataset, its counts are wrong, or a
            ``urls_*.txt`` file does not have one line per review of its folder.

    Warns:
        MissingFilmsWarning: a review folder has no ``urls_*.txt`` file (its reviews' ``film`` is null).
    """
    return parse_reviews(source, EXPECTED_COUNTS, progress=progress)


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
    if source.is_file() and source.suffix == EXPORT_SUFFIX:
        _check_export(source)
        return source, fingerprint(source), source
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
    if "train" not in parts:
        raise DataError(f"{source} holds no train reviews; export them too (imdb-sentiment data --export)")
    train, validation = split_validation(parts["train"], split)
    empty = frame.iloc[:0].reset_index(drop=True)
    return ImdbData(
        train=train,
        validation=validation,
        test=parts.get("test", empty),
        unsup=parts.get("unsup", empty),
        fingerprint=fp,
        source=source,
        split=split,
    )


def export_reviews(
    target: str | Path,
    splits: tuple[str, ...] = ("train", "test"),
    *,
    data: str | Path | None = None,
    cache: str | Path | None = None,
    download: bool = True,
) -> int:
    """Write the reviews of ``splits`` (of ``train``, ``test``, ``unsup``) to ``target``, a Parquet file any
    ``--data`` or ``IMDB_DATA`` accepts; return how many. Written atomically, compressed (zstd).

    Raises:
        ConfigError: ``splits`` is empty or names another split, or ``target`` is not a ``.parquet`` file.
        DataError: the dataset cannot be found or is not valid.
    """
    target = Path(target).expanduser()
    unknown = sorted(set(splits) - set(SPLITS))
    if not splits or unknown:
        raise ConfigError(f"splits must be some of {', '.join(SPLITS)}; got {', '.join(unknown) or 'none'}")
    if target.suffix != EXPORT_SUFFIX:
        raise ConfigError(f"an export is a {EXPORT_SUFFIX} file; got {target.name}")
    _, _, parquet = prepare(data, cache=cache, download=download)
    table = pq.read_table(parquet, filters=[("split", "in", list(splits))])
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, compression="zstd", compression_level=19, row_group_size=10_000)
    return table.num_rows


def _check_export(path: Path) -> None:
    """Raise :class:`DataError` unless ``path`` is a Parquet file with the reviews table's columns."""
    try:
        names = set(pq.read_schema(path).names)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"{path} is not a readable Parquet file ({exc})") from None
    missing = [name for name in SCHEMA.names if name not in names]
    if missing:
        raise DataError(f"{path} is not a reviews export: it lacks the column(s) {', '.join(missing)}")


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
