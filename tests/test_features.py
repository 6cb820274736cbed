"""The vectorised tokeniser and hashed n-gram features behind the ``ngram`` model."""

from __future__ import annotations

import re

import numpy as np
import pytest

from imdb_sentiment.models.ngram.features import (
    binary_features,
    binary_scores,
    ngram_columns,
    normalize_batch,
    tokenize_batch,
)
from imdb_sentiment.text import TOKEN_PATTERN, normalize

SAMPLES = [
    "Don't watch this!! It was <br /><br />awful &amp; boring... really?",
    "A café, a naïve plot; 10/10 would NOT watch again?!",
    "  spaces\tand\nnewlines   everywhere  ",
    "'Quoted' words and rock 'n' roll",
    "MiXeD CaSe WoRdS",
    "ÉMILE and ZOË: Über-good &eacute;t&eacute; &#x41;BC",
    "",
]


def token_hash(token: str) -> np.uint64:
    hashes, _ = tokenize_batch([token])
    assert len(hashes) == 1, token
    return hashes[0]


@pytest.mark.parametrize("text", SAMPLES)
def test_tokens_match_the_shared_token_pattern(text):
    expected = re.findall(TOKEN_PATTERN, normalize(text).lower())
    hashes, docs = tokenize_batch([text])
    assert [int(h) for h in hashes] == [int(token_hash(t)) for t in expected]
    assert (docs == 0).all()


def test_normalize_batch_matches_normalize_per_review():
    joined = normalize_batch(SAMPLES).decode("utf-8")
    pieces = joined.split("\x00")
    assert len(pieces) == len(SAMPLES)
    for piece, text in zip(pieces, SAMPLES, strict=True):
        assert piece.split() == normalize(text).lower().split()


def test_unicode_apostrophes_and_punctuation():
    assert token_hash("don\u2019t") == token_hash("don't")
    hashes, _ = tokenize_batch(["good\u2014bad \u201cquoted\u201d wait\u2026"])
    assert [int(h) for h in hashes] == [int(token_hash(w)) for w in ("good", "bad", "quoted", "wait")]


def test_doc_ids_follow_the_reviews_and_nul_inside_a_review_is_harmless():
    hashes, docs = tokenize_batch(["one two", "", "three\x00four", "five"])
    assert docs.tolist() == [0, 0, 2, 2, 3]
    assert hashes[2] == token_hash("three") and hashes[3] == token_hash("four")


def test_same_token_same_hash_different_token_different_hash():
    hashes, _ = tokenize_batch(["film film Film FILM films"])
    assert len(set(hashes[:4].tolist())) == 1
    assert hashes[4] != hashes[0]
    long_a, long_b = "supercalifragilisticexpialidocious", "supercalifragilisticexpialidociouz"
    assert token_hash(long_a) != token_hash(long_b)  # differ only after the first 8-byte word


def test_ngrams_never_span_two_reviews():
    together = binary_features(["good movie", "bad acting"], ngram_max=2, n_bits=20)
    apart = [binary_features([t], ngram_max=2, n_bits=20) for t in ("good movie", "bad acting")]
    for i in range(2):
        assert set(together[i].indices) == set(apart[i].indices)
    assert together[0].nnz == 3  # "good", "movie", "good movie"; no "movie bad"


def test_features_do_not_depend_on_the_batch():
    batch = binary_features(SAMPLES, ngram_max=3, n_bits=18)
    for i, text in enumerate(SAMPLES):
        alone = binary_features([text], ngram_max=3, n_bits=18)
        assert (batch[i] != alone[0]).nnz == 0


def test_binary_counts_each_ngram_once_per_review():
    x = binary_features(["great great great film"], ngram_max=2, n_bits=20)
    assert set(x.data.tolist()) == {1.0}
    assert x.nnz == 4  # great, film, "great great", "great film"
    assert x.shape == (1, 1 << 20)


def test_ngram_orders_land_in_different_columns():
    hashes, docs = tokenize_batch(["a b"])
    _rows, cols = ngram_columns(hashes, docs, ngram_max=3, n_bits=24)
    assert len(cols) == 3 and len(set(cols.tolist())) == 3  # a, b, "a b"; no trigram in two tokens
    assert (cols < (1 << 24)).all() and (cols >= 0).all()


def test_empty_inputs():
    assert binary_features([], ngram_max=2, n_bits=12).shape == (0, 1 << 12)
    x = binary_features(["", "!!"], ngram_max=3, n_bits=12)
    assert x.shape == (2, 1 << 12) and x[0].nnz == 0 and x[1].nnz == 2  # "!" and "! !"


@pytest.mark.parametrize("n_bits", [12, 22, 26])
def test_binary_scores_equal_the_matrix_product(n_bits):
    texts = ["", *SAMPLES, "", "", *SAMPLES, ""]  # empty reviews first, inside and last
    weights = np.random.default_rng(0).normal(size=1 << n_bits)
    x = binary_features(texts, ngram_max=3, n_bits=n_bits)
    x = x.astype(np.float64)
    np.testing.assert_allclose(binary_scores(texts, weights, ngram_max=3), x @ weights, rtol=1e-12)
    packed = binary_scores(texts, weights + 1j * weights**2, ngram_max=3)
    np.testing.assert_allclose(packed.real, x @ weights, rtol=1e-12)
    np.testing.assert_allclose(packed.imag, x @ weights**2, rtol=1e-12)
    for row in range(x.shape[0]):
        assert (np.diff(x[row].indices) > 0).all()  # sorted, no duplicates
    assert set(x.data.tolist()) <= {1.0}
