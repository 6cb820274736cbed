"""The contract every model kind follows.

A model kind implements only training and inference (``_fit``, ``_predict_proba``) and how to write and
read its native weights (``_save_weights``, ``_load_weights``), and declares what else it can do
(``explain_options``, ``shows_attention``, ``cheap_calls``, ``set_threads``, ``export_onnx``): the CLI, the
API, batch scoring and the app ask the model, never its kind's name. This base class owns everything else:
input checks, the scikit-learn estimator contract, and atomic saving in the format of
:mod:`imdb_sentiment.models.manifest`.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from imdb_sentiment._atomic import atomic_dir, write_json
from imdb_sentiment.config import Config
from imdb_sentiment.errors import ImdbSentimentError, InputError, ModelError, NotFittedError
from imdb_sentiment.explain.records import Explanation
from imdb_sentiment.labels import LABELS, label_ids
from imdb_sentiment.models.inputs import check_labels, check_texts
from imdb_sentiment.models.manifest import (
    CLAUSES,
    FORMAT_VERSION,
    HISTORY,
    MANIFEST,
    check_files,
    check_save_target,
    file_hashes,
    library_versions,
    loading,
    one_line,
    read_manifest,
)
from imdb_sentiment.models.rating import RatingHead


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
    #: Whether ``fit`` makes use of ``unlabeled`` reviews (``train()`` then passes the 50,000 unlabelled ones);
    #: a kind for which it depends on the config says so in :meth:`wants_unlabeled`.
    uses_unlabeled: ClassVar[bool] = False
    #: Config keys that only change how a fitted model predicts, not what it learned: a saved model can be
    #: copied with other values for them (:func:`~imdb_sentiment.training.reconfigure`). None by default.
    inference_keys: ClassVar[tuple[str, ...]] = ()
    #: Options :meth:`explain` passes on to this kind (a transformer's ``n_steps`` and ``attention``); the
    #: surfaces offer every option and the contract drops those a kind does not take.
    explain_options: ClassVar[frozenset[str]] = frozenset()
    #: Whether scoring a few short reviews costs so little that a server should call the model at once
    #: rather than micro-batch requests (a sparse linear model: yes; a network: no).
    cheap_calls: ClassVar[bool] = False
    #: The star-rating head the model carries, if any (:mod:`imdb_sentiment.models.rating`; fitted by
    #: ``imdb-sentiment train-rating``, saved and loaded with the model).
    rating_head_: RatingHead | None = None
    #: A second, smaller model that reads the short clauses about aspects of a film better than this one
    #: (a review model misreads "not bad" or "should have been funnier" on its own), if any: saved in the
    #: folder's ``clauses/`` (:data:`CLAUSES`) and attached by :func:`~imdb_sentiment.models.registry.load_model`.
    clause_reader_: SentimentModel | None = None

    def __init__(self, *, config: Config | None = None, verbose: bool = False) -> None:
        self.config = config
        self.verbose = verbose

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

    def show_progress(self, enabled: bool) -> None:
        """Show progress bars while scoring, in kinds that take ``verbose`` (one from elsewhere may not)."""
        if "verbose" in self.get_params():
            self.set_params(verbose=enabled)

    @classmethod
    def wants_unlabeled(cls, config: Config | None) -> bool:
        """Whether ``fit`` with ``config`` (defaults if ``None``) learns from unlabelled reviews."""
        return cls.uses_unlabeled

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
        return label_ids(self.predict_proba(texts)[:, 1])

    @property
    def rates(self) -> bool:
        """Whether the model carries a star-rating head (:meth:`predict_proba_and_stars` gives stars)."""
        return self.rating_head_ is not None

    def predict_proba_and_stars(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`predict_proba` and, when the model :attr:`rates`, each review's distribution over
        :data:`~imdb_sentiment.models.rating.STARS` (shape ``(n, 8)``), from one pass of the model."""
        if self.rating_head_ is None:
            return self.predict_proba(texts), None
        proba, features = self.predict_proba_and_features(texts)
        return proba, self.rating_head_.predict_stars(list(texts), proba[:, 1], features)

    def predict_stars(self, texts: Sequence[str], p_positive: np.ndarray | None = None) -> np.ndarray:
        """Each review's distribution over :data:`~imdb_sentiment.models.rating.STARS`, shape ``(n, 8)``.

        Args:
            texts: Reviews.
            p_positive: The model's P(positive) for them when already known (an explanation carries it):
                a head that reads only that (not the model's features) then rates without a second pass.

        Raises:
            ModelError: the model has no rating head.
        """
        head = self.rating_head_
        if head is None:
            raise ModelError("the model has no rating head; add one with `imdb-sentiment train-rating MODEL_DIR`")
        features = None
        if p_positive is None or head.uses_features:
            proba, features = self.predict_proba_and_features(texts)
            p_positive = proba[:, 1] if p_positive is None else p_positive
        return head.predict_stars(list(texts), np.asarray(p_positive, dtype=np.float64), features)

    def predict_proba_and_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`predict_proba` and, from the same pass, each review's features where the kind has them
        (a transformer's last-layer vector at the first token, shape ``(n, hidden)``; ``None`` for kinds
        without): what a rating head reads besides the probability."""
        return self.predict_proba(texts), None

    def unseen_training_rows(self, texts: Sequence[str], labels: np.ndarray) -> np.ndarray:
        """Which of the training reviews ``fit`` did not learn from (a kind that trains on a subset says
        which): a rating head fuses the model's output on these, where it is as sure as on new reviews.
        None by default."""
        return np.zeros(len(texts), dtype=bool)

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
        return self._explain(text, **{k: v for k, v in options.items() if k in self.explain_options})

    @property
    def shows_attention(self) -> bool:
        """Whether :meth:`explain` can attach attention weights (``explain(text, attention=True)``)."""
        return False

    def set_threads(self, n: int | None) -> int | None:
        """Limit the threads one call may use (``None``: the kind's default) and return the previous limit.

        Callers that run several models or batches in parallel set 1 so that workers x threads does not
        oversubscribe the cores; a kind without a thread setting ignores it.
        """
        return None

    def limit_threads(self, n: int | None) -> int | None:
        """:meth:`set_threads` for the model and its clause reader, which reads inside the same calls (what the
        batch engines use); returns the model's previous limit."""
        if self.clause_reader_ is not None:
            self.clause_reader_.set_threads(n)
        return self.set_threads(n)

    def chunk_workers(self, cores: int) -> int:
        """How many chunks the local batch engine should score at once on ``cores`` cores, unless told.

        One per core by default (with :meth:`set_threads` 1 each); a kind whose single call already uses
        every core better than parallel calls do says fewer.
        """
        return cores

    def export_onnx(self, path: str | Path, *, int8: bool = False, keep_weights: str = "") -> Path:
        """Write an ONNX copy of the model to ``path`` that loads like any saved model (kinds that can).

        Raises:
            ModelError: this kind has no ONNX export.
        """
        raise ModelError(f"model kind {self.kind!r} has no ONNX export")

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
            from imdb_sentiment.plots import plot_history

            plot_history(self.history_, folder / "training_curves.png")
        rating = self.rating_head_.save(folder) if self.rating_head_ is not None else None
        clauses = None
        if self.clause_reader_ is not None:
            self.clause_reader_.save(folder / CLAUSES)
            clauses = {"folder": CLAUSES, "kind": self.clause_reader_.kind}
        extra = {**({"rating": rating} if rating else {}), **({"clauses": clauses} if clauses else {})}
        write_json(folder / MANIFEST, {**self._manifest(folder), **extra})

    def _manifest_extra(self) -> dict[str, Any]:
        """Kind-specific manifest entries (e.g. the inference backend); none by default."""
        return {}

    def _load_manifest_extra(self, manifest: dict[str, Any]) -> None:
        """Restore what :meth:`_manifest_extra` wrote, so that a loaded model saves the same entries again."""

    def _manifest(self, folder: Path) -> dict[str, Any]:
        files = file_hashes(folder)
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

        No code from the folder runs and nothing is fetched: weights are read from native formats only
        (never pickle), and the folder must hold exactly the files its manifest lists, all inside it.

        Raises:
            ModelError: the folder is not a saved model of this kind, its format version is unknown, one of
                its files is missing, altered, unlisted, outside the folder or unreadable, or it contains
                itself (a cycle of ensemble members).
        """
        path = Path(path)
        manifest = read_manifest(path)
        if manifest["kind"] != cls.kind:
            raise ModelError(f"{path} holds a {manifest['kind']!r} model, not {cls.kind!r}; use load_model()")
        check_files(path, manifest)
        try:
            model = cls(config=cls.config_class.from_dict(manifest["config"]))
        except (ImdbSentimentError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path / MANIFEST} holds no valid {cls.kind} config ({one_line(exc)})") from exc
        with loading(path):
            try:
                model._load_weights(path)
                model._load_manifest_extra(manifest)
                if "rating" in manifest:
                    model.rating_head_ = RatingHead.load(path, manifest["rating"])
                history = path / HISTORY
                model.history_ = json.loads(history.read_text(encoding="utf-8")) if history.is_file() else {}
            except ImdbSentimentError:
                raise
            except Exception as exc:
                # The files are data from outside: whatever a parser (numpy, safetensors, ONNX Runtime, JSON)
                # raises on them is the folder's fault, and says so in one line (--debug shows the cause).
                raise ModelError(f"{path} could not be loaded: {one_line(exc)}") from exc
        model.classes_ = np.array([0, 1])
        keys = ("metrics", "data_fingerprint", "split", "training", "reconfigured", "build")
        model.info_ = {k: manifest.get(k) for k in keys}
        model.info_["metrics"] = model.info_["metrics"] or {}
        return model
