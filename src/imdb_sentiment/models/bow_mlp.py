"""Kind ``bow-mlp``: the reference model, rebuilt.

The original project's network (bag-of-words input, three dense layers, softmax with categorical
cross-entropy, Adam), kept deliberately simple so that it stays the baseline everything else is measured
against. What changed from the notebook is what the validation split showed to matter: TF-IDF weighting
with sublinear term frequency over words *and* word pairs (so "not good" is a feature), dropout, and early
stopping on validation loss with the best weights restored.

Weights: ``model.keras`` (Keras's native zip of config + weights, loaded with ``safe_mode``),
``vocabulary.json`` (the n-grams, in feature order) and ``idf.npy``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split

from imdb_sentiment.config import Config, require
from imdb_sentiment.explain.records import Explanation, TokenAttribution, check_steps, make_explanation
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.text import TOKEN_PATTERN, preprocess, word_spans

_TOKEN = re.compile(TOKEN_PATTERN)
_WEIGHTS = "model.keras"
_VOCABULARY = "vocabulary.json"
_IDF = "idf.npy"
# Rows densified at once for inference: 512 x 50,000 float32 is 100 MB, a good trade of speed for memory.
_PREDICT_BATCH = 512


@dataclasses.dataclass(frozen=True)
class BowMlpConfig(Config):
    """The reference model: TF-IDF bag of n-grams -> three dense layers -> softmax.

    The defaults were chosen on the validation split carved from train (never on test); see the README.
    """

    #: Size of the n-gram vocabulary, keeping the most frequent terms.
    max_features: int = 100_000
    #: Longest n-gram (1 = words only, 2 = words and word pairs).
    ngram_max: int = 2
    #: A term must occur in at least this many training reviews.
    min_df: int = 2
    #: Use 1 + log(tf) rather than raw counts, so one word repeated ten times does not dominate a review.
    sublinear_tf: bool = True
    #: Widths of the two hidden layers; the softmax output is the third dense layer.
    hidden_units: tuple[int, ...] = (64, 32)
    dropout: float = 0.5
    learning_rate: float = 3e-4
    batch_size: int = 128
    #: Maximum number of epochs; early stopping on validation loss usually ends training much sooner.
    epochs: int = 50
    #: Epochs without a better validation loss before stopping (the best weights are restored).
    patience: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        name = "BowMlpConfig"
        # Accept any sequence (a list from JSON or Python) but store a tuple, so configs stay hashable.
        object.__setattr__(self, "hidden_units", tuple(self.hidden_units))
        require(self.max_features >= 1, name, "max_features must be >= 1")
        require(1 <= self.ngram_max <= 3, name, "ngram_max must be 1, 2 or 3")
        require(self.min_df >= 1, name, "min_df must be >= 1")
        require(len(self.hidden_units) == 2, name, "hidden_units must list exactly two widths (three dense layers)")
        require(all(u >= 1 for u in self.hidden_units), name, "hidden_units must be positive")
        require(0.0 <= self.dropout < 1.0, name, "dropout must be in [0, 1)")
        require(self.learning_rate > 0, name, "learning_rate must be > 0")
        require(self.batch_size >= 1, name, "batch_size must be >= 1")
        require(self.epochs >= 1, name, "epochs must be >= 1")
        require(self.patience >= 0, name, "patience must be >= 0")
        require(0 <= self.seed < 2**32, name, "seed must be in [0, 2**32)")


class BowMlpClassifier(SentimentModel):
    """TF-IDF bag of n-grams -> Dense -> Dense -> Dense(2, softmax), in Keras 3.

    Args:
        config: A :class:`BowMlpConfig` (defaults if ``None``).
        verbose: Show Keras's per-epoch progress while training.

    Attributes:
        vectorizer_: the fitted scikit-learn ``TfidfVectorizer``.
        network_: the trained ``keras.Model``.
    """

    kind: ClassVar[str] = "bow-mlp"
    config_class: ClassVar[type[BowMlpConfig]] = BowMlpConfig
    explain_options: ClassVar[frozenset[str]] = frozenset({"n_steps"})

    def __init__(self, *, config: BowMlpConfig | None = None, verbose: bool = False) -> None:
        super().__init__(config=config)
        self.verbose = verbose

    @property
    def _cfg(self) -> BowMlpConfig:
        cfg = self.resolved_config
        assert isinstance(cfg, BowMlpConfig)
        return cfg

    def _fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        validation: tuple[list[str], np.ndarray] | None,
        unlabeled: list[str],  # the reference model does not use unlabelled reviews
    ) -> dict[str, list[float]]:
        cfg = self._cfg
        keras.utils.set_random_seed(cfg.seed)
        if validation is None:
            # Early stopping needs held-out data; like scikit-learn's MLPClassifier, carve 10% ourselves
            # rather than silently training for the maximum number of epochs.
            texts, val_texts, labels, val_labels = train_test_split(
                texts, labels, test_size=0.1, stratify=labels, random_state=cfg.seed
            )
            validation = (val_texts, val_labels)
        self.vectorizer_ = _make_vectorizer(cfg)
        self._say(f"building the TF-IDF vocabulary from {len(texts):,} reviews ...")
        x = self.vectorizer_.fit_transform(texts)
        x_val = self.vectorizer_.transform(validation[0])
        self._say(f"{x.shape[1]:,} features; training up to {cfg.epochs} epochs (early stopping on validation loss)")
        self.network_ = _build_network(cfg, x.shape[1])
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=cfg.patience, restore_best_weights=True, verbose=int(self.verbose)
            )
        ]
        result = self.network_.fit(
            _Batches(x, labels, batch_size=cfg.batch_size, seed=cfg.seed),
            validation_data=_Batches(x_val, validation[1], batch_size=_PREDICT_BATCH),
            epochs=cfg.epochs,
            callbacks=callbacks,
            # A live progress bar on a terminal; one line per epoch in logs, where a bar would spam.
            verbose=(1 if sys.stdout.isatty() else 2) if self.verbose else 0,
        )
        return {name: [float(v) for v in values] for name, values in result.history.items()}

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        x = self.vectorizer_.transform(texts)
        proba = self.network_.predict(_Batches(x, None, batch_size=_PREDICT_BATCH), verbose=0)
        return _renormalize(np.asarray(proba, dtype=np.float64))

    def _explain(self, text: str, *, n_steps: int = 50, **options: Any) -> Explanation:
        check_steps(n_steps)
        """Integrated gradients (Sundararajan et al. 2017, with Captum) of the log-odds of *positive* over the
        TF-IDF input, from the empty review (all zeros) as baseline; each n-gram's attribution is split over
        its occurrences and, equally, over the words it spans."""
        import torch
        from captum.attr import IntegratedGradients

        x = self.vectorizer_.transform([text])
        columns = x.indices
        dense = torch.zeros((1, x.shape[1]), dtype=torch.float32)
        dense[0, torch.as_tensor(columns, dtype=torch.long)] = torch.as_tensor(x.data, dtype=torch.float32)

        def log_odds(inputs: torch.Tensor) -> torch.Tensor:
            proba = self.network_(inputs, training=False).clamp(1e-7, 1.0)
            return torch.log(proba[:, 1]) - torch.log(proba[:, 0])

        attributions, delta = IntegratedGradients(log_odds).attribute(
            dense, baselines=torch.zeros_like(dense), n_steps=n_steps, return_convergence_delta=True
        )
        per_term = attributions[0, torch.as_tensor(columns, dtype=torch.long)].detach().numpy().astype(np.float64)
        words = word_spans(text)
        # The words as the vectorizer sees them (normalised, lower-cased; rarely one word gives several).
        seen, owner = [], []
        for index, word in enumerate(words):
            for piece in _TOKEN.findall(preprocess(word[0])):
                seen.append(piece)
                owner.append(index)
        names = self.feature_names()
        totals = np.zeros(len(words))
        for column, value in zip(columns, per_term, strict=True):
            term = names[column].split(" ")
            n = len(term)
            hits = [i for i in range(len(seen) - n + 1) if seen[i : i + n] == term]
            for i in hits:
                for j in range(i, i + n):
                    totals[owner[j]] += value / len(hits) / n
        tokens = tuple(
            TokenAttribution(token=w, start=s, end=e, attribution=float(a))
            for (w, s, e), a in zip(words, totals, strict=True)
        )
        return make_explanation(
            text,
            float(self.predict_proba([text])[0, 1]),
            f"integrated gradients over the TF-IDF input ({n_steps} steps, baseline: the empty review)",
            tokens,
            details={
                "baseline": "all-zero TF-IDF vector (the empty review)",
                "n_steps": n_steps,
                "convergence_delta": float(delta[0]),
                "terms": len(columns),
            },
        )

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        """Return the TF-IDF features the network sees (rows: reviews; columns: ``feature_names()``)."""
        self._check_fitted()
        return self.vectorizer_.transform(texts)

    def feature_names(self) -> np.ndarray:
        """The n-grams, in feature-column order."""
        self._check_fitted()
        return self.vectorizer_.get_feature_names_out()

    def _save_weights(self, folder: Path) -> None:
        # Save an uncompiled twin: the Adam moments would triple the file and are useless for inference.
        inference = keras.Model.from_config(self.network_.get_config())
        inference.set_weights(self.network_.get_weights())
        inference.save(folder / _WEIGHTS)
        terms = self.vectorizer_.get_feature_names_out().tolist()
        (folder / _VOCABULARY).write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        np.save(folder / _IDF, self.vectorizer_.idf_.astype(np.float64), allow_pickle=False)

    def _load_weights(self, folder: Path) -> None:
        # safe_mode refuses to deserialise arbitrary Python code (lambda layers) from the file.
        self.network_ = keras.saving.load_model(folder / _WEIGHTS, safe_mode=True, compile=False)
        terms = json.loads((folder / _VOCABULARY).read_text(encoding="utf-8"))
        vectorizer = _make_vectorizer(self._cfg, vocabulary={term: i for i, term in enumerate(terms)})
        vectorizer.idf_ = np.load(folder / _IDF, allow_pickle=False)
        self.vectorizer_ = vectorizer


def _make_vectorizer(cfg: BowMlpConfig, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        preprocessor=preprocess,
        token_pattern=TOKEN_PATTERN,
        lowercase=False,  # preprocess() already lower-cases, after normalising
        ngram_range=(1, cfg.ngram_max),
        min_df=cfg.min_df,
        max_features=cfg.max_features,
        sublinear_tf=cfg.sublinear_tf,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


def _build_network(cfg: BowMlpConfig, n_features: int) -> keras.Model:
    inputs = keras.Input(shape=(n_features,), name="tfidf")
    hidden = inputs
    for i, units in enumerate(cfg.hidden_units, start=1):
        hidden = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(hidden)
        hidden = keras.layers.Dropout(cfg.dropout, seed=cfg.seed + i, name=f"dropout_{i}")(hidden)
    outputs = keras.layers.Dense(2, activation="softmax", name="sentiment")(hidden)
    network = keras.Model(inputs, outputs, name="bow_mlp")
    network.compile(
        optimizer=keras.optimizers.Adam(learning_rate=cfg.learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return network


def _renormalize(proba: np.ndarray) -> np.ndarray:
    # The network computes in float32; re-normalising in float64 makes each row sum to 1 to ~1e-16.
    return proba / proba.sum(axis=1, keepdims=True)


class _Batches(keras.utils.PyDataset):
    """Feeds a sparse TF-IDF matrix to Keras a batch at a time.

    The PyTorch backend has no sparse inputs, and 25,000 x 50,000 dense float32 would be 5 GB, so rows
    are densified per batch. Training batches are reshuffled every epoch from a seeded generator.
    """

    def __init__(self, x: sp.csr_matrix, labels: np.ndarray | None, *, batch_size: int, seed: int | None = None):
        super().__init__()
        self.x = x
        self.targets = None if labels is None else np.eye(2, dtype=np.float32)[np.asarray(labels)]
        self.batch_size = batch_size
        self.rng = None if seed is None else np.random.default_rng(seed)
        self.order = np.arange(x.shape[0])
        self.on_epoch_end()

    def __len__(self) -> int:
        return math.ceil(self.x.shape[0] / self.batch_size)

    def __getitem__(self, index: int) -> Any:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        batch = self.x[rows].toarray()
        return batch if self.targets is None else (batch, self.targets[rows])

    def on_epoch_end(self) -> None:
        if self.rng is not None:
            self.order = self.rng.permutation(self.x.shape[0])
