"""Parsing the dataset's ``aclImdb/`` layout, from the archive or an extracted folder, into one table.

Each review is a file ``aclImdb/{train,test}/{pos,neg,unsup}/{number}_{rating}.txt``. Beside each review
folder, ``aclImdb/{split}/urls_{folder}.txt`` holds one IMDb address per review: line ``i`` (counting from
0) is the page of the film that review ``i`` is about, e.g. ``http://www.imdb.com/title/tt0453418/usercomments``,
which gives the review's ``film`` (``tt0453418``).

Kept apart from :mod:`imdb_sentiment.data`, which decides where the data comes from and which counts to
expect (it passes them in, so tests can shrink them).
"""

from __future__ import annotations

import gzip
import re
import tarfile
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa

from imdb_sentiment.errors import DataError

ARCHIVE_NAME = "aclImdb_v1.tar.gz"

_REVIEW_PATH = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
_URLS_PATH = re.compile(r"(?:^|/)aclImdb/(train|test)/urls_(pos|neg|unsup)\.txt$")
_FILM = re.compile(r"/title/(tt\d+)/")
_LABELS = {"pos": 1, "neg": 0, "unsup": None}
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("split", pa.string()),
        ("label", pa.int8()),
        ("rating", pa.int8()),
        ("film", pa.string()),
        ("text", pa.string()),
    ]
)


class MissingFilmsWarning(UserWarning):
    """A review folder has no ``urls_*.txt`` beside it, so its reviews' ``film`` is null."""


class _Review(NamedTuple):
    split: str
    folder: str
    number: int
    rating: int
    text: str


class _Urls(NamedTuple):
    """A ``urls_{folder}.txt`` file; ``name`` is how messages name it (its path, or its member and archive)."""

    split: str
    folder: str
    name: str
    text: str


def dataset_root(source: Path) -> Path:
    """Accept the ``aclImdb/`` folder itself or a folder that contains it."""
    if (source / "aclImdb").is_dir():
        return source / "aclImdb"
    return source


def urls_file(root: Path, split: str, folder: str) -> Path:
    """The file naming the films of the reviews in ``root/split/folder`` (``root`` as :func:`dataset_root`)."""
    return root / split / f"urls_{folder}.txt"


def parse_reviews(source: Path, expected: Mapping[tuple[str, str], int], *, progress: bool = True) -> pa.Table:
    """Parse every review under ``source`` (an archive or folder) and check the dataset's layout.

    Args:
        source: The ``.tar.gz`` or an extracted ``aclImdb/`` folder (or its parent).
        expected: Reviews per ``(split, folder)``; the folders read are its keys.
        progress: Show a progress bar (hidden anyway when stderr is not a terminal).

    Returns:
        A table with columns ``id, split, label, rating, film, text``, sorted by split, folder and number.

    Raises:
        DataError: the source is not a gzip archive, not the dataset, its counts are wrong, or a
            ``urls_*.txt`` file does not have one line per review of its folder.

    Warns:
        MissingFilmsWarning: a folder with reviews has no ``urls_*.txt`` file (its ``film`` is null).
    """
    rows: dict[str, list] = {name: [] for name in SCHEMA.names if name != "film"}
    keys: list[tuple[str, str, int]] = []
    urls: dict[tuple[str, str], _Urls] = {}
    for item in _iter_files(source, list(expected), total=sum(expected.values()), progress=progress):
        if isinstance(item, _Urls):
            urls[item.split, item.folder] = item
            continue
        rows["id"].append(f"{item.split}/{item.folder}/{item.number}")
        # The unlabelled reviews live under train/unsup/ but are their own split for every user.
        rows["split"].append("unsup" if item.folder == "unsup" else item.split)
        rows["label"].append(_LABELS[item.folder])
        rows["rating"].append(item.rating)
        rows["text"].append(item.text)
        keys.append((item.split, item.folder, item.number))
    counts = Counter((split, folder) for split, folder, _ in keys)
    check_counts(source, counts, expected)
    films = _films_by_folder(source, urls, keys, counts)
    rows["film"] = [films[split, folder][number] for split, folder, number in keys]
    table = pa.table(rows, schema=SCHEMA)
    # Sort so that the table (and everything downstream) does not depend on the archive's member order.
    indices = sorted(range(len(keys)), key=keys.__getitem__)
    return table.take(pa.array(indices, pa.int64()))


def check_counts(source: Path, counts: Counter[tuple[str, str]], expected: Mapping[tuple[str, str], int]) -> None:
    """Raise a :class:`DataError` listing every folder whose number of reviews is not the expected one."""
    if not counts:
        raise DataError(
            f"{source} is not the Large Movie Review Dataset: no aclImdb/{{train,test}}/{{pos,neg,unsup}}/*.txt reviews found"
        )
    problems = []
    for split in ("train", "test"):
        if not any(counts[(s, f)] for s, f in expected if s == split):
            problems.append(f"split {split!r} is missing")
            continue
        for (s, folder), n in expected.items():
            if s == split and counts[(s, folder)] != n:
                problems.append(f"{s}/{folder} has {counts[(s, folder)]:,} reviews, expected {n:,}")
    if problems:
        raise DataError(f"{source} is not a complete copy of the dataset: " + "; ".join(problems))


def _films_by_folder(
    source: Path,
    urls: Mapping[tuple[str, str], _Urls],
    keys: Iterable[tuple[str, str, int]],
    counts: Counter[tuple[str, str]],
) -> dict[tuple[str, str], list[str | None]]:
    """Each folder's film ids, indexed by review number (all ``None`` for a folder without a urls file)."""
    numbers: dict[tuple[str, str], list[int]] = {}
    for split, folder, number in keys:
        numbers.setdefault((split, folder), []).append(number)
    films: dict[tuple[str, str], list[str | None]] = {}
    missing = []
    for (split, folder), n in sorted(counts.items()):
        found = urls.get((split, folder))
        if found is None:
            missing.append(f"{split}/urls_{folder}.txt")
            films[split, folder] = [None] * (max(numbers[split, folder]) + 1)
            continue
        # Split on "\n" only: str.splitlines() also splits on characters such as \x1c and U+2028.
        lines = found.text.split("\n")
        if lines[-1] == "":  # the newline that ends the last line
            lines.pop()
        if len(lines) != n:
            raise DataError(
                f"{found.name} has {len(lines):,} lines but {split}/{folder} has {n:,} reviews; "
                f"line i must name the film of review i ({split}/{folder}/i_RATING.txt)"
            )
        if (last := max(numbers[split, folder])) >= n:
            raise DataError(
                f"{found.name} has a line for reviews 0 to {n - 1:,} but {split}/{folder} has review {last:,}; "
                "line i must name the film of review i"
            )
        films[split, folder] = [match[1] if (match := _FILM.search(line)) else None for line in lines]
    if missing:
        warnings.warn(
            f"{source} has no {', '.join(missing)}: the film of those reviews is unknown (null in the 'film' column)",
            MissingFilmsWarning,
            stacklevel=2,
        )
    return films


def _iter_files(
    source: Path, folders: list[tuple[str, str]], *, total: int, progress: bool
) -> Iterator[_Review | _Urls]:
    """The reviews and urls files of ``folders`` under ``source``, in the order they are stored."""
    from tqdm.auto import tqdm

    if source.is_file():
        with source.open("rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                raise DataError(f"{source} is not a gzip archive; expected {ARCHIVE_NAME} or an aclImdb/ folder")
    # disable=None hides the bar when stderr is not a terminal (CI logs, pipes); progress=False always hides it.
    with tqdm(total=total, unit=" reviews", desc=f"parsing {source.name}", disable=None if progress else True) as bar:
        if source.is_dir():
            for item in _iter_folder(dataset_root(source), folders):
                yield item
                bar.update(isinstance(item, _Review))
            return
        wanted = set(folders)
        try:
            # Stream mode ("r|") reads the archive once, front to back, without an index in memory.
            with gzip.open(source, "rb") as unzipped, tarfile.open(fileobj=unzipped, mode="r|") as archive:
                for member in archive:
                    # Both patterns capture (split, folder) first.
                    match = _REVIEW_PATH.search(member.name) or _URLS_PATH.search(member.name)
                    if not member.isfile() or match is None or (match[1], match[2]) not in wanted:
                        continue
                    handle = archive.extractfile(member)
                    assert handle is not None  # a regular file always has contents
                    text = handle.read().decode("utf-8")
                    if match.re is _REVIEW_PATH:
                        yield _Review(match[1], match[2], int(match[3]), int(match[4]), text)
                        bar.update()
                    else:
                        yield _Urls(match[1], match[2], f"{member.name} in {source}", text)
                # tarfile stops quietly if the data breaks off between two members; reading the gzip
                # stream to its end raises EOFError then, so a truncated archive is named as such.
                while unzipped.read(1 << 20):
                    pass
        except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{source} is damaged or truncated ({exc}); download it again") from None


def _iter_folder(root: Path, folders: list[tuple[str, str]]) -> Iterator[_Review | _Urls]:
    for split, folder in folders:
        sub = root / split / folder
        if not sub.is_dir():
            continue
        urls = urls_file(root, split, folder)
        if urls.is_file():
            yield _Urls(split, folder, str(urls), _read_text(urls))
        for path in sub.glob("*.txt"):
            match = _REVIEW_PATH.search(f"aclImdb/{split}/{folder}/{path.name}")
            if match is not None:
                yield _Review(split, folder, int(match[3]), int(match[4]), _read_text(path))


def _read_text(path: Path) -> str:
    try:
        # Bytes, not read_text(): universal newlines would turn "\r\n" into "\n" and the folder would then
        # disagree with the archive it was extracted from.
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is damaged or unreadable ({exc})") from None
