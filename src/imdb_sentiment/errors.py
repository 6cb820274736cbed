"""The exception hierarchy.

Every error the library raises on purpose derives from :class:`ImdbSentimentError`, so the CLI, the API
and the app can tell "the user gave us something wrong" (show one line) from a bug (show a traceback).
Messages say what was expected, what was received, and what to do.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


class ImdbSentimentError(Exception):
    """Base class of every error raised on purpose by imdb_sentiment."""


class DataError(ImdbSentimentError):
    """The dataset could not be found, downloaded, verified or parsed."""


class ConfigError(ImdbSentimentError, ValueError):
    """A configuration value or key is invalid."""


class InputError(ImdbSentimentError, ValueError):
    """Texts, labels or an input file given to a model or command are unusable."""


class ModelError(ImdbSentimentError):
    """A saved model directory is missing, damaged or from an unsupported format version."""


class NotFittedError(ImdbSentimentError, _SklearnNotFittedError):
    """A model was asked to predict or save before ``fit``.

    Also a scikit-learn ``NotFittedError``, so code written against scikit-learn catches it too.
    """


#: Errors in what the caller gave (a setting, a text, a file): exit code 2 in the CLI, HTTP 422 in the API.
#: Every other :class:`ImdbSentimentError` is the server's or the model's: exit code 1, HTTP 500.
USER_ERRORS: tuple[type[ImdbSentimentError], ...] = (ConfigError, InputError)
