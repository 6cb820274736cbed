"""The saved-model format: the folder layout, ``manifest.json`` and its checks.

A saved model is a folder::

    manifest.json     format version, kind, labels, config, metrics, data fingerprint, versions, file hashes
    history.json      per-epoch training metrics (for kinds that train in epochs)
    training_curves.png
    <weights>         native files only (.keras, .npz, safetensors, ONNX): never pickle

The hashes in the manifest are integrity checks (a truncated copy, a flipped byte), not signatures: anyone
who can write the folder can rewrite the manifest too. What loading does guarantee is checked here, before
any weight file is opened: every file the manifest lists lies inside the folder (no absolute paths, no
``..``, no links out), the folder holds nothing the manifest does not list, and a model never loads inside
itself (an ensemble member linked back to an ancestor).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import platform
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from imdb_sentiment._atomic import clean_leftovers, write_json
from imdb_sentiment.errors import ModelError

#: Bump when the folder layout or manifest changes incompatibly; ``load`` refuses newer versions.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
HISTORY = "history.json"
#: The sub-folder holding a model's clause reader (a saved model of its own), when it has one.
CLAUSES = "clauses"
#: Files a folder may hold without the manifest listing them: the manifest itself (top level) and the
#: folder notes file managers leave behind (anywhere), which nothing reads.
UNLISTED_OK = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: How deep models may nest (an ensemble of ensembles of ...) before loading gives up.
MAX_DEPTH = 8

# The folders being loaded, outermost first: a member that resolves to one of them is a cycle.
_LOADING: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("loading", default=())

_VERSIONED_PACKAGES = (
    "imdb-sentiment",
    "numpy",
    "scikit-learn",
    "keras",
    "torch",
    "transformers",
    "tokenizers",
    "onnxruntime",
    "pandas",
    "pyarrow",
)


def read_manifest(path: Path) -> dict[str, Any]:
    """Read and check a saved model's ``manifest.json``.

    Raises:
        ModelError: ``path`` is not a model folder, or its manifest is unreadable or from a newer format.
    """
    if not path.exists():
        # A save killed between moving the old folder aside and moving the new one in leaves no folder:
        # put the old one back rather than report the model missing (only a dead writer's is touched).
        with contextlib.suppress(OSError):
            clean_leftovers(path)
    if not path.is_dir():
        raise ModelError(f"{path} is not a model directory (it does not exist or is a file)")
    file = path / MANIFEST
    if not file.is_file():
        raise ModelError(f"{path} is not a model directory: it has no {MANIFEST}")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON, bad UTF-8, a number too long to parse
        raise ModelError(f"{file} is not valid JSON ({one_line(exc)})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("kind"), str) or "format_version" not in manifest:
        raise ModelError(f"{file} is not an imdb-sentiment manifest (no kind or format_version)")
    version = manifest["format_version"]
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ModelError(
            f"{path} uses model format version {version!r}, but this imdb-sentiment reads versions 1 to "
            f"{FORMAT_VERSION}; upgrade imdb-sentiment to load it"
        )
    return manifest


def check_files(path: Path, manifest: dict[str, Any]) -> None:
    """Check that ``path`` holds exactly the files its manifest lists, each inside it with its SHA-256.

    Raises:
        ModelError: a listed path is absolute, has ``..`` or resolves outside ``path`` (through a link); a
            listed file is missing or does not match its checksum; the folder holds a file the manifest does
            not list, or a link that points outside it.
    """
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ModelError(f"{path / MANIFEST} has no files table (file name -> SHA-256)")
    root = path.resolve()
    for name, digest in files.items():
        file = _inside(path, root, name)
        if not file.is_file():
            raise ModelError(f"{path} is incomplete: {name} is missing")
        if sha256(file) != digest:
            raise ModelError(f"{path} is damaged: {name} does not match the checksum in {MANIFEST}")
    for name in _contents(path, root):
        if name not in files and name != MANIFEST and PurePosixPath(name).name not in UNLISTED_OK:
            raise ModelError(f"{path} holds {name}, which its {MANIFEST} does not list; remove it or re-save the model")


def _inside(path: Path, root: Path, name: str) -> Path:
    """The file ``name`` (as the manifest lists it) of the folder ``path``, once it is known to lie inside."""
    pure = PurePosixPath(name)
    if not name or pure.is_absolute() or ".." in pure.parts or "\\" in name or pure.as_posix() != name:
        raise ModelError(f"{path / MANIFEST} lists {name!r}, which is not a plain path inside the model folder")
    resolved = (root / pure).resolve()
    if not resolved.is_relative_to(root):
        raise ModelError(f"{path / MANIFEST} lists {name}, which leads outside the model folder (to {resolved})")
    return resolved


def _contents(path: Path, root: Path) -> Iterator[str]:
    """Every file in the folder, by path relative to it, without following links (a link out is refused)."""

    def fail(exc: OSError) -> None:
        raise ModelError(f"{path} cannot be read ({one_line(exc)})")

    for folder, dirs, names in os.walk(root, onerror=fail):
        for name in (*dirs, *names):
            entry = Path(folder, name)
            if entry.is_symlink() and not entry.resolve().is_relative_to(root):
                relative = entry.relative_to(root).as_posix()
                raise ModelError(f"{path} holds {relative}, a link to {entry.resolve()}, outside the model folder")
        for name in names:
            yield Path(folder, name).relative_to(root).as_posix()


@contextlib.contextmanager
def loading(path: Path) -> Iterator[None]:
    """Mark ``path`` as being loaded for the block, refusing a folder that is already being loaded (a cycle).

    Raises:
        ModelError: ``path`` is one of the folders being loaded (an ensemble member linked back to an
            ancestor), or models nest deeper than :data:`MAX_DEPTH`.
    """
    chain = _LOADING.get()
    here = path.resolve()
    if here in chain:
        cycle = " -> ".join(str(p) for p in (*chain[chain.index(here) :], here))
        raise ModelError(f"{path} leads back to {here}, which is being loaded: a model that contains itself ({cycle})")
    if len(chain) >= MAX_DEPTH:
        raise ModelError(f"{path} nests models more than {MAX_DEPTH} deep (an ensemble of ensembles of ...)")
    token = _LOADING.set((*chain, here))
    try:
        yield
    finally:
        _LOADING.reset(token)


def one_line(exc: BaseException) -> str:
    """``exc`` as one line (its type when it has no message), for an error message that quotes it."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def file_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but the manifest, by path relative to ``folder``."""
    return {
        p.relative_to(folder).as_posix(): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p != folder / MANIFEST
    }


def check_save_target(path: str | Path) -> Path:
    """Return ``path`` if a model may be saved there: it is missing, empty or a saved model already.

    Raises:
        ModelError: ``path`` is a file or a folder of something else (it would be replaced).
    """
    path = Path(path)
    if path.exists() and not (path / MANIFEST).is_file() and (not path.is_dir() or any(path.iterdir())):
        raise ModelError(f"refusing to overwrite {path}: it exists and is not a saved model")
    return path


def update_metrics(path: str | Path, name: str, metrics: dict[str, Any]) -> None:
    """Record ``metrics`` under ``name`` (e.g. ``"test"``) in a saved model's manifest, atomically."""
    path = Path(path)
    manifest = read_manifest(path)
    manifest.setdefault("metrics", {})[name] = metrics
    write_json(path / MANIFEST, manifest)


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a saved model depends on."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
