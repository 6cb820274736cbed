"""Atomic writes: a file or folder appears under its final name complete, or not at all.

Everything the project writes for later use (the dataset cache, saved models, output files) goes through
here, so an interrupted run (Ctrl-C, a full disk, a crash) never leaves a half-written file that a later
run would trust.

A process killed outright (``kill -9``, a power cut) runs no clean-up, so what it leaves is recognisable
and cleaned by the next write to the same place: temporary names carry the writer's process id
(``.NAME.PID.<random>.tmp``), and are removed once that process is gone; a folder killed between its two
renames (the old one moved aside, the new one not yet in place) is put back under its name.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary file path beside ``dest``; rename it onto ``dest`` only if the block succeeds."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(dest)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file readable by its owner only; give it the usual umask-based mode.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    # Linux shows the umask in /proc; os.umask can only read it by setting it, which races with threads
    # that create files at that instant, so it is only the fallback.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(dest: Path, value: Any) -> None:
    """Write ``value`` as indented JSON to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(value, indent=2, sort_keys=False) + "\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``dest``; swap it in for ``dest`` if the block succeeds.

    POSIX cannot exchange two folders in one step, so the old folder is first renamed aside and then
    removed: at every instant either the old or the new folder is complete under some name, and the
    old one is only deleted once the new one is in place. If the block fails, ``dest`` is untouched.
    """
    dest = dest.absolute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".tmp", dir=dest.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if dest.exists():
            old = dest.with_name(f".{dest.name}.{os.getpid()}.old-{uuid.uuid4().hex[:8]}")
            os.replace(dest, old)
            try:
                os.replace(tmp, dest)
            except BaseException:
                os.replace(old, dest)  # put the previous version back under its name
                raise
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
        else:
            os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def clean_leftovers(dest: Path) -> list[Path]:
    """Remove what killed writers of ``dest`` left beside it; put back a folder killed between renames.

    Only leftovers of processes that no longer run are touched: a write in progress elsewhere is left alone.

    Returns:
        The leftovers removed or restored.
    """
    handled: list[Path] = []
    if not dest.parent.is_dir():
        return handled
    prefix = f".{dest.name}."
    for item in sorted(dest.parent.iterdir(), key=lambda p: p.name):
        if not item.name.startswith(prefix):
            continue
        pid, _, rest = item.name[len(prefix) :].partition(".")
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if rest.startswith("old-") and not dest.exists() and item.is_dir():
            os.replace(item, dest)  # the previous version, moved aside by a writer killed before the swap
        elif rest.endswith(".tmp") or rest.startswith("old-"):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
        else:
            continue
        handled.append(item)
    return handled


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True
