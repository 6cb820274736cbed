"""Kind name -> model class.

Kinds are listed as import paths and imported on first use, so listing kinds or loading the dataset does
not import Keras or torch. A new kind plugs in by adding one line here; the CLI, the app and the API only
ever go through :func:`get_model_class` and :func:`load_model`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from imdb_sentiment.errors import ConfigError, ModelError
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.manifest import CLAUSES, MANIFEST, read_manifest

# Lightest to import first: class_named() imports kinds in this order until it finds the name.
_KINDS: dict[str, str] = {
    "ngram": "imdb_sentiment.models.ngram:NgramClassifier",
    "ensemble": "imdb_sentiment.models.ensemble:EnsembleClassifier",
    "transformer": "imdb_sentiment.models.transformer:TransformerClassifier",
    "bow-mlp": "imdb_sentiment.models.bow_mlp:BowMlpClassifier",
}

#: The kind `make run` and the CLI train when none is named.
DEFAULT_KIND = "ngram"


def register_kind(kind: str, target: str) -> None:
    """Make the model class at ``target`` (``"package.module:ClassName"``) available as ``kind``.

    For kinds that live outside this package (a plug-in, a test); the built-in kinds are listed above.

    Raises:
        ConfigError: ``target`` is not of the form ``module:Class``, or ``kind`` is taken by another class.
    """
    module_name, _, class_name = target.partition(":")
    if not module_name or not class_name.isidentifier():
        raise ConfigError(f"a model kind's target is 'package.module:ClassName', got {target!r}")
    if _KINDS.get(kind, target) != target:
        raise ConfigError(f"model kind {kind!r} is already registered to {_KINDS[kind]}")
    _KINDS[kind] = target


def available_kinds() -> list[str]:
    """Names of every registered model kind."""
    return sorted(_KINDS)


def class_named(name: str) -> type | None:
    """The registered model class or model config class called ``name`` (``imdb_sentiment.<Name>``), or None.

    Kinds whose libraries are not installed (Keras on a slim install) are passed over.
    """
    for kind in _KINDS:
        try:
            cls = get_model_class(kind)
        except ImportError:
            continue
        for candidate in (cls, cls.config_class):
            if candidate.__name__ == name:
                return candidate
    return None


def get_model_class(kind: str) -> type[SentimentModel]:
    """Return the model class registered as ``kind``.

    Raises:
        ConfigError: no kind of that name is registered.
    """
    try:
        module_name, _, class_name = _KINDS[kind].partition(":")
    except KeyError:
        raise ConfigError(f"unknown model kind {kind!r}; available kinds: {', '.join(available_kinds())}") from None
    cls: type[SentimentModel] = getattr(importlib.import_module(module_name), class_name)
    return cls


def load_model(path: str | Path | None = None) -> SentimentModel:
    """Load any saved model, dispatching on the ``kind`` in its manifest.

    Args:
        path: A saved model folder, or ``"pretrained"`` (also ``None``) for the model shipped in the package.

    Raises:
        ModelError: ``path`` is not a saved model, or its kind or format version is unknown.
    """
    from imdb_sentiment.pretrained import resolve

    path = resolve(path)
    manifest = read_manifest(path)
    kind = manifest["kind"]
    if kind not in _KINDS:
        raise ModelError(
            f"{path} holds a model of kind {kind!r}, which this imdb-sentiment does not know "
            f"(known: {', '.join(available_kinds())}); upgrade imdb-sentiment"
        )
    model = get_model_class(kind).load(path)
    entry = manifest.get("clauses")
    if entry is not None:
        # Only the one fixed sub-folder: a manifest cannot point the loader anywhere else.
        if not isinstance(entry, dict) or entry.get("folder") != CLAUSES:
            raise ModelError(f"{path / MANIFEST}: its 'clauses' entry must name the folder {CLAUSES!r}")
        model.clause_reader_ = load_model(path / CLAUSES)
    return model
