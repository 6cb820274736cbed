"""Limits of the app, from ``IMDB_SENTIMENT_*`` environment variables (the same names as the HTTP API's).

Plain ``os.environ`` parsing rather than pydantic-settings: the app's extra installs only Streamlit.
"""

from __future__ import annotations

import dataclasses
import os

from imdb_sentiment.errors import ConfigError

ENV_PREFIX = "IMDB_SENTIMENT_"


@dataclasses.dataclass(frozen=True)
class UiSettings:
    """What one person may ask of the app at once."""

    #: Most characters in one review (``IMDB_SENTIMENT_MAX_CHARS``), in the text box and in an uploaded file.
    max_chars: int = 100_000
    #: Largest uploaded file, in MB of 2**20 bytes (``IMDB_SENTIMENT_MAX_UPLOAD_MB``).
    max_upload_mb: int = 50
    #: Reviews scored per step of the batch progress bar (``IMDB_SENTIMENT_BATCH_CHUNK``).
    batch_chunk: int = 256

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{field.name} must be a whole number >= 1, got {value!r}")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 2**20


def settings_from_env() -> UiSettings:
    """Read :class:`UiSettings` from the environment; unset variables keep their defaults.

    Raises:
        ConfigError: a variable is not a whole number >= 1; the message names it.
    """
    values = {}
    for field in dataclasses.fields(UiSettings):
        name = ENV_PREFIX + field.name.upper()
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ConfigError(f"bad app setting in the environment: {name}={raw!r}; expected a whole number >= 1")
        values[field.name] = value
    return UiSettings(**values)
