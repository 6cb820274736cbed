"""Hashed word n-gram features at native speed: byte-level tokenising and hashing vectorised in NumPy.

Inference speed of a linear model on text is decided by tokenisation: a Python loop over tokens (or a
regex per review) runs at a few thousand reviews per second. Here a whole batch of reviews is turned into
one UTF-8 byte array and every step -- classifying bytes, finding token boundaries, hashing tokens,
combining neighbouring token hashes into n-gram hashes, bucketing and de-duplicating -- is an array
operation, with no Python code per token or per review.

Tokens follow :data:`imdb_sentiment.text.TOKEN_PATTERN` closely: runs of letters and digits (every
non-ASCII character except Unicode punctuation counts as a letter), with inner apostrophes kept
("don't"), and "!" and "?" as tokens of their own. Text goes through the shared
:func:`imdb_sentiment.text.normalize` and is lower-cased first.

Hashing: every token's bytes are read eight at a time as 64-bit words and mixed (splitmix64) into its
hash, for all tokens at once. N-gram hashes combine their tokens' hashes; the top ``n_bits`` bits of a
final multiplicative mix pick the feature column (Fibonacci hashing).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

_BASE = np.uint64(0x100000001B3)  # the FNV-1a 64-bit prime
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio, for Fibonacci hashing
_NGRAM_SALT = (
    np.uint64(0),
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
    np.uint64(0xD6E8FEB86659FD93),
)
_SEPARATOR = "\x00"  # joins reviews; removed from the reviews themselves first

# Byte classes: 0 = separator, 1 = word byte, 2 = apostrophe (word byte only between word bytes),
# 3 = "!" or "?" (a one-byte token).
_CLASS = np.zeros(256, dtype=np.uint8)
for _c in b"abcdefghijklmnopqrstuvwxyz0123456789":
    _CLASS[_c] = 1
_CLASS[0x80:] = 1  # UTF-8 lead and continuation bytes of non-ASCII characters (punctuation fixed below)
_CLASS[ord("'")] = 2
_CLASS[ord("!")] = 3
_CLASS[ord("?")] = 3

_BREAK_TAG = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_UNICODE_PUNCT = re.compile("[\u2000-\u206f]")


def normalize_batch(texts: Sequence[str]) -> str:
    """Normalise and lower-case a batch of reviews as one string, reviews separated by NUL.

    Does exactly what :func:`imdb_sentiment.text.normalize` does to each review (apart from collapsing
    whitespace, which tokenising makes irrelevant), but as a handful of C-level passes over one string
    instead of a Python call per review.
    """
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # a review contains NUL itself: drop it from the review
        joined = _SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts)
    joined = _BREAK_TAG.sub(" ", joined)
    # Curly apostrophes become straight ones ("don’t" is "don't"); other Unicode punctuation
    # (dashes, curly double quotes, ellipsis) separates words.
    joined = _UNICODE_PUNCT.sub(" ", joined.replace("\u2019", "'"))
    if "&" in joined:
        # html.unescape never produces NUL (it maps "&#0;" to U+FFFD), so separators survive.
        joined = html.unescape(joined)
    return unicodedata.normalize("NFC", joined).lower()


def _mix(h: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (splitmix64) so that every output bit depends on every input bit."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def tokenize_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash the tokens of a batch of reviews.

    Returns:
        ``(token_hashes, doc_ids)``: one uint64 hash per token, in reading order, and the index of the
        review each token belongs to (non-decreasing).
    """
    data = np.frombuffer(normalize_batch(texts).encode("utf-8"), dtype=np.uint8)
    n = data.size
    cls = _CLASS[data]
    word = cls == 1
    # An apostrophe belongs to a word only with word bytes on both sides ("don't", not "'quoted'").
    apos = np.flatnonzero(cls == 2)
    apos = apos[(apos > 0) & (apos < n - 1)]
    word[apos[word[apos - 1] & word[apos + 1]]] = True
    single = np.flatnonzero(cls == 3)

    # Token boundaries: a word is a maximal run of word bytes; "!" and "?" are tokens of their own.
    padded = np.concatenate(([False], word, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    starts = np.concatenate((edges[0::2], single))
    ends = np.concatenate((edges[1::2], single + 1))
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]

    hashes = _hash_spans(data, starts, ends)
    # NUL only ever separates reviews (see normalize_batch): a token's review is the number of NULs before it.
    doc_ids = np.searchsorted(np.flatnonzero(data == 0), starts)
    return hashes, doc_ids


def _hash_spans(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash the byte spans ``data[starts[i]:ends[i]]``, eight bytes at a time for all spans at once.

    Each round reads the next eight bytes of every span still that long as one little-endian uint64
    (through a strided window view: no copy of ``data``), zeroes the bytes past the span's end and mixes
    them into the span's hash. Most words fit in one or two rounds.
    """
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate((data, np.zeros(8, np.uint8))), 8)
    lengths = (ends - starts).astype(np.int64)
    hashes = lengths.astype(np.uint64)
    todo = np.arange(len(starts))
    offset = 0
    while todo.size:
        chunk = np.ascontiguousarray(windows[starts[todo] + offset]).view("<u8").ravel()
        left = lengths[todo] - offset
        partial = left < 8
        chunk[partial] &= (np.uint64(1) << (np.uint64(8) * left[partial].astype(np.uint64))) - np.uint64(1)
        hashes[todo] = _mix((hashes[todo] * _BASE) ^ chunk)
        offset += 8
        todo = todo[left > 8]
    return hashes


def ngram_columns(
    token_hashes: np.ndarray, doc_ids: np.ndarray, *, ngram_max: int, n_bits: int
) -> tuple[np.ndarray, np.ndarray]:
    """Turn token hashes into hashed n-gram feature columns (n = 1 .. ``ngram_max``).

    An n-gram never spans two reviews. Each order has its own salt, so the bigram "a b" and a unigram
    that happens to hash like it land in unrelated columns.

    Returns:
        ``(rows, columns)``: the review and feature column of every n-gram occurrence.
    """
    shift = np.uint64(64 - n_bits)
    rows, cols = [], []
    combined = token_hashes
    for n in range(1, ngram_max + 1):
        if n > 1:
            if len(combined) < 2:
                break
            # extend every (n-1)-gram by the token that follows it
            combined = combined[:-1] * _BASE + token_hashes[n - 1 :]
            same = doc_ids[: len(combined)] == doc_ids[n - 1 :]
            docs = doc_ids[: len(combined)][same]
            columns = combined[same]
        else:
            docs, columns = doc_ids, combined
        rows.append(docs)
        cols.append((_mix(columns ^ _NGRAM_SALT[n]) * _GOLDEN) >> shift)
    return np.concatenate(rows), np.concatenate(cols).astype(np.int64)


def binary_features(texts: Sequence[str], *, ngram_max: int, n_bits: int) -> sp.csr_matrix:
    """Binary bag of hashed n-grams: ``X[i, j] = 1`` if review ``i`` contains an n-gram hashed to ``j``.

    Returns:
        A float32 CSR matrix of shape ``(len(texts), 2**n_bits)`` with sorted column indices.
    """
    if not texts:
        return sp.csr_matrix((0, 1 << n_bits), dtype=np.float32)
    hashes, docs = tokenize_batch(texts)
    rows, cols = ngram_columns(hashes, docs, ngram_max=ngram_max, n_bits=n_bits)
    # Building CSR from coordinates sums repeated (review, column) pairs; setting them all to 1 binarises.
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), 1 << n_bits))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
