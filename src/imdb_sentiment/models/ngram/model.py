"""Kind ``ngram``: the default model. Naive-Bayes-weighted binary n-grams with logistic regression.

The NBSVM family (Wang & Manning 2012, "Baselines and Bigrams"): each review is a binary bag of word
1-3-grams; every feature is scaled by its Naive Bayes log-count ratio ``r = log(p / q)`` (how much more
often it occurs in positive than in negative reviews, smoothed), and a linear classifier is trained on the
scaled features. Because both steps are linear, the trained model collapses into one weight per feature,
``w * r``, and scoring a review is a sum of weights over the distinct n-grams it contains: inference is
tokenising plus a sparse dot product, run on vectorised NumPy (:mod:`imdb_sentiment.models.ngram.features`).

N-grams are hashed into ``2**n_bits`` columns instead of kept in a vocabulary: no vocabulary to build,
store or look up, and the weights file has a fixed size.

Weights: ``weights.npz`` (``feature_weights``, ``nb_ratio``, ``idf``, ``intercept``), plain compressed arrays.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from imdb_sentiment.config import Config, require
from imdb_sentiment.errors import ModelError
from imdb_sentiment.explain.records import Explanation, TokenAttribution, make_explanation
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.inputs import check_texts
from imdb_sentiment.models.ngram.features import binary_features, binary_scores, ngram_columns, tokenize_batch
from imdb_sentiment.text import word_spans

T = TypeVar("T")

_WEIGHTS = "weights.npz"
# Reviews featurised per task: big enough to amortise NumPy's per-call cost, small enough to stay in cache.
_CHUNK = 512


def _norms(values: np.ndarray) -> np.ndarray:
    # A review with no n-grams at all (empty text) has norm 0; leave its (zero) score alone.
    return np.where(values > 0, values, 1.0)


@dataclasses.dataclass(frozen=True)
class NgramConfig(Config):
    """The default model: NB-weighted binary hashed n-grams with logistic regression (NBSVM's family).

    The defaults were chosen on the validation split carved from train (never on test); see the README.
    """

    #: Longest word n-gram (1-3).
    ngram_max: int = 3
    #: log2 of the number of hashed feature columns (24 -> 16,777,216 columns). Chosen by 5-fold CV on
    #: train: 22 bits 91.80%, 24 bits 91.92%, 25 bits 91.88% (fewer hash collisions among the millions of
    #: distinct 1-3-grams, until the rarest ones are too sparse to help); the saved model is ~54 MB.
    n_bits: int = 24
    #: Laplace smoothing of the Naive Bayes log-count ratios.
    alpha: float = 4.0
    #: Also scale each column by its inverse document frequency to this power (0: off). Document
    #: frequencies count the training reviews and, with ``use_unlabeled``, the 50,000 unlabelled ones.
    idf_power: float = 1.5
    #: Count document frequencies over the unlabelled reviews too (when ``fit`` is given them).
    use_unlabeled: bool = True
    #: Scale each review's weighted feature vector to unit length (L2).
    normalize: bool = True
    #: Inverse regularisation strength of the logistic regression.
    C: float = 100.0
    #: Maximum liblinear iterations.
    max_iter: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        name = "NgramConfig"
        require(1 <= self.ngram_max <= 3, name, "ngram_max must be 1, 2 or 3")
        require(10 <= self.n_bits <= 26, name, "n_bits must be in [10, 26]")
        require(self.alpha > 0, name, "alpha must be > 0")
        require(0 <= self.idf_power <= 4, name, "idf_power must be in [0, 4]")
        require(self.C > 0, name, "C must be > 0")
        require(self.max_iter >= 1, name, "max_iter must be >= 1")
        require(0 <= self.seed < 2**32, name, "seed must be in [0, 2**32)")


class NgramClassifier(SentimentModel):
    """NB-weighted hashed n-grams + logistic regression.

    Args:
        config: A :class:`NgramConfig` (defaults if ``None``).
        n_jobs: Threads for featurising (``None``: all cores). Does not change results.
        verbose: Print what training is doing.

    Attributes:
        feature_weights_: ``(2**n_bits,)`` float64, the weight of each hashed n-gram column towards
            *positive* (the logistic regression's coefficient times ``nb_ratio_``); a review's logit is
            ``intercept_`` plus the sum of the weights of the distinct columns it contains.
        nb_ratio_: ``(2**n_bits,)`` the Naive Bayes log-count ratios ``r``.
        idf_: ``(2**n_bits,)`` inverse document frequencies (labelled + unlabelled reviews).
        feature_scale_: ``r * idf_**idf_power``, what each column is scaled by before the regression;
            with ``normalize`` each review's logit is divided by the L2 norm of this scale over its
            distinct columns.
        intercept_: the logistic regression's intercept.
    """

    kind: ClassVar[str] = "ngram"
    config_class: ClassVar[type[NgramConfig]] = NgramConfig
    refit_with_validation: ClassVar[bool] = True
    uses_unlabeled: ClassVar[bool] = True
    cheap_calls: ClassVar[bool] = True

    def __init__(self, *, config: NgramConfig | None = None, n_jobs: int | None = None, verbose: bool = False):
        super().__init__(config=config)
        self.n_jobs = n_jobs
        self.verbose = verbose

    def set_threads(self, n: int | None) -> int | None:
        previous, self.n_jobs = self.n_jobs, n
        return previous

    @property
    def _cfg(self) -> NgramConfig:
        cfg = self.resolved_config
        assert isinstance(cfg, NgramConfig)
        return cfg

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        """The binary hashed n-gram matrix of ``texts``, shape ``(n, 2**n_bits)``."""
        return sp.vstack(self._map_chunks(self._features, texts), format="csr")

    def _features(self, texts: list[str]) -> sp.csr_matrix:
        return binary_features(texts, ngram_max=self._cfg.ngram_max, n_bits=self._cfg.n_bits)

    def _map_chunks(self, function: Callable[[list[str]], T], texts: list[str]) -> list[T]:
        """Apply ``function`` to consecutive chunks of ``texts`` on a pool of threads, in order."""
        chunks = [texts[i : i + _CHUNK] for i in range(0, len(texts), _CHUNK)] or [texts]
        workers = min(self.n_jobs or os.cpu_count() or 1, len(chunks))
        if workers == 1:
            return [function(chunk) for chunk in chunks]
        # NumPy and SciPy release the GIL in the heavy steps, so threads use every core without copying
        # the reviews into other processes.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(function, chunks))

    def _fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        validation: tuple[list[str], np.ndarray] | None,
        unlabeled: list[str],
    ) -> dict[str, list[float]]:
        cfg = self._cfg
        self._say(f"hashing 1-{cfg.ngram_max}-grams of {len(texts):,} reviews into {1 << cfg.n_bits:,} columns ...")
        x = self.transform(texts)
        positive = np.asarray(x[labels == 1].sum(axis=0)).ravel() + cfg.alpha
        negative = np.asarray(x[labels == 0].sum(axis=0)).ravel() + cfg.alpha
        self.nb_ratio_ = np.log((positive / positive.sum()) / (negative / negative.sum()))
        doc_freq = np.asarray(x.sum(axis=0)).ravel()
        n_docs = x.shape[0]
        if cfg.use_unlabeled and unlabeled:
            # Unlabelled reviews say which n-grams are common in movie reviews at large, which the
            # labelled ones alone estimate poorly for rare n-grams.
            self._say(f"counting document frequencies over {len(unlabeled):,} unlabelled reviews ...")
            doc_freq = doc_freq + np.asarray(self.transform(unlabeled).sum(axis=0)).ravel()
            n_docs += len(unlabeled)
        self.idf_ = np.log((n_docs + 1) / (doc_freq + 1)) + 1
        self.feature_scale_ = self._scale()
        scaled = x @ sp.diags(self.feature_scale_)
        if cfg.normalize:
            # Unit length per review, so that a long review is not more confident just for being long.
            scaled = sp.diags(1.0 / _norms(np.sqrt(scaled.multiply(scaled).sum(axis=1).A1))) @ scaled
        self._say(f"fitting logistic regression (C={cfg.C}) on {x.nnz:,} non-zeros ...")
        classifier = LogisticRegression(
            C=cfg.C, solver="liblinear", dual=True, max_iter=cfg.max_iter, random_state=cfg.seed
        )
        classifier.fit(scaled, labels)
        self.intercept_ = float(classifier.intercept_[0])
        self.feature_weights_ = classifier.coef_.ravel() * self.feature_scale_
        self._score_table = self._table()
        return {}

    def _scale(self) -> np.ndarray:
        # What each column is multiplied by before the logistic regression; derived, never stored, so
        # that fit and load compute it identically.
        return self.nb_ratio_ * self.idf_**self._cfg.idf_power

    def _table(self) -> np.ndarray:
        # Per column: its weight and, for the per-review L2 norm, its squared scale, packed as one
        # complex number so that scoring gathers both in one memory access (see binary_scores).
        if not self._cfg.normalize:
            return self.feature_weights_
        return self.feature_weights_ + 1j * self.feature_scale_**2

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """The logit of *positive* for each review (float64)."""
        self._check_fitted()
        items = check_texts(texts, allow_empty=True)
        return self._all_logits(items) if items else np.zeros(0)

    def _all_logits(self, texts: list[str]) -> np.ndarray:
        return np.concatenate(self._map_chunks(self._logits, texts))

    def _logits(self, texts: list[str]) -> np.ndarray:
        # Score each chunk where it was featurised: no large matrix is ever assembled.
        scores = binary_scores(texts, self._score_table, ngram_max=self._cfg.ngram_max)
        if not self._cfg.normalize:
            return scores + self.intercept_
        return scores.real / _norms(np.sqrt(scores.imag)) + self.intercept_

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        logits = self._all_logits(texts)
        positive = 1.0 / (1.0 + np.exp(-logits))
        return np.column_stack((1.0 - positive, positive))

    def _explain(self, text: str, **options: Any) -> Explanation:
        """Exact contributions: every distinct n-gram adds its weight (divided by the review's norm) to the
        logit; each n-gram's share is split over its occurrences and, equally, over the words it spans.
        They add up, with the intercept, to the model's logit (``details["logit"]``)."""
        cfg = self._cfg
        words = word_spans(text)
        hashes, owner = (
            tokenize_batch([w[0] for w in words]) if words else (np.zeros(0, np.uint64), np.zeros(0, np.int64))
        )
        _, columns = ngram_columns(hashes, np.zeros(len(hashes), dtype=np.int64), ngram_max=cfg.ngram_max,
                                   n_bits=cfg.n_bits)  # fmt: skip
        # ngram_columns lists the unigrams, then the bigrams, ...: recover each one's first token and order.
        first = np.concatenate([np.arange(max(len(hashes) - n + 1, 0)) for n in range(1, cfg.ngram_max + 1)])
        order = np.concatenate([np.full(max(len(hashes) - n + 1, 0), n) for n in range(1, cfg.ngram_max + 1)])
        distinct, counts = np.unique(columns, return_counts=True)
        norm = float(np.sqrt((self.feature_scale_[distinct] ** 2).sum())) if cfg.normalize else 1.0
        norm = norm or 1.0
        per_occurrence = self.feature_weights_[columns] / norm / counts[np.searchsorted(distinct, columns)]
        totals = np.zeros(len(words))
        for start, n, value in zip(first, order, per_occurrence, strict=True):
            np.add.at(totals, owner[start : start + n], value / n)
        tokens = tuple(
            TokenAttribution(token=w, start=s, end=e, attribution=float(a))
            for (w, s, e), a in zip(words, totals, strict=True)
        )
        logit = self.intercept_ + float(totals.sum())
        return make_explanation(
            text,
            float(self.predict_proba([text])[0, 1]),
            "exact linear contributions (weight x feature value, n-grams split over their words)",
            tokens,
            details={"intercept": self.intercept_, "logit": logit, "norm": norm, "distinct_ngrams": len(distinct)},
        )

    def _save_weights(self, folder: Path) -> None:
        # Compressed: columns no training review hashed to have weight 0 and a constant ratio.
        np.savez_compressed(
            folder / _WEIGHTS,
            feature_weights=self.feature_weights_,
            nb_ratio=self.nb_ratio_,
            idf=self.idf_,
            intercept=np.array([self.intercept_]),
        )

    def _load_weights(self, folder: Path) -> None:
        file = folder / _WEIGHTS
        n = 1 << self._cfg.n_bits
        shapes = {"feature_weights": (n,), "nb_ratio": (n,), "idf": (n,), "intercept": (1,)}
        try:
            with np.load(file, allow_pickle=False) as arrays:
                loaded = {name: arrays[name] for name in shapes}
        except KeyError as exc:
            raise ModelError(f"{file} lacks the array {exc}") from None
        except ValueError:  # numpy refuses a pickled (object) array, or a file that is not an .npz at all
            raise ModelError(f"{file} is not an .npz of plain arrays (pickled data is never loaded)") from None
        for name, shape in shapes.items():
            if loaded[name].shape != shape or loaded[name].dtype.kind != "f":
                raise ModelError(f"{file}: {name} is {loaded[name].dtype} {loaded[name].shape}, expected float {shape}")
        self.feature_weights_ = loaded["feature_weights"]
        self.nb_ratio_ = loaded["nb_ratio"]
        self.idf_ = loaded["idf"]
        self.intercept_ = float(loaded["intercept"][0])
        self.feature_scale_ = self._scale()
        self._score_table = self._table()
