"""Text normalisation and tokenisation shared by every model.

Every model sees reviews through :func:`normalize`, so a fix here reaches all of them at once and the
models stay comparable.
"""

from __future__ import annotations

import html
import re
import unicodedata

# IMDb reviews carry their paragraph breaks as literal ``<br />`` tags (sometimes ``<br>`` or ``<BR/>``).
#: IMDb's paragraph tag in any of its spellings; features.py compiles the same pattern for bytes.
BREAK_TAG_PATTERN = r"<\s*br\s*/?\s*>"
_BREAK_TAG = re.compile(BREAK_TAG_PATTERN, re.IGNORECASE)
_SPACES = re.compile(r"\s+")

#: Words (letters and digits, keeping inner apostrophes so that "don't" stays one token) plus "!" and "?",
#: which carry sentiment ("!!!", "really?") and which the common ``\w\w+`` pattern throws away.
TOKEN_PATTERN = r"[^\W_]+(?:'[^\W_]+)*|[!?]"
_TOKEN = re.compile(TOKEN_PATTERN)


def normalize(text: str) -> str:
    """Return ``text`` with IMDb's markup removed, in a canonical Unicode form.

    ``<br />`` tags become spaces, HTML entities (``&amp;``, ``&#39;``) are decoded, the text is put in
    Unicode NFC (so a precomposed "é" and "e" + combining accent are the same token) and runs of
    whitespace collapse to one space. Case is kept: lower-casing is the tokeniser's business.

    Args:
        text: One raw review.

    Returns:
        The normalised review.
    """
    text = _BREAK_TAG.sub(" ", text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip()


def tokenize(text: str) -> list[str]:
    """Split a review into lower-cased tokens after :func:`normalize`.

    Args:
        text: One raw review.

    Returns:
        The tokens, in order.
    """
    return _TOKEN.findall(normalize(text).lower())


def preprocess(text: str) -> str:
    """Normalise and lower-case a review: the form the bag-of-words models tokenise with ``TOKEN_PATTERN``."""
    return normalize(text).lower()
