"""The walkthrough notebook's settings: how many reviews it uses, which models it trains and compares.

Read from the environment so that the same notebook runs in seconds in tests and CI
(``IMDB_NOTEBOOK_SAMPLE``) and on the full data for the numbers in the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from imdb_sentiment.config import Config
from imdb_sentiment.data import ImdbData, stratified_sample
from imdb_sentiment.errors import ConfigError, ImdbSentimentError
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.manifest import MANIFEST
from imdb_sentiment.models.registry import get_model_class, load_model

#: Environment variable: train and test on seeded stratified samples of this many reviews each.
SAMPLE_ENV = "IMDB_NOTEBOOK_SAMPLE"
#: Environment variable: the folder whose saved models the notebook also compares (default ``models``).
MODELS_ENV = "IMDB_NOTEBOOK_MODELS"
#: Epoch cap for kinds that train in epochs, on a sample, so a quick run stays quick (early stopping still applies).
SAMPLED_EPOCHS = 10


def notebook_sample(environ: Mapping[str, str] | None = None) -> int | None:
    """Read ``IMDB_NOTEBOOK_SAMPLE``: how many train and test reviews the notebook uses.

    Args:
        environ: Where to read it (default: ``os.environ``).

    Returns:
        The sample size, or ``None`` (the full data) when the variable is unset or empty.

    Raises:
        ConfigError: the value is not a whole number >= 2 (a stratified sample needs one review per class).
    """
    raw = (os.environ if environ is None else environ).get(SAMPLE_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 2:
        raise ConfigError(
            f"{SAMPLE_ENV} must be a whole number of reviews >= 2 (e.g. {SAMPLE_ENV}=400), got {raw!r}; "
            "unset it to use the full data"
        )
    return value


def notebook_splits(data: ImdbData, sample: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train and test reviews the notebook uses: all of them, or seeded stratified samples.

    The train sample is exactly the one ``train(kind, limit=sample)`` fits on (same function, same seed),
    so the peer and the library's models learn from the same reviews.

    Args:
        data: The loaded dataset.
        sample: Reviews per split (``None``: all).

    Returns:
        ``(train, test)`` frames.
    """
    train, test = data.reviews("train"), data.reviews("test")
    if sample is None:
        return train, test
    seed = data.split.seed
    return stratified_sample(train, sample, seed=seed), stratified_sample(test, sample, seed=seed)


def notebook_config(kind: str, sample: int | None) -> Config:
    """The config the notebook trains ``kind`` with: its defaults, with the epochs of a kind that trains in
    epochs (its config has an ``epochs`` field) capped at :data:`SAMPLED_EPOCHS` when training on a sample.

    Args:
        kind: A registered model kind.
        sample: Reviews per split (``None``: all of them, and the defaults as they are).

    Returns:
        The config.

    Raises:
        ConfigError: unknown kind.
    """
    config = get_model_class(kind).config_class()
    # Asked of the config, not of the kind's name, so that a new kind that trains in epochs is capped too.
    epochs = getattr(config, "epochs", None)
    if sample is not None and epochs is not None:
        config = config.replace(epochs=min(epochs, SAMPLED_EPOCHS))
    return config


def models_folder(environ: Mapping[str, str] | None = None) -> Path:
    """The folder whose saved models the notebook compares: ``IMDB_NOTEBOOK_MODELS``, else ``models``
    (relative to the working directory).

    Args:
        environ: Where to read ``IMDB_NOTEBOOK_MODELS`` (default: ``os.environ``).

    Returns:
        The folder (it may not exist).
    """
    return Path((os.environ if environ is None else environ).get(MODELS_ENV) or "models").expanduser()


def load_saved_models(folder: str | Path) -> tuple[dict[str, SentimentModel], dict[str, str]]:
    """Load every saved model directly under ``folder`` (each a sub-folder with a ``manifest.json``).

    Nested folders are not searched: an ensemble embeds its members, and exports kept under a sub-folder
    are not meant to be compared one by one. A model that cannot be loaded (damaged, or an optional
    backend that is not installed) is reported, not raised, so the notebook goes on without it.

    Args:
        folder: Where to look; a folder that does not exist holds no models.

    Returns:
        ``(models, skipped)``: sub-folder name -> loaded model, in name order; sub-folder name -> why
        it was not loaded.
    """
    root = Path(folder).expanduser()
    models: dict[str, SentimentModel] = {}
    skipped: dict[str, str] = {}
    if not root.is_dir():
        return models, skipped
    for path in sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file()):
        try:
            models[path.name] = load_model(path)
        except (ImdbSentimentError, ImportError, OSError) as exc:
            skipped[path.name] = str(exc) or type(exc).__name__
    return models, skipped
