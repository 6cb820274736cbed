"""Argument checks of the model contract: a batch of texts, and 0/1 labels.

They reject the classic mistakes (one bare string where a batch is expected, a label that is not 0 or 1)
with a message that says what to do. Whether a *row* of an input file is a usable review is a different
question, answered once for every surface in :mod:`imdb_sentiment.scoring`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from imdb_sentiment.errors import InputError


def check_texts(texts: Iterable[str], *, what: str = "texts", allow_empty: bool = False) -> list[str]:
    """Return ``texts`` as a list of ``str``, rejecting the classic mistake of passing one bare string.

    Raises:
        InputError: ``texts`` is a string, not iterable, empty (unless allowed) or holds non-strings.
    """
    if isinstance(texts, str | bytes):
        raise InputError(
            f"{what} must be a list of reviews, not a single string; wrap it in a list: [{_preview(texts)}]"
        )
    try:
        items = list(texts)
    except TypeError:
        raise InputError(f"{what} must be a list of strings, got {type(texts).__name__}") from None
    if not items and not allow_empty:
        raise InputError(f"{what} is empty; give at least one review")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InputError(f"{what}[{i}] is a {type(item).__name__}, expected a string (the review text)")
    return items


def check_labels(labels: Iterable[Any], n: int, *, what: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int array of 0/1 with ``n`` entries.

    Raises:
        InputError: the length differs from ``n`` or a label is not 0 or 1.
    """
    if isinstance(labels, str | bytes):
        raise InputError(f"{what} must be a list of 0/1 labels, not a single string")
    values = np.asarray(list(labels), dtype=object)
    if len(values) != n:
        raise InputError(f"got {n} texts but {len(values)} {what}; give one label per review")
    bad = [v for v in values if not (isinstance(v, int | np.integer) and not isinstance(v, bool) and v in (0, 1))]
    if bad:
        raise InputError(f"{what} must be 0 (negative) or 1 (positive); got {bad[0]!r}")
    return values.astype(np.int64)


def _preview(text: str | bytes, width: int = 30) -> str:
    text = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return repr(text if len(text) <= width else text[:width] + "...")
