"""The saved-model format: the folder layout, ``manifest.json`` and its checks.

A saved model is a folder::

    manifest.json     format version, kind, labels, config, metrics, data fingerprint, versions, file hashes
    history.json      per-epoch training metrics (for kinds that train in epochs)
    training_curves.png
    <weights>         native files only (.keras, .npz, safetensors, ONNX): never pickle

The hashes in the manifest are integrity checks (a truncated copy, a flipped byte), not signatures: anyone
who can write the folder can rewrite the manifest too.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from imdb_sentiment._atomic import write_json
from imdb_sentiment.errors import ModelError

#: Bump when the folder layout or manifest changes incompatibly; ``load`` refuses newer versions.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
HISTORY = "history.json"

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
    if not path.is_dir():
        raise ModelError(f"{path} is not a model directory (it does not exist or is a file)")
    file = path / MANIFEST
    if not file.is_file():
        raise ModelError(f"{path} is not a model directory: it has no {MANIFEST}")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{file} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or "kind" not in manifest or "format_version" not in manifest:
        raise ModelError(f"{file} is not an imdb-sentiment manifest (no kind or format_version)")
    version = manifest["format_version"]
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ModelError(
            f"{path} uses model format version {version!r}, but this imdb-sentiment reads versions 1 to "
            f"{FORMAT_VERSION}; upgrade imdb-sentiment to load it"
        )
    return manifest


def check_files(path: Path, manifest: dict[str, Any]) -> None:
    """Check that every file the manifest lists is in ``path`` with the recorded SHA-256.

    Raises:
        ModelError: a file is missing or does not match its checksum.
    """
    for name, digest in manifest.get("files", {}).items():
        file = path / name
        if not file.is_file():
            raise ModelError(f"{path} is incomplete: {name} is missing")
        if sha256(file) != digest:
            raise ModelError(f"{path} is damaged: {name} does not match the checksum in {MANIFEST}")


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
