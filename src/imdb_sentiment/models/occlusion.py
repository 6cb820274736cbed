"""Word occlusion: what each word adds to a model's log-odds, from forward passes alone.

Integrated gradients need the network's gradients, so PyTorch. The shipped model runs on ONNX Runtime in
the slim install (no torch), and still has to say why: each word of the review is left out in turn and
the drop in the log-odds of *positive* is that word's attribution (leave-one-out, the "occlusion" of
Zeiler and Fergus applied to words). One forward pass per word plus one for the whole review; batched,
a 250-word review takes a few seconds on two cores with the int8 model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from imdb_sentiment.text import word_spans

#: Words occluded at most (the rest keep attribution 0): bounds the time a very long review takes.
MAX_WORDS = 1024


def piece_groups(text: str, piece_spans: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """Indices of the word pieces that make up each word of ``text`` (pieces by their spans in ``text``).

    A piece belongs to the word its first character falls in; pieces in no word (punctuation other than
    "!" and "?") belong to none and are never occluded.
    """
    words = word_spans(text)
    starts = np.array([w[1] for w in words], dtype=np.int64)
    ends = np.array([w[2] for w in words], dtype=np.int64)
    groups: list[list[int]] = [[] for _ in words]
    for piece, (start, end) in enumerate(piece_spans):
        if end <= start or not len(words):
            continue
        at = int(np.searchsorted(starts, start, side="right")) - 1
        if at >= 0 and start < ends[at]:
            groups[at].append(piece)
    return [np.asarray(g, dtype=np.int64) for g in groups if g]


def occlusion_attributions(
    ids: Sequence[int], groups: Sequence[np.ndarray], log_odds: Callable[[list[list[int]]], np.ndarray]
) -> np.ndarray:
    """Attribution of each word piece: ``log_odds(all) - log_odds(without its word)``, spread over the word.

    Args:
        ids: The review's word-piece ids (no special tokens).
        groups: Piece indices per word (:func:`piece_groups`).
        log_odds: Scores a batch of piece-id sequences (each cut into windows as the model does).

    Returns:
        ``(len(ids),)`` attributions; summed over a word's pieces they give the word's.
    """
    ids = list(ids)
    groups = list(groups)[:MAX_WORDS]
    variants = [ids]
    for group in groups:
        drop = set(group.tolist())
        variants.append([p for i, p in enumerate(ids) if i not in drop])
    scores = log_odds(variants)
    per_piece = np.zeros(len(ids))
    for group, without in zip(groups, scores[1:], strict=True):
        per_piece[group] = (scores[0] - without) / len(group)
    return per_piece
