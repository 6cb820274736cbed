"""Sentence crops of training reviews, so that a transformer trained on IMDb also reads one-liners.

A model fine-tuned on whole reviews only has never seen a text of one sentence; people score critics'
snippets, comments and posts with it. Crops of one to a few consecutive sentences of training reviews are
such texts, but a review's label is too noisy for its sentences on their own: a plot summary or the
"the acting was fine, but" of a negative review are not negative. A probe (2,000 reviews + 2,000 crops
labelled with their review's label, against 4,000 reviews) lost a point on SST-2 dev.

So each crop keeps its review's label, weighted by how strongly a teacher that never saw that review
agrees with it: an ``ngram`` model cross-fitted on the other half of the training reviews (about half a
minute on two cores). The weight is ``max(0, 2 p - 1)`` for the teacher's probability ``p`` of the
review's label: 0 for a crop the teacher finds neutral or contrary (dropped), 1 for a clear one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from imdb_sentiment.text import normalize

# A sentence ends at . ! or ? (a run of them, maybe closed by a quote or bracket) before a space and a
# capital, digit or opening quote. Abbreviations such as "Mr. Smith" split wrongly; a crop of two
# sentences then is one and a half, which does not matter for training.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
#: Crops shorter than this many characters ("Wow." "10/10.") say too little to weigh.
_MIN_CHARS = 20
#: Crops whose teacher weight is below this are dropped rather than trained on at almost no weight.
_MIN_WEIGHT = 0.05


def split_sentences(text: str) -> list[str]:
    """The sentences of one review (normalised first: ``<br />`` tags and entities removed)."""
    return [s.strip() for s in _SENTENCE_END.split(normalize(text)) if s.strip()]


def sample_crops(texts: Sequence[str], n: int, *, max_sentences: int, seed: int) -> tuple[list[str], np.ndarray]:
    """``n`` crops of 1 to ``max_sentences`` consecutive sentences, from reviews drawn at random.

    Returns:
        ``(crops, owners)``: the crop texts and, for each, the index in ``texts`` of its review.
    """
    rng = np.random.default_rng(seed)
    crops: list[str] = []
    owners: list[int] = []
    # Draw a few more reviews than crops: some are one sentence long or give only a too-short crop.
    attempts = 0
    while len(crops) < n and attempts < 4 * n + 100:
        attempts += 1
        owner = int(rng.integers(len(texts)))
        sentences = split_sentences(texts[owner])
        if len(sentences) < 2:  # the crop would be the whole review, which training already has
            continue
        length = int(rng.integers(1, min(max_sentences, len(sentences) - 1) + 1))
        start = int(rng.integers(len(sentences) - length + 1))
        crop = " ".join(sentences[start : start + length])
        if len(crop) < _MIN_CHARS:
            continue
        crops.append(crop)
        owners.append(owner)
    return crops, np.asarray(owners, dtype=np.int64)


def teacher_weights(
    texts: Sequence[str], labels: np.ndarray, crops: Sequence[str], owners: np.ndarray, *, seed: int
) -> np.ndarray:
    """Weight of each crop: ``max(0, 2 p - 1)``, ``p`` the cross-fitted teacher's probability of the review's label.

    The teacher of a crop is an ``ngram`` model fitted on the half of ``texts`` its review is not in, so it
    judges the crop's words rather than recalling the review.
    """
    from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

    rng = np.random.default_rng(seed)
    fold = rng.integers(2, size=len(texts))
    crop_labels = labels[owners]
    p_label = np.zeros(len(crops))
    # 2**20 columns: plenty for a teacher of short crops, and fast to fit.
    config = NgramConfig(n_bits=20, seed=seed)
    for k in (0, 1):
        fit_on = np.flatnonzero(fold != k)
        judged = np.flatnonzero(fold[owners] == k)
        if not len(judged):
            continue
        teacher = NgramClassifier(config=config).fit([texts[int(i)] for i in fit_on], labels[fit_on])
        proba = teacher.predict_proba([crops[int(j)] for j in judged])
        p_label[judged] = proba[np.arange(len(judged)), crop_labels[judged]]
    return np.clip(2.0 * p_label - 1.0, 0.0, 1.0)


def weighted_crops(
    texts: Sequence[str], labels: np.ndarray, n: int, *, max_sentences: int, teacher: bool, seed: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``n`` crops drawn, weighted (``teacher``) or not, with those of too little weight dropped.

    Returns:
        ``(crops, labels, weights)``: the crops kept, their review's label and their training weight.
    """
    crops, owners = sample_crops(texts, n, max_sentences=max_sentences, seed=seed)
    if not crops:
        return [], np.zeros(0, dtype=np.int64), np.zeros(0)
    weights = teacher_weights(texts, labels, crops, owners, seed=seed) if teacher else np.ones(len(crops))
    keep = np.flatnonzero(weights >= _MIN_WEIGHT)
    return [crops[int(j)] for j in keep], labels[owners[keep]], weights[keep]
