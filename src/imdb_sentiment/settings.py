"""Limits of the HTTP API and the app, from ``IMDB_SENTIMENT_*`` environment variables (pydantic-settings).

Both surfaces read the same variables the same way (``IMDB_SENTIMENT_MAX_CHARS`` is one limit for a
review typed in the app and one sent to the API), and a bad value fails with one line that names it.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, ValidationError
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
    """Limits, timeouts and the optional API key of the HTTP API (e.g. ``IMDB_SENTIMENT_MAX_TEXTS``)."""

    max_chars: int = Field(default=100_000, ge=1, description="Most characters in one review.")
    max_texts: int = Field(default=256, ge=1, description="Most reviews in one predict request.")
    max_summary_texts: int = Field(default=2048, ge=1, description="Most reviews in one summarize request.")
    max_body_bytes: int | None = Field(
        default=None, ge=1, description="Largest request body, in bytes (default: derived, see body_limit)."
    )
    max_queue_texts: int = Field(default=2048, ge=1, description="Most reviews waiting to be scored, per model.")
    max_queue_requests: int = Field(default=64, ge=1, description="Most requests waiting to be scored, per model.")
    request_timeout_s: float = Field(default=30.0, gt=0, description="Longest wait for a prediction or explanation.")
    read_timeout_s: float = Field(default=10.0, gt=0, description="Longest time to receive a whole request body.")
    limit_concurrency: int = Field(default=128, ge=1, description="Most open connections and tasks (uvicorn).")
    timeout_keep_alive: int = Field(default=5, ge=1, description="Seconds an idle keep-alive connection stays open.")
    api_key: SecretStr | None = Field(
        default=None, min_length=1, description="When set, every route but /health needs it (X-API-Key or Bearer)."
    )

    @property
    def body_limit(self) -> int:
        """``max_body_bytes`` if set, else one review at ``max_chars`` plus ``max_texts`` typical ones.

        Why not ``max_texts x max_chars x 4`` (every review at its limit, in worst-case UTF-8)? With the
        default limits that is ~100 MB, and a parsed body costs ~10x its size in memory (8 concurrent 16 MB
        bodies took the server from 1.25 to 2.6 GB): the text limits bound each review and the count, the
        body limit bounds the total. The default lets one review at ``max_chars`` through in worst-case
        UTF-8 (4 bytes a character), plus 2 KiB for each other review (an IMDb review averages ~1.3 KB)
        and 4 KiB of JSON around them: ~0.9 MB with the default limits, so ``limit_concurrency`` bodies
        in memory at once stay within a few hundred MB. Larger batches: several requests, or set it.
        """
        if self.max_body_bytes is not None:
            return self.max_body_bytes
        return self.max_chars * 4 + self.max_texts * 2048 + 4096

    @property
    def summary_body_limit(self) -> int:
        """The body limit of ``/v1/summarize``: ``max_body_bytes`` if set, else as :attr:`body_limit` with
        ``max_summary_texts`` reviews (~4.6 MB with the defaults; each review also names its group)."""
        if self.max_body_bytes is not None:
            return self.max_body_bytes
        return self.max_chars * 4 + self.max_summary_texts * 2048 + 4096


class UiSettings(_EnvSettings):
    """What one person may ask of the app at once."""

    max_chars: int = Field(default=100_000, ge=1, description="Most characters in one review or uploaded row.")
    max_upload_mb: int = Field(default=50, ge=1, description="Largest uploaded file, in MB of 2**20 bytes.")
    batch_chunk: int = Field(default=256, ge=1, description="Reviews scored per step of the batch progress bar.")
    # The upload limit is on the bytes sent; a compressed Parquet file can decode to thousands of times
    # its size, so what an upload decodes to has limits of its own, checked before it is read whole.
    max_rows: int = Field(default=100_000, ge=1, description="Most rows in one uploaded file.")
    max_text_mb: int = Field(
        default=100, ge=1, description="Most data one uploaded file may decode to, in MB of 2**20 bytes."
    )

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 2**20

    @property
    def max_text_bytes(self) -> int:
        return self.max_text_mb * 2**20
