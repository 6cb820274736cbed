"""Kind ``ensemble``: saved models combined by a logistic-regression stacker over their logits.

The stacker (one weight per member and an intercept) is fitted on the validation reviews only: members
were trained on the rest of train, so their validation logits are honest. A member that was refitted on
train + validation after its validation figures were taken (``refit_with_validation``, e.g. ``ngram``) has
seen those reviews; for the stacker, the ensemble fits a fresh copy of it with the same config on the
training reviews it is given, and uses that copy's validation logits. Its weight then applies to the
saved member.

The saved folder embeds a copy of every member (``members/0``, ``members/1``, ...), so it can be moved
and loaded on its own; ``stacker.json`` holds the weights.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from imdb_sentiment._atomic import write_json
from imdb_sentiment.config import Config, require
from imdb_sentiment.errors import ConfigError, InputError, ModelError
from imdb_sentiment.explain.records import Explanation, make_explanation
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.inputs import check_texts
from imdb_sentiment.models.manifest import one_line, read_manifest

_STACKER = "stacker.json"
_MEMBERS = "members"


def member_logits(model: SentimentModel, texts: list[str]) -> np.ndarray:
    """The log-odds of *positive* that ``model`` gives each review (from its probabilities, clipped)."""
    positive = np.clip(model.predict_proba(texts)[:, 1], 1e-7, 1 - 1e-7)
    return np.log(positive / (1 - positive))


@dataclasses.dataclass(frozen=True)
class EnsembleConfig(Config):
    """Saved models combined by a logistic-regression stacker over their logits, fitted on validation only."""

    #: Folders of saved models to combine (at least two).
    members: tuple[str, ...] = ()
    #: ``stacker``: learned weights per member; ``mean``: the average of the members' logits.
    method: str = "stacker"
    #: Inverse regularisation strength of the stacker.
    C: float = 1.0

    def __post_init__(self) -> None:
        name = "EnsembleConfig"
        object.__setattr__(self, "members", tuple(self.members))
        require(len(self.members) != 1, name, "members must list at least two saved models")
        require(self.method in ("stacker", "mean"), name, "method must be stacker or mean")
        require(self.C > 0, name, "C must be > 0")


class EnsembleClassifier(SentimentModel):
    """A weighted sum of saved models' logits.

    Args:
        config: An :class:`EnsembleConfig` naming the member folders.
        verbose: Say what fitting is doing.

    Attributes:
        members_: the loaded member models, in config order.
        weights_: one weight per member (on its logit), and ``intercept_``.
    """

    kind: ClassVar[str] = "ensemble"
    config_class: ClassVar[type[EnsembleConfig]] = EnsembleConfig
    # A member refitted for the stacker (see the module docstring) may learn from unlabelled reviews.
    uses_unlabeled: ClassVar[bool] = True
    # Every option goes to every member, and each member's contract keeps those its kind takes.
    explain_options: ClassVar[frozenset[str]] = frozenset({"n_steps", "attention"})

    def __init__(self, *, config: EnsembleConfig | None = None, verbose: bool = False):
        super().__init__(config=config)
        self.verbose = verbose

    @property
    def _cfg(self) -> EnsembleConfig:
        cfg = self.resolved_config
        assert isinstance(cfg, EnsembleConfig)
        return cfg

    def _fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        validation: tuple[list[str], np.ndarray] | None,
        unlabeled: list[str],
    ) -> dict[str, list[float]]:
        from imdb_sentiment.models.registry import load_model

        cfg = self._cfg
        self.check_config(cfg)
        from imdb_sentiment.pretrained import resolve

        # "pretrained" names the shipped model; the folder it resolves to is what gets embedded.
        self._member_paths = [resolve(m) for m in cfg.members]
        self.members_ = [load_model(path) for path in self._member_paths]
        if cfg.method == "mean":
            self.weights_ = np.full(len(self.members_), 1.0 / len(self.members_))
            self.intercept_ = 0.0
            return {}
        if validation is None:
            raise ConfigError("the stacker is fitted on validation reviews; train with a validation split")
        val_texts, val_labels = validation
        if len(np.unique(val_labels)) < 2:
            raise InputError("the stacker needs validation reviews of both classes; got only one")
        columns = []
        for path, member in zip(self._member_paths, self.members_, strict=True):
            refit = (read_manifest(path).get("split") or {}).get("refit_with_validation", False)
            if refit:
                self._say(f"{path}: refitted on validation, so fitting a copy on the training reviews only ...")
                member = type(member)(config=member.config).fit(texts, labels, unlabeled=unlabeled or None)
            self._say(f"{path}: scoring {len(val_texts):,} validation reviews ...")
            columns.append(member_logits(member, val_texts))
        from sklearn.linear_model import LogisticRegression

        features = np.column_stack(columns)
        stacker = LogisticRegression(C=cfg.C).fit(features, val_labels)
        # The saved members may have seen the validation reviews (a refitted ngram), and the stacker is
        # fitted on them: the honest validation figure is the stacker's 5-fold cross-validated prediction
        # over the members' honest logits. train() reports it instead of re-scoring validation.
        from sklearn.model_selection import cross_val_predict

        folds = min(5, int(np.bincount(val_labels).min()))
        if folds >= 2:
            self.validation_proba_ = cross_val_predict(
                LogisticRegression(C=cfg.C), features, val_labels, cv=folds, method="predict_proba"
            )
        self.weights_ = stacker.coef_.ravel().astype(np.float64)
        self.intercept_ = float(stacker.intercept_[0])
        self._say("stacker weights: " + ", ".join(f"{w:.3f}" for w in self.weights_))
        return {}

    @classmethod
    def check_config(cls, config: Any) -> None:
        if config is None or len(config.members) < 2:
            raise ConfigError("an ensemble needs at least two saved models: --set members=DIR1,DIR2")

    def members_logits(self, texts: Sequence[str]) -> np.ndarray:
        """Each member's log-odds of *positive*, ``(n_reviews, n_members)``: what the ensemble combines, so
        that members and ensemble can be compared on one scoring pass (``combine`` gives the ensemble's)."""
        self._check_fitted()
        items = check_texts(texts, allow_empty=True)
        return np.column_stack([member_logits(m, items) for m in self.members_])

    def combine(self, logits: np.ndarray) -> np.ndarray:
        """The ensemble's logit of *positive* from :meth:`members_logits`."""
        return np.asarray(logits) @ self.weights_ + self.intercept_

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """The ensemble's logit of *positive* for each review."""
        return self.combine(self.members_logits(texts))

    @property
    def shows_attention(self) -> bool:
        return any(member.shows_attention for member in self.members_)

    def chunk_workers(self, cores: int) -> int:
        return min(member.chunk_workers(cores) for member in self.members_)

    def set_threads(self, n: int | None) -> int | None:
        previous = [member.set_threads(n) for member in self.members_]
        return next((p for p in previous if p is not None), None)

    def _explain(self, text: str, **options: Any) -> Explanation:
        """The members' word attributions (all in log-odds of *positive*, on the same words), combined with
        the stacker's weights, as the ensemble's logit combines the members' logits."""
        parts = [member.explain(text, **options) for member in self.members_]
        totals = sum(w * np.array([t.attribution for t in p.tokens]) for w, p in zip(self.weights_, parts, strict=True))
        tokens = tuple(
            dataclasses.replace(t, attribution=float(a))
            for t, a in zip(parts[0].tokens, np.atleast_1d(totals), strict=True)
        )
        extra = {k: getattr(p, k) for p in parts if p.attention is not None for k in ("pieces", "attention")}
        return make_explanation(
            text,
            float(self.predict_proba([text])[0, 1]),
            "weighted sum of the members' attributions ("
            + "; ".join(f"{w:.3f} x {m.kind}" for w, m in zip(self.weights_, self.members_, strict=True))
            + ")",
            tokens,
            details={
                "intercept": self.intercept_,
                "members": [
                    {"kind": m.kind, "weight": float(w), "method": p.method, "p_positive": p.p_positive}
                    for m, w, p in zip(self.members_, self.weights_, parts, strict=True)
                ],
            },
            **extra,
        )

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        positive = 1.0 / (1.0 + np.exp(-self.decision_function(texts)))
        return np.column_stack((1.0 - positive, positive))

    def _save_weights(self, folder: Path) -> None:
        # The members as loaded, not their folders as they are now: a folder may have been retrained since.
        for i, member in enumerate(self.members_):
            member.save(folder / _MEMBERS / str(i))
        write_json(
            folder / _STACKER,
            {
                "members": [str(p) for p in getattr(self, "_member_paths", [])],
                "method": self._cfg.method,
                "weights": self.weights_.tolist(),
                "intercept": self.intercept_,
            },
        )

    def _load_weights(self, folder: Path) -> None:
        from imdb_sentiment.models.registry import load_model

        try:
            stacker: dict[str, Any] = json.loads((folder / _STACKER).read_text(encoding="utf-8"))
            self.weights_ = np.asarray(stacker["weights"], dtype=np.float64)
            self.intercept_ = float(stacker["intercept"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{folder / _STACKER} is missing or malformed ({one_line(exc)})") from None
        if self.weights_.ndim != 1 or not np.isfinite([*self.weights_, self.intercept_]).all():
            raise ModelError(f"{folder / _STACKER} must hold one finite weight per member and a finite intercept")
        try:
            found = [p for p in (folder / _MEMBERS).iterdir() if p.is_dir() and p.name.isdigit()]
        except OSError as exc:
            raise ModelError(f"{folder} has no readable {_MEMBERS}/ folder ({exc})") from None
        self._member_paths = sorted(found, key=lambda p: int(p.name))
        self.members_ = [load_model(path) for path in self._member_paths]
        if len(self.members_) != len(self.weights_):
            raise ModelError(f"{folder} has {len(self.members_)} members but {len(self.weights_)} weights")
