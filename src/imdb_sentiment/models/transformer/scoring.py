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
    inputs, owners = piece_rows(pieces, tokenizer, cfg)
    # Longest first, in batches of similar length: little padding, and memory peaks at the start.
    order = np.argsort([-len(r) for r in inputs], kind="stable")
    size = cfg.inference_batch_size
    logits = np.zeros((len(inputs), 2))
    bar = progress(total=len(inputs), desc="scoring", enabled=verbose and len(inputs) > 4 * size)
    for start in range(0, len(order), size):
        batch = order[start : start + size]
        logits[batch] = batch_logits(*pad([inputs[j] for j in batch], tokenizer.pad_id))
        bar.update(len(batch))
    bar.close()
    sums = np.zeros((len(pieces), 2))
    np.add.at(sums, owners, logits)
    return sums / np.bincount(owners, minlength=len(pieces))[:, None]


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
