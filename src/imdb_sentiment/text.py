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

#: Words (letters and digits, keeping inner apostrophes, straight or curly, so that "don't" stays one
#: token) plus "!" and "?", which carry sentiment ("!!!", "really?") and which the common ``\w\w+`` pattern throws away.
TOKEN_PATTERN = r"[^\W_]+(?:['\u2019][^\W_]+)*|[!?]"
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


_MARKUP = re.compile(BREAK_TAG_PATTERN + r"|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?|\s+", re.IGNORECASE)


def normalize_with_offsets(text: str) -> tuple[str, list[tuple[int, int]]]:
    """:func:`normalize`, plus where each character of the result came from in ``text``.

    Explanations point at words of the review as the user wrote it, while models read the normalised
    text; this is the bridge. Break tags, entities and whitespace are rewritten piece by piece, and each
    output character remembers the span of ``text`` it came from.

    Returns:
        ``(normalized, origins)``: ``normalized == normalize(text)``, and ``origins[i]`` is the
        ``(start, end)`` span of ``text`` that character ``i`` comes from (an entity such as ``&amp;``
        for its decoded character, a base letter and its combining accents for their composed form).
    """
    chars: list[tuple[str, int, int]] = []
    position = 0
    for match in _MARKUP.finditer(text):
        chars.extend((c, i, i + 1) for i, c in enumerate(text[position : match.start()], position))
        token = match.group()
        if token[0] == "&" and html.unescape(token) != token:
            chars.extend((c, match.start(), match.end()) for c in html.unescape(token))
        elif token[0] == "&":  # not an entity after all: keep it as written
            chars.extend((c, i, i + 1) for i, c in enumerate(token, match.start()))
        else:  # a break tag or a run of whitespace: one space
            chars.append((" ", match.start(), match.end()))
        position = match.end()
    chars.extend((c, i, i + 1) for i, c in enumerate(text[position:], position))
    # Collapse runs of spaces (a tag beside a space) and trim, as normalize() does.
    kept: list[tuple[str, int, int]] = []
    for char, start, end in chars:
        if char.isspace():
            if not kept or kept[-1][0] == " ":
                continue
            char = " "
        kept.append((char, start, end))
    while kept and kept[-1][0] == " ":
        kept.pop()
    normalized = "".join(c for c, _, _ in kept)
    origins = [(start, end) for _, start, end in kept]
    if unicodedata.is_normalized("NFC", normalized):
        return normalized, origins
    # Composing merges a base character with its combining accents: group the characters that compose.
    composed_chars: list[str] = []
    composed_origins: list[tuple[int, int]] = []
    for i, char in enumerate(normalized):
        if composed_chars and _composes(composed_chars[-1], char):
            composed_chars[-1] += char
            composed_origins[-1] = (composed_origins[-1][0], origins[i][1])
        else:
            composed_chars.append(char)
            composed_origins.append(origins[i])
    pieces = [unicodedata.normalize("NFC", c) for c in composed_chars]
    out_origins = [o for piece, o in zip(pieces, composed_origins, strict=True) for _ in piece]
    return "".join(pieces), out_origins


def _composes(group: str, char: str) -> bool:
    # Combining accents, but also Hangul jamo and some vowel signs (combining class 0) compose in NFC.
    if unicodedata.combining(char):
        return True
    return unicodedata.normalize("NFC", group + char) != unicodedata.normalize("NFC", group) + unicodedata.normalize(
        "NFC", char
    )


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """The words of a raw review as ``(word, start, end)``, with ``start``/``end`` indices into ``text``.

    Words are :data:`TOKEN_PATTERN` matches in the normalised text, as the bag-of-words models see them
    (before lower-casing); their spans are mapped back onto the review as written.
    """
    normalized, origins = normalize_with_offsets(text)
    spans = []
    for match in _TOKEN.finditer(normalized):
        start, end = origins[match.start()][0], origins[match.end() - 1][1]
        spans.append((text[start:end], start, end))
    return spans


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
