"""What a review says about each aspect: the clause around the aspect's term, and that clause's polarity.

A sentence often judges two things at once ("the acting is fine but the plot is dumb"), so the polarity
of an aspect is read from its *clause*: the sentence cut at contrast words (but, however, although,
though, yet, whereas, while, except, unfortunately) and at semicolons and dashes; a clause opened by a
subordinating "although"/"though"/"while"/"whereas" ends at its first comma ("although the acting is
good, the film is bad" gives acting the first part). An aside in parentheses is a clause of its own for a
term inside it ("a dull plot (but superb music)" gives music the aside) and is left out of the clause of a
term outside it ("the plot (done well the first time) is repeated over and over" is about the repetition).
Each clause is read by the model's clause reader (:attr:`~imdb_sentiment.models.base.SentimentModel.clause_reader_`,
a small network distilled to read clauses, which the shipped model carries), else scored by its rating head
(:meth:`~imdb_sentiment.models.rating.RatingHead.predict_clauses`), else by the model itself.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from imdb_sentiment.audience.aspects import find_aspects
from imdb_sentiment.labels import label_names
from imdb_sentiment.models.base import SentimentModel

_CONTRAST = re.compile(
    r"\b(?:but|however|although|though|yet|whereas|while|except|unfortunately|sadly)\b|;|\s[-\u2013\u2014]{1,2}\s",
    re.IGNORECASE,
)
_SUBORDINATE = re.compile(r"(?:although|though|while|whereas)\b", re.IGNORECASE)


#: An aside in parentheses (no nesting; one left open runs to the end of the sentence).
_ASIDE = re.compile(r"\([^()]*(?:\)|$)")


def clause_span(sentence: str, at: int) -> tuple[int, int]:
    """The span of the clause of ``sentence`` that holds the character at ``at`` (where a term starts); the
    whole sentence when ``at`` is outside it or the sentence has one clause."""
    if not 0 <= at < len(sentence):
        return 0, len(sentence)
    for aside in _ASIDE.finditer(sentence):
        if aside.start() < at < aside.end():
            inner, close = aside.start() + 1, aside.end() - aside.group().endswith(")")
            start, end = _cut(sentence[inner:close], at - inner)
            return inner + start, inner + end
    # Cut as if the asides were blank, so that none is cut into (its "though" or comma is not this clause's).
    return _cut(_blank_asides(sentence), at)


def clause_text(sentence: str, at: int) -> str:
    """The clause of ``sentence`` holding ``at`` (:func:`clause_span`), without the asides it holds and with
    its white space collapsed (the whole sentence, collapsed, should that leave nothing)."""
    start, end = clause_span(sentence, at)
    return " ".join(_blank_asides(sentence[start:end]).split()) or " ".join(sentence.split())


def _blank_asides(text: str) -> str:
    """``text`` with every aside in parentheses replaced by spaces (offsets kept)."""
    return _ASIDE.sub(lambda aside: " " * len(aside.group()), text)


def _cut(text: str, at: int) -> tuple[int, int]:
    """The span of the clause of ``text`` holding ``at``, cut at contrast words and punctuation."""
    cuts = [0, *(m.start() for m in _CONTRAST.finditer(text) if m.start() > 0), len(text)]
    spans = []
    for start, end in itertools.pairwise(cuts):
        opener = _SUBORDINATE.match(text, start)
        comma = text.find(",", start, end) if opener else -1
        spans.extend([(start, comma), (comma, end)] if comma > 0 else [(start, end)])
    for start, end in spans:
        if start <= at < end:
            return start, end
    return 0, len(text)


def _sentences_and_clauses(texts: Sequence[str], found: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Each :func:`find_aspects` row's sentence and the clause holding its term."""
    rows = zip(found["review"], found["start"], found["end"], found["term_start"], strict=True)
    sentences, clauses = [], []
    for review, start, end, at in rows:
        sentence = texts[review][start:end]
        sentences.append(sentence)
        clauses.append(clause_text(sentence, at - start))
    return sentences, clauses


def mentions(texts: Sequence[str], review_p: np.ndarray, model: SentimentModel) -> pd.DataFrame:
    """Every aspect mention in ``texts`` with its sentence, clause and the clause's P(positive).

    Args:
        texts: Reviews.
        review_p: Each review's P(positive) from ``model`` (a rating head's clause scorer leans on it).
        model: The model whose clause reader reads the clauses (else its rating head scores them, else the
            model itself).

    Returns:
        The rows of :func:`~imdb_sentiment.audience.aspects.find_aspects` plus ``text`` (the sentence),
        ``clause`` and ``p_positive``.
    """
    found = find_aspects(texts)
    if found.empty:
        return found.assign(text=pd.Series(dtype=str), clause=pd.Series(dtype=str), p_positive=pd.Series(dtype=float))
    sentences, clauses = _sentences_and_clauses(texts, found)
    reviews_p = np.asarray(review_p, dtype=np.float64)[found["review"].to_numpy()]
    head = model.rating_head_
    if model.clause_reader_ is not None:
        # Each distinct clause once: "the acting is great" recurs across a film's reviews.
        where, unique = pd.factorize(pd.Series(clauses, dtype=object))
        p = model.clause_reader_.predict_proba(unique.tolist())[:, 1][where]
    elif head is not None and head.scores_clauses:
        p = head.predict_clauses(clauses, reviews_p)
    else:
        p = model.predict_proba(clauses)[:, 1]
    return found.assign(text=[" ".join(s.split()) for s in sentences], clause=clauses, p_positive=p)


def review_aspects(model: SentimentModel, text: str, p_positive: float) -> list[dict[str, object]]:
    """What one review says about each aspect it names, in reading order: for the Analyse page, ``explain``
    and the API's explanation.

    Args:
        model: The model that scored the review (its clause reader, else its rating head, reads the clauses,
            as in ``summarize``).
        text: The review.
        p_positive: The review's P(positive) from ``model``.

    Returns:
        One dict per mention: ``aspect``, ``term`` (the words that named it), ``sentence``, ``clause``
        (the part of the sentence judged), ``p_positive`` (the clause's) and ``label``.
    """
    found = mentions([text], np.array([p_positive]), model)
    found = found.sort_values(["start", "term_start"], kind="stable") if len(found) else found
    labels: list[str] = label_names(found["p_positive"].to_numpy()).tolist() if len(found) else []
    return [
        {
            "aspect": str(row.aspect),
            "term": str(row.term),
            "sentence": str(row.text),
            "clause": str(row.clause),
            "p_positive": round(float(row.p_positive), 4),
            "label": str(label),
        }
        for row, label in zip(found.itertuples(index=False), labels, strict=True)
    ]


def fit_clause_scorer(
    model: SentimentModel,
    texts: Sequence[str],
    review_p: np.ndarray,
    *,
    limit: int = 60_000,
    seed: int = 0,
) -> int:
    """Fit ``model``'s rating head's clause scorer: the model itself scores up to ``limit`` aspect clauses of
    ``texts`` (reviews it did not train on, with their P(positive) ``review_p``), and the head learns to
    reproduce that from the clause's words and the review's P(positive). Returns the clauses used.

    Raises:
        ModelError: the model has no rating head.
    """
    from imdb_sentiment.errors import ModelError

    head = model.rating_head_
    if head is None:
        raise ModelError("fit a rating head first (it holds the clause scorer)")
    found = find_aspects(texts)
    # Every clause of the shipped model's 11,465 unseen training reviews (45,116 when it was fitted) fits:
    # on the two validation dev draws (193 polar pairs) that beat a 30,000 sample, 0.865 against 0.845.
    if len(found) > limit:
        found = found.sample(limit, random_state=seed).sort_index()
    _, clauses = _sentences_and_clauses(texts, found)
    if len(clauses) < 50:  # too few to learn from: mentions() then asks the model itself
        return 0
    # The model scores the clauses itself (with its own progress bar when it was built verbose).
    teacher = model.predict_proba(clauses)[:, 1]
    head.fit_clauses(clauses, np.asarray(review_p)[found["review"].to_numpy()], teacher)
    return len(clauses)
