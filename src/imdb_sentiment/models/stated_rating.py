"""Ratings reviewers write into their reviews ("8/10", "seven out of ten", "I'd give it a 3").

About one IMDb review in eleven states its own score in the text, and when it does the score is
usually the one the reviewer gave: on the training split the last "x/10" of a review is the file name's
rating for 85% of the 1,984 reviews that have one (mean absolute error 0.40 stars), "give it a x" for
76% of 168 and "my rating: x" for 78% of 131 more. A bag of words sees "8/10" as two tokens among
hundreds and a network may cut it off, so the rating head (:mod:`imdb_sentiment.models.rating`) reads
the stated score as inputs of its own and learns how far to trust it. Scores on other scales are left out: "x stars" has no scale
("4 stars" is bad out of 10 and good out of 5) and "x/4" or "x/5" were rarer and agreed less
(30% and 44% exact on the training split).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

#: The values a stated score is rounded to, the columns of :func:`stated_columns`.
STATED: tuple[int, ...] = tuple(range(1, 11))

_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_NUMBER = r"(?:\d{1,2}(?:\.\d+)?|" + "|".join(_WORDS) + ")"
# "8/10", "8 / 10", "7.5/10", "eight out of ten", "-5/10". Not a date or a fraction inside a longer one
# ("9/10/2001", "1/10th"), nor the end of a word or of a longer number ("A1/10", "110/10").
_OUT_OF_TEN = re.compile(
    rf"(?<![\w./])(-?{_NUMBER})\s*(?:stars?\s+)?(?:/|out of)\s*(?:10|ten)\b(?![/\w])", re.IGNORECASE
)
# "I'd give it a 3", "give this movie a 1", "my rating: 7", "vote: 4", "grade = 2" (not "a 3/10": that is
# the pattern above, nor "a 2 hour ...", "a score of 80%").
_NAMED = re.compile(
    rf"(?:\bgive (?:it|this(?: \w+)?|the \w+) (?:a|an)|\b(?:rating|vote|score|grade)\s*(?::|-|=|is|of)\s*(?:an? )?)"
    rf"\s*({_NUMBER})\b(?!\s*(?:/|out\b|stars?\b|minutes?\b|hours?\b|years?\b|%))",
    re.IGNORECASE,
)


def _value(token: str) -> float:
    token = token.lower()
    sign = -1.0 if token.startswith("-") else 1.0
    token = token.lstrip("-")
    return sign * float(_WORDS.get(token, token))


def stated_rating(text: str) -> float | None:
    """The score out of 10 that ``text`` states for itself, or ``None``.

    The last "x out of 10" wins (a review may quote another's score before giving its own verdict at the
    end), else the first "give it a x" or "rating: x"; scores above 10 (a joke "11/10") count as 10, below
    1 as 1.
    """
    found = _OUT_OF_TEN.findall(text)
    if found:
        value = _value(found[-1])
    else:
        named = _NAMED.search(text)
        if named is None:
            return None
        value = _value(named.group(1))
        if value > 10:  # "give it a 15", "a score of 85" are not scores out of 10
            return None
    return float(min(max(value, 1.0), 10.0))


def stated_columns(texts: Sequence[str]) -> np.ndarray:
    """One row per text: a one-hot of its stated score rounded to :data:`STATED` (halves up), or zeros."""
    out = np.zeros((len(texts), len(STATED)))
    for row, text in enumerate(texts):
        value = stated_rating(text)
        if value is not None:
            out[row, int(np.floor(value + 0.5)) - 1] = 1.0
    return out
