"""Frozen, self-validating configuration for every tunable.

Each model kind has one config dataclass, defined with the kind (``models/``) on the :class:`Config` base
here; this module also holds the configs that are not a kind's (the validation split, batch scoring). Configs are immutable (a trained model's config is a record of
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


def require(condition: bool, owner: str, message: str) -> None:
    """Raise :class:`~imdb_sentiment.errors.ConfigError` ``"<owner>: <message>"`` unless ``condition``."""
    if not condition:
        raise ConfigError(f"{owner}: {message}")


@dataclasses.dataclass(frozen=True)
class SplitConfig(Config):
    """How the validation set is carved from the train split (stratified by label, seeded)."""

    validation_fraction: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        require(0.0 <= self.validation_fraction < 1.0, "SplitConfig", "validation_fraction must be in [0, 1)")
        require(0 <= self.seed < 2**32, "SplitConfig", "seed must be in [0, 2**32)")


@dataclasses.dataclass(frozen=True)
class ScoreConfig(Config):
    """How ``imdb-sentiment score`` reads, scores and writes a batch of reviews."""

    #: The input column holding the reviews.
    text_column: str = "text"
    #: Input columns copied to the output; ``None``: every input column except the text column.
    id_columns: tuple[str, ...] | None = None
    #: Rows read, scored and written at a time (memory grows with it, not with the input).
    batch_size: int = 8192
    #: Batches scored at once (threads for ``local``, model actors for ``ray``); 0: one per core, or for
    #: ``local`` what the model's kind runs fastest with (a transformer: one batch on every core).
    workers: int = 0
    #: Longer reviews are written to the errors file instead of being scored.
    max_chars: int = 100_000
    #: ``local`` (threads in this process) or ``ray`` (Ray Data; a local Ray unless ``ray_address``).
    engine: str = "local"
    #: Address of a running Ray cluster to join (``auto``, ``ray://host:10001``); empty starts a local Ray.
    ray_address: str = ""
    #: Continue the interrupted run into the same output (its ``OUTPUT.partial/`` folder); local engine only.
    resume: bool = False
    #: Also write each review's star distribution (``stars_<s>``) and its aspect mentions (``aspects``, a
    #: list column): what ``summarize`` aggregates. Parquet output only.
    detail: bool = False

    def __post_init__(self) -> None:
        name = "ScoreConfig"
        if self.id_columns is not None:
            object.__setattr__(self, "id_columns", tuple(c for c in self.id_columns if c))
        require(bool(self.text_column), name, "text_column must not be empty")
        require(self.batch_size >= 1, name, "batch_size must be >= 1")
        require(self.workers >= 0, name, "workers must be >= 0 (0: the default)")
        require(self.max_chars >= 1, name, "max_chars must be >= 1")
        require(self.engine in ("local", "ray"), name, f"engine must be local or ray, got {self.engine!r}")
        require(not self.ray_address or self.engine == "ray", name, "ray_address needs engine=ray")
        require(
            not (self.resume and self.engine == "ray"),
            name,
            "resume is not supported by the ray engine; resume with --engine local, or rerun without --resume",
        )
