"""Scoring reviews: their windows batched by length, run through a backend, and averaged per review.

The backend is any function from a padded batch to its logits (PyTorch or ONNX Runtime), so this module
needs neither torch nor onnxruntime.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from imdb_sentiment.models.transformer.config import TransformerConfig
from imdb_sentiment.models.transformer.windows import PieceTokenizer, pad, piece_rows

#: A backend: ``(input_ids, attention_mask)`` of a padded batch -> float64 logits ``(n, 2)``.
BatchLogits = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: A backend that also gives each input's features (``None`` when it has none).
BatchOutputs = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray | None]]


def review_logits(
    pieces: Sequence[list[int]],
    tokenizer: PieceTokenizer,
    cfg: TransformerConfig,
    batch_logits: BatchLogits,
    *,
    verbose: bool = False,
) -> np.ndarray:
    """Logits ``(n, 2)`` per review given as word-piece ids: its windows' logits averaged.

    Args:
        pieces: Each review's word-piece ids (:meth:`PieceTokenizer.word_pieces`).
        tokenizer: Supplies the special tokens and the padding id.
        cfg: How reviews are cut (``inference_truncation``) and batched (``inference_batch_size``).
        batch_logits: The backend that scores one padded batch.
        verbose: Show a progress bar when there are many batches.

    Returns:
        Float64 logits, columns ``[negative, positive]``.
    """
    return review_outputs(pieces, tokenizer, cfg, lambda ids, mask: (batch_logits(ids, mask), None), verbose=verbose)[0]


def review_outputs(
    pieces: Sequence[list[int]],
    tokenizer: PieceTokenizer,
    cfg: TransformerConfig,
    batch_outputs: BatchOutputs,
    *,
    verbose: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`review_logits`, and each review's features (its windows' averaged) when the backend gives them."""
    inputs, owners = piece_rows(pieces, tokenizer, cfg)
    # Longest first, in batches of similar length: little padding, and memory peaks at the start.
    order = np.argsort([-len(r) for r in inputs], kind="stable")
    size = cfg.inference_batch_size
    logits = np.zeros((len(inputs), 2))
    features: np.ndarray | None = None
    bar = progress(total=len(inputs), desc="scoring", enabled=verbose and len(inputs) > 4 * size)
    for start in range(0, len(order), size):
        batch = order[start : start + size]
        batch_logits, batch_features = batch_outputs(*pad([inputs[j] for j in batch], tokenizer.pad_id))
        logits[batch] = batch_logits
        if batch_features is not None:
            if features is None:
                features = np.zeros((len(inputs), batch_features.shape[1]), dtype=np.float32)
            features[batch] = batch_features
        bar.update(len(batch))
    bar.close()
    counts = np.bincount(owners, minlength=len(pieces))[:, None]
    return _per_review(logits, owners, counts), None if features is None else _per_review(features, owners, counts)


def _per_review(values: np.ndarray, owners: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The mean of each review's windows' rows."""
    sums = np.zeros((len(counts), values.shape[1]), dtype=values.dtype)
    np.add.at(sums, owners, values)
    return np.asarray(sums / counts, dtype=values.dtype)


def progress(*, total: int, desc: str, enabled: bool, initial: int = 0) -> Any:
    """A tqdm progress bar (of batches, or of inputs when scoring); does nothing unless ``enabled``."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="batch" if desc != "scoring" else "input",
        disable=not enabled,
        dynamic_ncols=True,
    )
