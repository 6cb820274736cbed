"""Atomic writes: the new file or folder appears complete, or the old one stays."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from imdb_sentiment._atomic import atomic_dir, atomic_path, write_json


class Boom(Exception):
    pass


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def make_old_folder(dest) -> None:
    (dest / "sub").mkdir(parents=True)
    (dest / "old.txt").write_text("old")
    (dest / "sub" / "deep.txt").write_text("deep")


def test_atomic_dir_creates_a_new_folder(tmp_path, umask_022):
    dest = tmp_path / "parent" / "model"
    with atomic_dir(dest) as tmp:
        assert tmp.is_dir() and not any(tmp.iterdir()) and tmp.parent == dest.parent
        assert not dest.exists()
        (tmp / "weights.bin").write_bytes(b"\x00\x01")
    assert (dest / "weights.bin").read_bytes() == b"\x00\x01"
    assert os.listdir(dest.parent) == ["model"]
    assert mode(dest) == 0o755  # not mkdtemp's 0700


def test_atomic_dir_replaces_the_old_folder_completely(tmp_path):
    dest = tmp_path / "model"
    make_old_folder(dest)
    with atomic_dir(dest) as tmp:
        (tmp / "new.txt").write_text("new")
        assert (dest / "old.txt").read_text() == "old"  # still intact while the new one is written
    assert sorted(p.name for p in dest.rglob("*")) == ["new.txt"]
    assert os.listdir(tmp_path) == ["model"]  # neither the temporary nor the old folder remains


def test_atomic_dir_keeps_the_old_folder_when_the_block_fails(tmp_path):
    dest = tmp_path / "model"
    make_old_folder(dest)
    with pytest.raises(Boom), atomic_dir(dest) as tmp:
        (tmp / "half.txt").write_text("half")
        raise Boom
    assert (dest / "old.txt").read_text() == "old" and (dest / "sub" / "deep.txt").read_text() == "deep"
    assert sorted(p.name for p in dest.rglob("*")) == ["deep.txt", "old.txt", "sub"]
    assert os.listdir(tmp_path) == ["model"]


def test_atomic_dir_replaces_an_old_file_and_leaves_nothing_beside_it(tmp_path):
    dest = tmp_path / "model"
    dest.write_text("an old file where the folder goes")
    with atomic_dir(dest) as tmp:
        (tmp / "new.txt").write_text("new")
    assert dest.is_dir() and (dest / "new.txt").read_text() == "new"
    assert os.listdir(tmp_path) == ["model"]  # no .model.old-* file left behind


@pytest.mark.parametrize("old_is_file", [False, True], ids=["old-folder", "old-file"])
def test_atomic_dir_puts_the_old_version_back_when_the_final_rename_fails(tmp_path, monkeypatch, old_is_file):
    dest = tmp_path / "model"
    if old_is_file:
        dest.write_text("old file")
    else:
        make_old_folder(dest)
    real_replace = os.replace

    def replace_failing_onto_dest(src, dst):
        # Fail only the final step, the new temporary folder (named .model.*.tmp) onto dest.
        if Path(dst) == dest and Path(src).name.endswith(".tmp"):
            raise OSError("simulated rename failure")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_failing_onto_dest)
    with pytest.raises(OSError, match="simulated rename failure"), atomic_dir(dest) as tmp:
        (tmp / "new.txt").write_text("new")
    if old_is_file:
        assert dest.read_text() == "old file"
    else:
        assert sorted(p.name for p in dest.rglob("*")) == ["deep.txt", "old.txt", "sub"]
        assert (dest / "old.txt").read_text() == "old"
    assert os.listdir(tmp_path) == ["model"]  # neither the temporary nor the renamed-aside version remains


def test_atomic_dir_failure_without_old_folder_leaves_nothing(tmp_path):
    with pytest.raises(Boom), atomic_dir(tmp_path / "model"):
        raise Boom
    assert os.listdir(tmp_path) == []


def test_atomic_path_replaces_a_file(tmp_path, umask_022):
    dest = tmp_path / "out" / "result.json"
    with atomic_path(dest) as tmp:
        assert tmp.parent == dest.parent and tmp != dest
        tmp.write_text("first")
    with atomic_path(dest) as tmp:
        tmp.write_text("second")
        assert dest.read_text() == "first"
    assert dest.read_text() == "second"
    assert os.listdir(dest.parent) == ["result.json"]
    assert mode(dest) == 0o644  # not mkstemp's 0600


def test_atomic_path_keeps_the_old_file_when_the_block_fails(tmp_path):
    dest = tmp_path / "result.json"
    dest.write_text("old")
    with pytest.raises(Boom), atomic_path(dest) as tmp:
        tmp.write_text("half-written")
        raise Boom
    assert dest.read_text() == "old"
    assert os.listdir(tmp_path) == ["result.json"]


def test_atomic_path_failure_without_old_file_leaves_nothing(tmp_path):
    with pytest.raises(Boom), atomic_path(tmp_path / "result.json") as tmp:
        tmp.write_text("half")
        raise Boom
    assert os.listdir(tmp_path) == []


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_path(tmp_path / "file") as tmp:
            tmp.write_text("x")
        with atomic_dir(tmp_path / "folder"):
            pass
        assert os.umask(0o027) == 0o027  # the umask itself is left as it was
    finally:
        os.umask(old)
    assert mode(tmp_path / "file") == 0o640
    assert mode(tmp_path / "folder") == 0o750


def test_write_json(tmp_path, umask_022):
    dest = tmp_path / "manifest.json"
    write_json(dest, {"b": [1, 2], "a": "é"})
    text = dest.read_text(encoding="utf-8")
    assert json.loads(text) == {"b": [1, 2], "a": "é"}
    assert text.endswith("\n") and text.index('"b"') < text.index('"a"')  # key order kept
    assert mode(dest) == 0o644
