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

from imdb_sentiment.text import BREAK_TAG_PATTERN

_BASE = np.uint64(0x100000001B3)  # the FNV-1a 64-bit prime
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio, for Fibonacci hashing
_NGRAM_SALT = (
    np.uint64(0),
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
    np.uint64(0xD6E8FEB86659FD93),
)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_SEPARATOR = "\x00"  # joins reviews; removed from the reviews themselves first

# Byte classes: 0 = separator, 1 = word byte, 2 = apostrophe (word byte only between word bytes),
# 3 = "!" or "?" (a one-byte token).
_CLASS = np.zeros(256, dtype=np.uint8)
for _c in b"abcdefghijklmnopqrstuvwxyz0123456789":
    _CLASS[_c] = 1
_CLASS[0x80:] = 1  # UTF-8 bytes of non-ASCII characters (Unicode punctuation is spaced out beforehand)
_CLASS[ord("'")] = 2
_CLASS[ord("!")] = 3
_CLASS[ord("?")] = 3

_BREAK_TAG = re.compile(BREAK_TAG_PATTERN.encode())  # applied after lower-casing, so no IGNORECASE
# Non-ASCII characters that are not letters, digits or the underscore's kin (Unicode punctuation, symbols,
# stray combining marks): TOKEN_PATTERN ends words at them, so they become spaces here too.
_NOT_WORD = re.compile(r"[^\x00-\x7f\w]")


def normalize_batch(texts: Sequence[str]) -> bytes:
    """Normalise and lower-case a batch of reviews as one UTF-8 byte string, reviews separated by NUL.

    Does what :func:`imdb_sentiment.text.normalize` followed by ``str.lower`` does to each review (apart
    from collapsing whitespace, which tokenising makes irrelevant), but in a few C-level passes over the
    whole batch. Only reviews that contain non-ASCII characters (a minority) are handled one by one,
    for Unicode NFC, Unicode punctuation and Unicode lower-casing; ASCII is lower-cased as bytes.
    """
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # a review contains NUL itself: drop it from the review
        joined = _SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts)
    if "&" in joined:
        # html.unescape never produces NUL (it maps "&#0;" to U+FFFD), so separators survive.
        joined = html.unescape(joined)
    if not joined.isascii():
        joined = _SEPARATOR.join(r if r.isascii() else _normalize_unicode(r) for r in joined.split(_SEPARATOR))
    return _BREAK_TAG.sub(b" ", joined.encode("utf-8").lower())


def _normalize_unicode(review: str) -> str:
    # Curly apostrophes become straight ones ("don’t" is "don't"); other non-word characters (dashes,
    # curly quotes, ellipsis, guillemets, symbols) separate words. Lower-casing comes last, as in
    # text.word_spans (which matches on the text before lower-casing).
    review = unicodedata.normalize("NFC", review).replace("\u2019", "'")
    return _NOT_WORD.sub(" ", review).lower()


def _mix(h: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (splitmix64) so that every output bit depends on every input bit (new array)."""
    h = h ^ (h >> _S30)
    tmp = np.empty_like(h)
    for multiplier, shift in ((_M1, _S27), (_M2, _S31)):
        np.multiply(h, multiplier, out=h)
        np.right_shift(h, shift, out=tmp)
        np.bitwise_xor(h, tmp, out=h)
    return h


def tokenize_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash the tokens of a batch of reviews.

    Returns:
        ``(token_hashes, doc_ids)``: one uint64 hash per token, in reading order, and the index of the
        review each token belongs to (non-decreasing).
    """
    data = np.frombuffer(normalize_batch(texts), dtype=np.uint8)
    n = data.size
    cls = _CLASS[data]
    word = cls == 1
    # An apostrophe belongs to a word only with word bytes on both sides ("don't", not "'quoted'").
    apos = np.flatnonzero(cls == 2)
    apos = apos[(apos > 0) & (apos < n - 1)]
    word[apos[word[apos - 1] & word[apos + 1]]] = True

    # Token boundaries: a word is a maximal run of word bytes; "!" and "?" are tokens of their own.
    # A token starts at every token byte that does not continue a word, and ends likewise.
    token = word | (cls == 3)
    joined_left = np.zeros(n + 1, dtype=bool)  # joined_left[i]: bytes i-1 and i are in the same word
    np.logical_and(word[1:], word[:-1], out=joined_left[1:n])
    starts = np.flatnonzero(token & ~joined_left[:n])
    ends = np.flatnonzero(token & ~joined_left[1:]) + 1

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


def distinct_ngrams(texts: Sequence[str], *, ngram_max: int, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct hashed n-gram columns of each review, sorted by review then column.

    De-duplicating is one integer sort of ``review << n_bits | column`` keys (uint32 when they fit, which
    halves the sort), then dropping keys equal to their predecessor.

    Returns:
        ``(rows, columns)`` as int64 arrays.
    """
    hashes, docs = tokenize_batch(texts)
    rows, cols = ngram_columns(hashes, docs, ngram_max=ngram_max, n_bits=n_bits)
    fits_32 = n_bits + max(len(texts) - 1, 1).bit_length() <= 32
    dtype: type[np.unsignedinteger] = np.uint32 if fits_32 else np.uint64
    keys: np.ndarray = np.left_shift(rows.astype(dtype), dtype(n_bits)) | cols.astype(dtype)
    keys.sort()
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys
    return (keys >> dtype(n_bits)).astype(np.int64), (keys & dtype((1 << n_bits) - 1)).astype(np.int64)


def binary_features(texts: Sequence[str], *, ngram_max: int, n_bits: int) -> sp.csr_matrix:
    """Binary bag of hashed n-grams: ``X[i, j] = 1`` if review ``i`` contains an n-gram hashed to ``j``.

    Returns:
        A float32 CSR matrix of shape ``(len(texts), 2**n_bits)`` with sorted column indices.
    """
    rows, cols = distinct_ngrams(texts, ngram_max=ngram_max, n_bits=n_bits)
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
    data = np.ones(len(cols), dtype=np.float32)
    return sp.csr_matrix((data, cols, indptr), shape=(len(texts), 1 << n_bits))


def binary_scores(texts: Sequence[str], table: np.ndarray, *, ngram_max: int) -> np.ndarray:
    """``binary_features(texts) @ table`` without building the matrix: per review, the sum of
    ``table[j]`` over the distinct n-gram columns ``j`` it contains.

    ``table`` is 1-D with a power-of-two length and may be complex: a caller that needs two sums per
    review packs them as real and imaginary parts, so that the gather (the costly, cache-missing step)
    is one memory access per n-gram instead of two.

    Returns:
        Array of ``len(texts)`` sums, of ``table``'s dtype.
    """
    n_bits = len(table).bit_length() - 1
    rows, cols = distinct_ngrams(texts, ngram_max=ngram_max, n_bits=n_bits)
    # rows are sorted, so each review's n-grams are one contiguous segment: sum segments with reduceat.
    bounds = np.searchsorted(rows, np.arange(len(texts) + 1))
    values = np.append(table[cols], table.dtype.type(0))  # reduceat needs an index past a trailing empty review
    sums = np.add.reduceat(values, bounds[:-1])
    sums[bounds[1:] == bounds[:-1]] = 0  # reduceat returns values[start] for an empty segment
    return sums
