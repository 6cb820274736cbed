"""Star ratings: a head any sentiment model can carry that turns a review into a distribution over 1-10 stars.

IMDb's labelled reviews carry their author's rating in the file name: 1-4 stars (negative) or 7-10
(positive), never 5 or 6. The head predicts a distribution over those eight values in two stages:

1. **text**: a ridge regression of the stars on hashed word 1-2-gram presence (the ``ngram`` kind's
   features, L2-normalised), fitted on every training review. It knows *how* good or bad ("masterpiece"
   vs "pretty good"), which the classifier's probability does not say.
2. **fusion**: a multinomial logistic regression over the eight star values on the text score, the
   classifier's log-odds and their squares and product, and (for a model that gives them: a transformer)
   the leading principal components of the network's features (its last-layer vector at the first
   token, which says more about *how* sure it is than one log-odds does; on validation they took the
   shipped model's MAE from 1.195 to 1.130 stars), and the score the review states for itself, if it
   states one ("8/10": :mod:`~imdb_sentiment.models.stated_rating`). It is fitted on reviews the
   classifier did *not* train on, with the text score cross-fitted (each review scored by a ridge fitted
   without it), so that no input is trusted more than it deserves on new reviews.

The predicted rating is the distribution's median (the value that minimises the expected absolute error;
on validation it beat the mean by 0.06 stars MAE); groups use the whole distribution
(:mod:`imdb_sentiment.audience.groups`). Mixed reviews get a spread-out distribution whose median falls
on the side the evidence leans to; nothing ever predicts 5 or 6, since no review was rated so.

The head also scores *clauses* (the part of a sentence about one aspect, for
:mod:`imdb_sentiment.audience`): a logistic regression on the clause's 1-2-grams and the review's
log-odds, distilled from the model itself run on clauses of training reviews. Running the network once
per clause would cost more than the reviews themselves; the distilled scorer costs next to nothing and
leans on the review's verdict only where the clause's words say little.

The weights are one ``rating.npz`` of plain arrays in the model folder, listed in its manifest under
``"rating"``; :func:`attach_rating` adds one to a saved model without touching its other files.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.preprocessing import normalize

from imdb_sentiment._atomic import atomic_dir, write_json
from imdb_sentiment.config import Config, require
from imdb_sentiment.errors import InputError, ModelError
from imdb_sentiment.models.manifest import MANIFEST, check_files, check_save_target, file_hashes, read_manifest
from imdb_sentiment.models.stated_rating import STATED, stated_columns

#: The star values of IMDb's labelled reviews, the columns of :meth:`RatingHead.predict_stars`.
STARS: tuple[int, ...] = (1, 2, 3, 4, 7, 8, 9, 10)
#: The file holding a head's weights in a model folder.
RATING_FILE = "rating.npz"
_STARS = np.array(STARS)
_ARRAYS = (
    "text_coef",
    "text_intercept",
    "fuse_coef",
    "fuse_intercept",
    "stars",
    "clause_coef",
    "clause_intercept",
    "feature_center",
    "feature_projection",
)
#: Inputs of the fusion stage besides the stated score and the feature components (:func:`_fusion_inputs`).
_BASE_INPUTS = 6


@dataclasses.dataclass(frozen=True)
class RatingConfig(Config):
    """Settings of a rating head (chosen on the validation split; see docs/audience.md)."""

    #: Longest word n-gram of the text stage.
    ngram_max: int = 2
    #: log2 of the number of hashed feature columns of the text stage (2**18 weights: 1 MB).
    n_bits: int = 18
    #: Ridge penalty of the text stage.
    alpha: float = 0.5
    #: Inverse penalty of the fusion stage.
    c: float = 1.0
    #: Principal components of the model's features the fusion reads (0: none; a model without features
    #: gets none whatever this says). For the shipped 4-layer student, with the stated score, validation
    #: MAE 1.021 / 1.016 / 1.003 / 0.997 / 0.996 stars with 32 / 64 / 128 / 192 / all 384 (64 was chosen
    #: for the 6-layer model before it; a multilayer perceptron or gradient boosting in place of the
    #: logistic regression did worse: 1.11, 1.05).
    features: int = 192
    #: Read the score a review states in its text ("8/10"; :mod:`~imdb_sentiment.models.stated_rating`):
    #: validation MAE 1.016 against 1.079 stars (0.408 against 1.052 on the 267 reviews that state one).
    stated: bool = True
    #: Folds of the cross-fitting that scores the fusion reviews with a text stage that did not see them.
    folds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        require(1 <= self.ngram_max <= 3, name, "ngram_max must be 1, 2 or 3")
        require(10 <= self.n_bits <= 24, name, "n_bits must be between 10 and 24")
        require(self.alpha > 0 and self.c > 0, name, "alpha and c must be > 0")
        require(self.folds >= 2, name, "folds must be >= 2")
        require(0 <= self.features <= 1024, name, "features must be between 0 and 1024")


def _log_odds(p_positive: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p_positive, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _fusion_inputs(text_score: np.ndarray, p_positive: np.ndarray) -> np.ndarray:
    # Squares and the product let a linear model bend: a strong log-odds means 1 or 10 stars only when the
    # words agree, and the text score saturates near the ends of the scale.
    r, lg = np.asarray(text_score, dtype=np.float64), _log_odds(p_positive)
    return np.column_stack([r, r * r / 10, lg, lg * lg / 10, r * lg / 10, np.tanh(lg)])


def _vstack(a: Any, b: Any) -> Any:
    import scipy.sparse as sp

    return sp.vstack([a, b], format="csr")


def median_stars(stars: np.ndarray) -> np.ndarray:
    """The median star of each row of a :meth:`RatingHead.predict_stars` distribution (an integer 1-10)."""
    return _STARS[(np.cumsum(stars, axis=1) >= 0.5 - 1e-9).argmax(axis=1)]


def positive_mass(stars: np.ndarray) -> np.ndarray:
    """Each row's probability of a positive rating (7-10 stars: IMDb's rule for a positive review)."""
    return np.asarray(stars[:, _STARS >= 7].sum(axis=1), dtype=np.float64)


def expected_stars(stars: np.ndarray) -> np.ndarray:
    """The mean star of each row of a distribution."""
    return np.asarray(stars @ _STARS, dtype=np.float64)


class RatingHead:
    """Predicts 1-10 star distributions from review texts and a classifier's P(positive) (see the module)."""

    def __init__(self, config: RatingConfig | None = None) -> None:
        self.config = config or RatingConfig()
        self.info_: dict[str, Any] = {}

    def _features(self, texts: Sequence[str]) -> Any:
        from imdb_sentiment.models.ngram.features import binary_features

        cfg = self.config
        return normalize(binary_features(list(texts), ngram_max=cfg.ngram_max, n_bits=cfg.n_bits).astype(np.float32))

    def fit(
        self,
        texts: Sequence[str],
        ratings: Sequence[int] | np.ndarray,
        p_positive: np.ndarray,
        fusion: np.ndarray,
        features: np.ndarray | None = None,
    ) -> Self:
        """Fit both stages.

        Args:
            texts: Training reviews.
            ratings: Their stars (values of :data:`STARS`).
            p_positive: The classifier's P(positive) per review (used where ``fusion`` is true).
            fusion: Boolean mask of the reviews the classifier did not train on: the fusion stage's data.
            features: The model's features per review (rows where ``fusion`` is true are used), or ``None``.

        Raises:
            InputError: lengths differ, a rating is not one of :data:`STARS`, or fewer than 100 fusion reviews.
        """
        y = np.asarray(ratings)
        fusion = np.asarray(fusion, dtype=bool)
        if not len(texts) == len(y) == len(p_positive) == len(fusion):
            raise InputError("texts, ratings, p_positive and the fusion mask must have the same length")
        if features is not None and (features.ndim != 2 or len(features) != len(y)):
            raise InputError("features must be one row per review")
        if not np.isin(y, _STARS).all():
            raise InputError(f"ratings must be among {STARS}")
        if fusion.sum() < 100 or len(np.unique(y[fusion])) < len(STARS):
            raise InputError("the fusion stage needs at least 100 reviews the classifier did not train on, every star")
        cfg = self.config
        x = self._features(texts)
        cross = np.zeros(len(y))
        folds = KFold(cfg.folds, shuffle=True, random_state=cfg.seed)
        for fit_rows, held_out in folds.split(x):
            cross[held_out] = (
                Ridge(alpha=cfg.alpha, solver="sparse_cg").fit(x[fit_rows], y[fit_rows]).predict(x[held_out])
            )
        text = Ridge(alpha=cfg.alpha, solver="sparse_cg").fit(x, y)
        self.text_coef_ = np.asarray(text.coef_, dtype=np.float32)
        self.text_intercept_ = float(text.intercept_)
        if features is not None and cfg.features:
            self._fit_projection(np.asarray(features, dtype=np.float64)[fusion], cfg.features)
        inputs = self._all_inputs(
            [texts[int(i)] for i in np.flatnonzero(fusion)],
            cross[fusion],
            np.asarray(p_positive)[fusion],
            None if features is None else features[fusion],
        )
        fuse = LogisticRegression(C=cfg.c, max_iter=3000).fit(inputs, y[fusion])
        self.fuse_coef_ = np.asarray(fuse.coef_, dtype=np.float64)
        self.fuse_intercept_ = np.asarray(fuse.intercept_, dtype=np.float64)
        self.info_ = {"reviews": len(y), "fusion_reviews": int(fusion.sum()), "feature_components": self.n_components}
        return self

    def _fit_projection(self, features: np.ndarray, k: int) -> None:
        """Standardise the features and keep their ``k`` leading principal components, scaled so that the
        first has unit variance: one centre and one matrix, applied as ``(f - centre) @ projection``."""
        from sklearn.decomposition import PCA

        mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-6
        k = min(k, features.shape[1], len(features) - 1)
        pca = PCA(k, random_state=self.config.seed).fit((features - mean) / scale)
        self.feature_center_ = mean + scale * pca.mean_
        self.feature_projection_ = (pca.components_ / scale).T / np.sqrt(pca.explained_variance_[0])

    @property
    def n_components(self) -> int:
        """How many feature components the fusion reads (0: it reads none)."""
        projection = getattr(self, "feature_projection_", None)
        return 0 if projection is None else int(projection.shape[1])

    @property
    def uses_features(self) -> bool:
        """Whether rating needs the model's features (:meth:`SentimentModel.predict_proba_and_features`)."""
        return self.n_components > 0

    def _all_inputs(
        self, texts: Sequence[str], text_score: np.ndarray, p_positive: np.ndarray, features: np.ndarray | None
    ) -> np.ndarray:
        base = _fusion_inputs(text_score, p_positive)
        if self.config.stated:
            base = np.column_stack([base, stated_columns(texts)])
        if not self.uses_features:
            return base
        if features is None:
            raise ModelError(
                "this rating head reads the model's features, which were not given (rate through the model: "
                "predict_proba_and_stars), or the model's graph does not give them (export it again)"
            )
        if features.ndim != 2 or features.shape[1] != self.feature_center_.shape[0]:
            raise ModelError(f"the rating head expects {self.feature_center_.shape[0]} features per review")
        return np.column_stack(
            [base, (np.asarray(features, dtype=np.float64) - self.feature_center_) @ self.feature_projection_]
        )

    def predict_stars(
        self, texts: Sequence[str], p_positive: np.ndarray, features: np.ndarray | None = None
    ) -> np.ndarray:
        """Each review's probability of each of :data:`STARS`, shape ``(n, 8)``, rows summing to 1.

        Raises:
            ModelError: the head is not fitted, or reads features and none (or the wrong number) are given.
        """
        if not hasattr(self, "fuse_coef_"):
            raise ModelError("this rating head is not fitted")
        if len(texts) == 0:
            return np.zeros((0, len(STARS)))
        text_score = self._features(texts) @ self.text_coef_ + self.text_intercept_
        logits = self._all_inputs(texts, text_score, p_positive, features) @ self.fuse_coef_.T + self.fuse_intercept_
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def fit_clauses(self, clauses: Sequence[str], review_p: np.ndarray, teacher_p: np.ndarray) -> Self:
        """Distil the model's P(positive) on clauses (``teacher_p``) into a linear clause scorer that also
        sees the P(positive) of the review each clause comes from (``review_p``)."""
        x = self._clause_inputs(clauses, review_p)
        target = np.asarray(teacher_p, dtype=np.float64)
        # Soft targets: each clause twice, as positive weighted by the teacher's p and as negative by 1 - p.
        fitted = LogisticRegression(C=self.config.c * 4, max_iter=2000).fit(
            _vstack(x, x), np.r_[np.ones(len(target)), np.zeros(len(target))], sample_weight=np.r_[target, 1 - target]
        )
        self.clause_coef_ = np.asarray(fitted.coef_[0], dtype=np.float32)
        self.clause_intercept_ = float(fitted.intercept_[0])
        self.info_["clauses"] = len(target)
        return self

    @property
    def scores_clauses(self) -> bool:
        """Whether :meth:`predict_clauses` is fitted."""
        return hasattr(self, "clause_coef_")

    def predict_clauses(self, clauses: Sequence[str], review_p: np.ndarray) -> np.ndarray:
        """P(positive) of each clause, given the P(positive) of its review."""
        if not self.scores_clauses:
            raise ModelError("this rating head has no clause scorer")
        if len(clauses) == 0:
            return np.zeros(0)
        z = self._clause_inputs(clauses, review_p) @ self.clause_coef_ + self.clause_intercept_
        return np.asarray(1 / (1 + np.exp(-z)), dtype=np.float64)

    def _clause_inputs(self, clauses: Sequence[str], review_p: np.ndarray) -> Any:
        import scipy.sparse as sp

        review = sp.csr_matrix(_log_odds(review_p).reshape(-1, 1) / 4)
        return sp.hstack([self._features(clauses), review], format="csr")

    # ----------------------------------------------------------------------------- persistence
    def save(self, folder: Path) -> dict[str, Any]:
        """Write :data:`RATING_FILE` into ``folder``; return the manifest entry that describes it."""
        arrays: dict[str, np.ndarray] = {
            "text_coef": self.text_coef_,
            "text_intercept": np.array([self.text_intercept_]),
            "fuse_coef": self.fuse_coef_,
            "fuse_intercept": self.fuse_intercept_,
            "stars": _STARS,
        }
        if self.scores_clauses:
            arrays |= {"clause_coef": self.clause_coef_, "clause_intercept": np.array([self.clause_intercept_])}
        if self.uses_features:
            arrays |= {"feature_center": self.feature_center_, "feature_projection": self.feature_projection_}
        np.savez(folder / RATING_FILE, **arrays)  # type: ignore[arg-type]
        return {"file": RATING_FILE, "stars": list(STARS), "config": self.config.to_dict(), **self.info_}

    @classmethod
    def load(cls, folder: Path, entry: dict[str, Any]) -> RatingHead:
        """Read a head that :meth:`save` wrote (its manifest entry says which config built it).

        Raises:
            ModelError: the entry or the arrays are not a rating head's.
        """
        if not isinstance(entry, dict) or entry.get("file") != RATING_FILE or entry.get("stars") != list(STARS):
            raise ModelError(f"{folder / MANIFEST} has a 'rating' entry this imdb-sentiment cannot read")
        # A head saved before the stated score was read has no "stated" in its config, and no weights for it.
        head = cls(RatingConfig.from_dict({"stated": False, **entry.get("config", {})}))
        with np.load(folder / RATING_FILE, allow_pickle=False) as w:
            arrays = {k: w[k] for k in w.files if k in _ARRAYS}
        if missing := [k for k in _ARRAYS[:5] if k not in arrays]:
            raise ModelError(f"{folder / RATING_FILE} lacks {', '.join(missing)}")
        n_cols, k = 2**head.config.n_bits, len(STARS)
        projection = arrays.get("feature_projection")
        n_features, n_components = projection.shape if projection is not None and projection.ndim == 2 else (0, 0)
        shapes = {
            "text_coef": (n_cols,),
            "text_intercept": (1,),
            "fuse_coef": (k, _BASE_INPUTS + len(STATED) * head.config.stated + n_components),
            "fuse_intercept": (k,),
        }
        if "clause_coef" in arrays or "clause_intercept" in arrays:
            shapes |= {"clause_coef": (n_cols + 1,), "clause_intercept": (1,)}
        if "feature_projection" in arrays or "feature_center" in arrays:
            shapes |= {"feature_center": (n_features,), "feature_projection": (n_features, n_components)}
        for name, shape in shapes.items():
            if name not in arrays or arrays[name].shape != shape or arrays[name].dtype.kind != "f":
                raise ModelError(f"{folder / RATING_FILE}: {name} is not a float array of shape {shape}")
        if not np.array_equal(arrays["stars"], _STARS):
            raise ModelError(f"{folder / RATING_FILE} rates other stars than {STARS}")
        head.text_coef_ = arrays["text_coef"].astype(np.float32)
        head.text_intercept_ = float(arrays["text_intercept"][0])
        head.fuse_coef_ = arrays["fuse_coef"].astype(np.float64)
        head.fuse_intercept_ = arrays["fuse_intercept"].astype(np.float64)
        if "clause_coef" in arrays:
            head.clause_coef_ = arrays["clause_coef"].astype(np.float32)
            head.clause_intercept_ = float(arrays["clause_intercept"][0])
        if n_components:
            head.feature_center_ = arrays["feature_center"].astype(np.float64)
            head.feature_projection_ = arrays["feature_projection"].astype(np.float64)
        keep = ("reviews", "fusion_reviews", "feature_components", "clauses", "metrics")
        head.info_ = {k: v for k, v in entry.items() if k in keep}
        return head


def attach_rating(model_dir: str | Path, head: RatingHead, out: str | Path | None = None) -> Path:
    """Write a copy of the saved model ``model_dir`` with ``head`` (to ``out``, default in place).

    The model's own files are copied byte for byte; only :data:`RATING_FILE` and the manifest (its
    ``"rating"`` entry and file hashes) change. The write is atomic: an interruption leaves the old folder.
    """
    source = Path(model_dir)
    manifest = read_manifest(source)
    check_files(source, manifest)
    dest = check_save_target(out) if out is not None else source
    with atomic_dir(dest) as tmp:
        shutil.rmtree(tmp)
        shutil.copytree(source, tmp, symlinks=False)
        (tmp / RATING_FILE).unlink(missing_ok=True)
        manifest["rating"] = head.save(tmp)
        (tmp / MANIFEST).unlink()
        manifest["files"] = file_hashes(tmp)
        write_json(tmp / MANIFEST, manifest)
    return dest
