"""Limits of the HTTP API and the app, from ``IMDB_SENTIMENT_*`` environment variables (pydantic-settings).

Both surfaces read the same variables the same way (``IMDB_SENTIMENT_MAX_CHARS`` is one limit for a
review typed in the app and one sent to the API), and a bad value fails with one line that names it.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from imdb_sentiment.errors import ConfigError

ENV_PREFIX = "IMDB_SENTIMENT_"


class _EnvSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    @classmethod
    def from_env(cls) -> Self:
        """Read the settings from the environment; unset variables keep their defaults.

        Raises:
            ConfigError: a variable is not a whole number or is out of range; the message names it.
        """
        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(f"bad setting in the environment: {problems}") from None


class ServeSettings(_EnvSettings):
    """Limits of the HTTP API (e.g. ``IMDB_SENTIMENT_MAX_TEXTS``)."""

    max_chars: int = Field(default=100_000, ge=1, description="Most characters in one review.")
    max_texts: int = Field(default=256, ge=1, description="Most reviews in one predict request.")
    max_body_bytes: int = Field(default=16 * 2**20, ge=1, description="Largest request body, in bytes.")


class UiSettings(_EnvSettings):
    """What one person may ask of the app at once."""

    max_chars: int = Field(default=100_000, ge=1, description="Most characters in one review or uploaded row.")
    max_upload_mb: int = Field(default=50, ge=1, description="Largest uploaded file, in MB of 2**20 bytes.")
    batch_chunk: int = Field(default=256, ge=1, description="Reviews scored per step of the batch progress bar.")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 2**20
