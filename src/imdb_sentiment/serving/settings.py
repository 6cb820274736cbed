"""Limits of the HTTP API, from ``IMDB_SENTIMENT_*`` environment variables (pydantic-settings)."""

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from imdb_sentiment.errors import ConfigError

ENV_PREFIX = "IMDB_SENTIMENT_"


class ServeSettings(BaseSettings):
    """Limits of the HTTP API, read from ``IMDB_SENTIMENT_*`` environment variables (e.g. ``..._MAX_TEXTS``)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    max_chars: int = Field(default=100_000, ge=1, description="Most characters in one review.")
    max_texts: int = Field(default=256, ge=1, description="Most reviews in one predict request.")
    max_body_bytes: int = Field(default=16 * 2**20, ge=1, description="Largest request body, in bytes.")


def settings_from_env() -> ServeSettings:
    """Read :class:`ServeSettings` from the environment.

    Raises:
        ConfigError: a variable is not a whole number or is out of range; the message names it.
    """
    try:
        return ServeSettings()
    except ValidationError as exc:
        problems = "; ".join(f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"bad serve setting in the environment: {problems}") from None


# ---------------------------------------------------------------------------------------------------------
# Response schemas (request schemas depend on the settings and are built in request_models).
