"""The dataset cache's housekeeping: archive hashes computed once per file, and leftover temporary files.

Kept apart from :mod:`imdb_sentiment.data`, which decides what to check and when.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from pathlib import Path

from imdb_sentiment._atomic import clean_leftovers, write_json

# Temporary names are ".{final name}.{pid}.{random}.tmp" (see imdb_sentiment._atomic).
_TMP_NAME = re.compile(r"^\.(.+)\.\d+\.[^.]+\.tmp$")


def archive_digests(archive: Path, hashes_file: Path) -> tuple[str, str]:
    """The archive's SHA-256 and its fingerprint (that of :func:`imdb_sentiment.data.fingerprint`), read in
    one pass and kept in ``hashes_file``.

    They are computed again only when the file's size or modification time changes.
    """
    key = str(archive.resolve())
    stat = archive.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        known = json.loads(hashes_file.read_text(encoding="utf-8"))
        entry = known[key] if isinstance(known, dict) else None
    except (OSError, ValueError, KeyError):
        known, entry = {}, None
    if isinstance(entry, dict) and all(entry.get(k) == v for k, v in stamp.items()):
        return str(entry["sha256"]), str(entry["fingerprint"])
    plain, tagged = hashlib.sha256(), hashlib.sha256(b"file:")
    with archive.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            plain.update(chunk)
            tagged.update(chunk)
    entry = {**stamp, "sha256": plain.hexdigest(), "fingerprint": tagged.hexdigest()}
    known = {k: v for k, v in (known if isinstance(known, dict) else {}).items() if Path(k).exists()}
    with contextlib.suppress(OSError):  # a read-only cache: the hash is computed again next time
        write_json(hashes_file, {**known, key: entry})
    return entry["sha256"], entry["fingerprint"]


def clean_leftover_tmp(folder: Path, *, stale_s: float) -> list[Path]:
    """Remove the temporary files that killed downloads and parses left in ``folder``.

    A temporary file is removed once the process that wrote it is gone, or when nothing has written to it
    for ``stale_s`` seconds (a process id can be reused by an unrelated process).

    Returns:
        The files removed.
    """
    if not folder.is_dir():
        return []
    removed: list[Path] = []
    now = time.time()
    for item in sorted(folder.glob(".*.tmp")):
        final = _TMP_NAME.match(item.name)
        if final is not None and item in clean_leftovers(folder / final[1]):
            removed.append(item)
        elif item.is_file() and now - item.stat().st_mtime > stale_s:
            item.unlink(missing_ok=True)
            removed.append(item)
    return removed
