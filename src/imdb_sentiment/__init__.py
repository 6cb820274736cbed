"""imdb-sentiment: tell whether a movie review is positive or negative, and show why.

The public surface is small::

    from imdb_sentiment import load_imdb, train, load_model

    data = load_imdb()                       # the Large Movie Review Dataset as DataFrames
    model = load_model()                     # the pretrained model shipped in the package
    model.predict_proba(["A triumph.", "Two hours I will never get back."])  # columns [negative, positive]
    model = train(kind, out="models/mine")   # kind: one of available_kinds()
    model = load_model("models/mine")
    model.explain("Not bad at all.")         # which words pushed the prediction, and how much
    summarize_texts(rated_model, texts, groups)  # per group: share positive, stars, aspects (a rating head)
    summarize(rated_model, "reviews.csv", "out/")  # the same for a file of any size: CSVs and a report

Keras runs on the PyTorch backend unless ``KERAS_BACKEND`` says otherwise, so one tensor library serves
Keras and the transformer models.
"""

from __future__ import annotations

import os

# Must happen before anything imports keras; setdefault keeps a user's KERAS_BACKEND choice.
os.environ.setdefault("KERAS_BACKEND", "torch")

from imdb_sentiment.audience.summarize import summarize
from imdb_sentiment.audience.summarize_texts import summarize_texts
from imdb_sentiment.config import SplitConfig
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
from imdb_sentiment.models.registry import available_kinds, class_named, get_model_class, load_model
from imdb_sentiment.training import train

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "Explanation",
    "ImdbData",
    "ImdbSentimentError",
    "InputError",
    "ModelError",
    "NotFittedError",
    "SentimentModel",
    "SplitConfig",
    "TokenAttribution",
    "__version__",
    "available_kinds",
    "get_model_class",
    "load_imdb",
    "load_model",
    "summarize",
    "summarize_texts",
    "train",
]


def __getattr__(name: str) -> object:
    # Each kind's model class and config (``<Kind>Classifier``, ``<Kind>Config``) is looked up in the
    # registry and imported on first use: importing Keras or torch takes seconds, and
    # `imdb-sentiment --help` or `load_imdb()` should not pay for it. Nothing here names a kind.
    cls = class_named(name) if name.endswith(("Classifier", "Config")) else None
    if cls is not None:
        return cls
    raise AttributeError(f"module 'imdb_sentiment' has no attribute {name!r}")
