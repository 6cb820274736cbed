"""The contract every model kind follows, and the saved-model format.

A model kind implements only training and inference (``_fit``, ``_predict_proba``) and how to write and
read its native weights (``_save_weights``, ``_load_weights``). This base class owns everything else:
input checks, the scikit-learn estimator contract, the manifest and atomic saving.

A saved model is a folder::

    manifest.json     format version, kind, labels, config, metrics, data fingerprint, versions, file hashes
    history.json      per-epoch training metrics (for kinds that train in epochs)
    training_curves.png
    <weights>         native files only (.keras, .npz, safetensors, ONNX): never pickle
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from imdb_sentiment._atomic import atomic_dir, write_json
from imdb_sentiment.config import Config
from imdb_sentiment.errors import InputError, ModelError, NotFittedError
from imdb_sentiment.explain import Explanation

#: Bump when the folder layout or manifest changes incompatibly; ``load`` refuses newer versions.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
HISTORY = "history.json"
#: Column order of ``predict_proba`` and meaning of the integer labels 0 and 1.
LABELS: tuple[str, str] = ("negative", "positive")

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


class SentimentModel(ABC, ClassifierMixin, BaseEstimator):
    """Base class of every sentiment model.

    Follows scikit-learn's estimator contract: the keyword-only constructor only stores its arguments,
    ``fit`` returns ``self``, fitted state ends in ``_``, and an unfitted model raises
    :class:`~imdb_sentiment.errors.NotFittedError`. Labels are integers, 0 = negative, 1 = positive.

    Attributes set by ``fit`` (and restored by ``load``):
        classes_: ``array([0, 1])``.
        history_: per-epoch training metrics (``{"loss": [...], "val_loss": [...], ...}``), maybe empty.
        info_: provenance stored in the manifest: ``metrics`` (by split), ``data_fingerprint``, ``split``,
            ``training`` and, for a copy made with other inference settings, ``reconfigured``.
    """

    #: Registry name of the kind, e.g. ``"bow-mlp"``.
    kind: ClassVar[str]
    #: The config dataclass this kind is built from.
    config_class: ClassVar[type[Config]]
    #: Whether ``train()`` should refit on train + validation once validation metrics are taken. True for
    #: kinds that use validation only for reporting (no early stopping): more data, same hyperparameters.
    refit_with_validation: ClassVar[bool] = False
    #: Whether ``fit`` makes use of ``unlabeled`` reviews (``train()`` then passes the 50,000 unlabelled ones).
    uses_unlabeled: ClassVar[bool] = False
    #: Config keys that only change how a fitted model predicts, not what it learned: a saved model can be
    #: copied with other values for them (:func:`~imdb_sentiment.training.reconfigure`). None by default.
    inference_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, config: Config | None = None) -> None:
        self.config = config

    # ----------------------------------------------------------------------------- to implement
    @abstractmethod
    def _fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        validation: tuple[list[str], np.ndarray] | None,
        unlabeled: list[str],
    ) -> dict[str, list[float]]:
        """Train on checked inputs (``unlabeled`` may be empty); return the per-epoch history (or ``{}``)."""

    @abstractmethod
    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        """Return float64 probabilities of shape ``(n, 2)``, columns ``[negative, positive]``."""

    @abstractmethod
    def _save_weights(self, folder: Path) -> None:
        """Write the fitted state as native files into ``folder`` (an empty temporary folder)."""

    @abstractmethod
    def _load_weights(self, folder: Path) -> None:
        """Restore the fitted state written by ``_save_weights``."""

    @classmethod
    def check_config(cls, config: Config | None) -> None:
        """Raise :class:`~imdb_sentiment.errors.ConfigError` if ``config`` cannot be trained as it is.

        Called by :func:`~imdb_sentiment.training.train` before the dataset is loaded, so that a config
        which is valid on its own but unusable (an ensemble without members) fails at once.
        """

    # ----------------------------------------------------------------------------- the contract
    @property
    def resolved_config(self) -> Config:
        """The config in force: the one given, or the kind's defaults."""
        return self.config if self.config is not None else self.config_class()

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[int] | np.ndarray,
        *,
        validation: tuple[Sequence[str], Sequence[int] | np.ndarray] | None = None,
        unlabeled: Sequence[str] | None = None,
    ) -> Self:
        """Train the model.

        Args:
            texts: Training reviews (a list, array or Series of strings, not one bare string).
            labels: 0 (negative) or 1 (positive) per review.
            validation: Optional ``(texts, labels)`` used for early stopping and model selection.
            unlabeled: Optional reviews without labels, for kinds that learn from them
                (``uses_unlabeled``); never pass test reviews here.

        Returns:
            ``self``.

        Raises:
            InputError: texts or labels are malformed, or only one class is present.
        """
        if not isinstance(self.resolved_config, self.config_class):
            raise InputError(
                f"{type(self).__name__} expects a {self.config_class.__name__}, got {type(self.config).__name__}"
            )
        x = check_texts(texts)
        y = check_labels(labels, len(x))
        if len(np.unique(y)) < 2:
            raise InputError("training needs reviews of both classes (labels 0 and 1); got only one")
        val = None
        if validation is not None:
            vx = check_texts(validation[0], what="validation texts")
            val = (vx, check_labels(validation[1], len(vx), what="validation labels"))
        extra = check_texts(unlabeled, what="unlabeled texts", allow_empty=True) if unlabeled is not None else []
        self.classes_ = np.array([0, 1])
        # A kind whose fitting already scored the validation reviews with the weights it keeps (a
        # transformer's best epoch) leaves those probabilities here, so train() need not score them again.
        self.validation_proba_: np.ndarray | None = None
        self.validation_seconds_: float | None = None
        self.history_ = self._fit(x, y, val, extra)
        self.info_: dict[str, Any] = {"metrics": {}}
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Return the probability of each class, shape ``(n, 2)``, columns ``[negative, positive]``.

        Raises:
            NotFittedError: the model has not been fitted or loaded.
            InputError: ``texts`` is a bare string or contains non-strings.
        """
        self._check_fitted()
        x = check_texts(texts, allow_empty=True)
        if not x:
            return np.zeros((0, 2))
        return self._predict_proba(x)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Return the predicted label per review: 0 (negative) or 1 (positive)."""
        return self.predict_proba(texts).argmax(axis=1)

    def explain(self, text: str, **options: Any) -> Explanation:
        """Explain the prediction for one review: which words pushed it towards *positive* or *negative*.

        Attributions are contributions to the log-odds of *positive*, on the review's words (see
        :mod:`imdb_sentiment.explain`); how they are computed depends on the kind (``Explanation.method``).

        Args:
            text: One review.
            **options: Kind-specific settings (a transformer's ``n_steps`` and ``attention``).

        Raises:
            NotFittedError: the model has not been fitted or loaded.
            InputError: ``text`` is not a non-empty string.
        """
        self._check_fitted()
        if not isinstance(text, str):
            raise InputError(f"explain() takes one review as a string, got {type(text).__name__}")
        if not text.strip():
            raise InputError("the review to explain is empty")
        return self._explain(text, **options)

    def _explain(self, text: str, **options: Any) -> Explanation:
        raise ModelError(f"model kind {self.kind!r} cannot explain its predictions")

    def _say(self, message: str) -> None:
        """Report training progress on stderr when the model was built with ``verbose=True``."""
        if getattr(self, "verbose", False):
            print(message, file=sys.stderr, flush=True)

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(texts, labels) or load a saved model"
            )

    # ----------------------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Save the model to the folder ``path``, replacing any model already there.

        The new model is written to a temporary folder beside ``path`` and swapped in only when complete,
        so an interrupted save leaves the previous model intact.

        Returns:
            The folder written.
        """
        self._check_fitted()
        path = check_save_target(path)
        with atomic_dir(path) as tmp:
            self._save_weights(tmp)
            self._write_metadata(tmp)
        return path

    def _write_metadata(self, folder: Path) -> None:
        """Write the history, its plot and (last, as it hashes every other file) the manifest into ``folder``."""
        if self.history_:
            write_json(folder / HISTORY, self.history_)
            from imdb_sentiment.evaluate import plot_history

            plot_history(self.history_, folder / "training_curves.png")
        write_json(folder / MANIFEST, self._manifest(folder))

    def _manifest_extra(self) -> dict[str, Any]:
        """Kind-specific manifest entries (e.g. the inference backend); none by default."""
        return {}

    def _load_manifest_extra(self, manifest: dict[str, Any]) -> None:
        """Restore what :meth:`_manifest_extra` wrote, so that a loaded model saves the same entries again."""

    def _manifest(self, folder: Path) -> dict[str, Any]:
        files = {
            p.relative_to(folder).as_posix(): _sha256(p)
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p != folder / MANIFEST
        }
        return {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "labels": list(LABELS),
            "config": self.resolved_config.to_dict(),
            "metrics": self.info_.get("metrics", {}),
            "data_fingerprint": self.info_.get("data_fingerprint"),
            "split": self.info_.get("split"),
            "training": self.info_.get("training"),
            **({"reconfigured": self.info_["reconfigured"]} if self.info_.get("reconfigured") else {}),
            # How the shipped model was built and chosen (bench/pretrained.py), kept through a re-save.
            **({"build": self.info_["build"]} if self.info_.get("build") else {}),
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "versions": library_versions(),
            **self._manifest_extra(),
            "files": files,
        }

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Load a model saved by :meth:`save`.

        Raises:
            ModelError: the folder is not a saved model of this kind, its format version is unknown,
                or one of its files is missing or altered.
        """
        path = Path(path)
        manifest = read_manifest(path)
        if manifest["kind"] != cls.kind:
            raise ModelError(f"{path} holds a {manifest['kind']!r} model, not {cls.kind!r}; use load_model()")
        for name, digest in manifest.get("files", {}).items():
            file = path / name
            if not file.is_file():
                raise ModelError(f"{path} is incomplete: {name} is missing")
            if _sha256(file) != digest:
                raise ModelError(f"{path} is damaged: {name} does not match the checksum in {MANIFEST}")
        model = cls(config=cls.config_class.from_dict(manifest["config"]))
        model._load_weights(path)
        model._load_manifest_extra(manifest)
        model.classes_ = np.array([0, 1])
        history = path / HISTORY
        model.history_ = json.loads(history.read_text(encoding="utf-8")) if history.is_file() else {}
        keys = ("metrics", "data_fingerprint", "split", "training", "reconfigured", "build")
        model.info_ = {k: manifest.get(k) for k in keys}
        model.info_["metrics"] = model.info_["metrics"] or {}
        return model


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


def check_texts(texts: Iterable[str], *, what: str = "texts", allow_empty: bool = False) -> list[str]:
    """Return ``texts`` as a list of ``str``, rejecting the classic mistake of passing one bare string.

    Raises:
        InputError: ``texts`` is a string, not iterable, empty (unless allowed) or holds non-strings.
    """
    if isinstance(texts, str | bytes):
        raise InputError(
            f"{what} must be a list of reviews, not a single string; wrap it in a list: [{_preview(texts)}]"
        )
    try:
        items = list(texts)
    except TypeError:
        raise InputError(f"{what} must be a list of strings, got {type(texts).__name__}") from None
    if not items and not allow_empty:
        raise InputError(f"{what} is empty; give at least one review")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InputError(f"{what}[{i}] is a {type(item).__name__}, expected a string (the review text)")
    return items


def check_labels(labels: Iterable[Any], n: int, *, what: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int array of 0/1 with ``n`` entries.

    Raises:
        InputError: the length differs from ``n`` or a label is not 0 or 1.
    """
    if isinstance(labels, str | bytes):
        raise InputError(f"{what} must be a list of 0/1 labels, not a single string")
    values = np.asarray(list(labels), dtype=object)
    if len(values) != n:
        raise InputError(f"got {n} texts but {len(values)} {what}; give one label per review")
    bad = [v for v in values if not (isinstance(v, int | np.integer) and not isinstance(v, bool) and v in (0, 1))]
    if bad:
        raise InputError(f"{what} must be 0 (negative) or 1 (positive); got {bad[0]!r}")
    return values.astype(np.int64)


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a saved model depends on."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _preview(text: str | bytes, width: int = 30) -> str:
    text = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return repr(text if len(text) <= width else text[:width] + "...")
