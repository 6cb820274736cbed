"""The tiny saved model the HTTP API tests serve (test_serve_overload.py, test_serve_security.py)."""

from __future__ import annotations

from pathlib import Path

from conftest import make_toy_reviews
from imdb_sentiment import NgramConfig, get_model_class


def tiny_ngram(root: Path) -> Path:
    """Train an n-gram model on 80 toy reviews and save it as ``root/ngram``; return that folder."""
    texts, labels = make_toy_reviews(80, seed=0)
    path = root / "ngram"
    get_model_class("ngram")(config=NgramConfig(n_bits=14)).fit(texts, labels).save(path)
    return path
