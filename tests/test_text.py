"""Normalisation and tokenisation: what every model sees of a review."""

from __future__ import annotations

import re

import pytest

from imdb_sentiment.text import TOKEN_PATTERN, normalize, preprocess, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Great film.<br /><br />Loved it.", "Great film. Loved it."),
        ("one<br>two", "one two"),
        ("one<BR/>two", "one two"),
        ("one< br / >two<Br >three", "one two three"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("it&#39;s &quot;fine&quot; &lt;3", 'it\'s "fine" <3'),
        ("  lots \t of\n\n  space  ", "lots of space"),
        ("Case Is KEPT", "Case Is KEPT"),
        ("", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_normalize_puts_text_in_nfc():
    decomposed, composed = "caf" + "e\u0301", "caf\u00e9"
    assert decomposed != composed
    assert normalize(decomposed) == composed
    assert normalize(composed) == composed
    assert normalize("caf&#101;\u0301") == composed  # an entity followed by a combining accent
    assert tokenize(decomposed) == tokenize(composed) == ["caf\u00e9"]


def test_normalize_is_idempotent():
    raw = "A <br />  film &amp; a  cafe\u0301!<BR>"
    assert normalize(normalize(raw)) == normalize(raw)


@pytest.mark.parametrize(
    ("raw", "tokens"),
    [
        ("I LOVED It", ["i", "loved", "it"]),
        ("I don't like it", ["i", "don't", "like", "it"]),
        ("Wow!!! Really?", ["wow", "!", "!", "!", "really", "?"]),
        ("Fine, (mostly); 'ok' - sure... \"yes\"", ["fine", "mostly", "ok", "sure", "yes"]),
        ("snake_case and 10/10", ["snake", "case", "and", "10", "10"]),
        ("great<br />film", ["great", "film"]),
        ("Tom &amp; Jerry", ["tom", "jerry"]),
        ("Naïve CAFÉ", ["naïve", "café"]),
        ("", []),
    ],
)
def test_tokenize(raw, tokens):
    assert tokenize(raw) == tokens


def test_token_pattern_matches_tokenize():
    raw = "It wasn't GOOD!<br />Was it?"
    assert re.findall(TOKEN_PATTERN, preprocess(raw)) == tokenize(raw)


def test_preprocess_normalizes_and_lowercases():
    assert preprocess("A <br />FILM &amp; Cafe\u0301") == "a film & caf\u00e9"
