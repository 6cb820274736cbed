"""imdb-sentiment: tell whether a movie review is positive or negative, and show why.

The public surface is small::

    from imdb_sentiment import load_imdb, train, load_model

    data = load_imdb()                       # the Large Movie Review Dataset as DataFrames
    model = train("ngram", out="models/ngram")   # the default kind; also "bow-mlp", "transformer", "ensemble"
    model.predict_proba(["A triumph.", "Two hours I will never get back."])  # columns [negative, positive]
    model = load_model("models/ngram")
    model.explain("Not bad at all.")         # which words pushed the prediction, and how much

Keras runs on the PyTorch backend unless ``KERAS_BACKEND`` says otherwise, so one tensor library serves
Keras and the transformer models.
"""

from __future__ import annotations

import os

# Must happen before anything imports keras; setdefault keeps a user's KERAS_BACKEND choice.
os.environ.setdefault("KERAS_BACKEND", "torch")

from imdb_sentiment.config import BowMlpConfig, EnsembleConfig, NgramConfig, SplitConfig, TransformerConfig
from imdb_sentiment.data import ImdbData, load_imdb
from imdb_sentiment.errors import (
    ConfigError,
    DataError,
    ImdbSentimentError,
    InputError,
    ModelError,
    NotFittedError,
)
from imdb_sentiment.explain import Explanation, TokenAttribution
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.registry import available_kinds, get_model_class, load_model
from imdb_sentiment.training import train

__version__ = "0.1.0"

__all__ = [
    "BowMlpConfig",
    "ConfigError",
    "DataError",
    "EnsembleConfig",
    "Explanation",
    "ImdbData",
    "ImdbSentimentError",
    "InputError",
    "ModelError",
    "NgramConfig",
    "NotFittedError",
    "SentimentModel",
    "SplitConfig",
    "TokenAttribution",
    "TransformerConfig",
    "__version__",
    "available_kinds",
    "get_model_class",
    "load_imdb",
    "load_model",
    "train",
]


def __getattr__(name: str) -> object:
    # Model classes are imported on first use: importing Keras or torch takes seconds, and
    # `imdb-sentiment --help` or `load_imdb()` should not pay for it.
    if name == "BowMlpClassifier":
        return get_model_class("bow-mlp")
    if name == "NgramClassifier":
        return get_model_class("ngram")
    if name == "TransformerClassifier":
        return get_model_class("transformer")
    if name == "EnsembleClassifier":
        return get_model_class("ensemble")
    raise AttributeError(f"module 'imdb_sentiment' has no attribute {name!r}")
