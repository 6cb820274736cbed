"""Word pieces and windows: how a review of any length becomes model inputs.

Reviews are tokenised once, in full and without special tokens (so the tokenizer never warns that a
sequence is longer than the model accepts), and then cut to size by :func:`window_positions`:

- ``head_tail``: the first ``head_fraction`` of the budget from the start of the review and the rest
  from its end, which is where reviewers sum up (Sun et al. 2019);
- ``head``: the start only;
- ``chunks``: evenly spaced windows that overlap by at least ``stride`` word pieces and cover the whole
  review (at most ``max_chunks``).

Training cuts by ``truncation``, inference by ``inference_truncation`` (empty: as in training).

Only the Rust ``tokenizers`` library is used (``tokenizer.json``, plus the padding token named in
``tokenizer_config.json``), not transformers: ONNX inference then needs neither it nor torch.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imdb_sentiment.errors import ModelError
from imdb_sentiment.models.transformer.config import TransformerConfig
from imdb_sentiment.text import normalize, normalize_with_offsets

#: What a saved model keeps of the tokenizer (tokenizer.json is what loading needs; the rest lets
#: transformers' AutoTokenizer read the folder too).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


@dataclass(frozen=True)
class PieceTokenizer:
    """A fast tokenizer with what windowing needs to know about it.

    Attributes:
        backend: The ``tokenizers.Tokenizer``, with truncation and padding switched off.
        source: The folder it was read from (its files are copied when a model is saved).
        prefix: Special token ids before a single sequence (``[CLS]`` for BERT, ``<s>`` for MPNet).
        suffix: Special token ids after it (``[SEP]``, ``</s>``).
        pad_id: The padding token's id.
    """

    backend: Any
    source: Path
    prefix: list[int]
    suffix: list[int]
    pad_id: int

    @property
    def n_special(self) -> int:
        """How many special tokens every model input carries."""
        return len(self.prefix) + len(self.suffix)

    def word_pieces(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids of each whole (normalised) review, without special tokens."""
        encodings = self.backend.encode_batch([normalize(t) for t in texts], add_special_tokens=False)
        return [e.ids for e in encodings]

    def pieces_with_spans(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Word-piece ids of one review and, per piece, its character span in the raw ``text``.

        Explanations point at the words the user wrote, so the spans are mapped back through the
        normalisation (``<br />`` tags, entities); a piece of no characters gets ``(0, 0)``.
        """
        normalized, origins = normalize_with_offsets(text)
        encoding = self.backend.encode(normalized, add_special_tokens=False)
        ids = np.asarray(encoding.ids, dtype=np.int64)
        spans = [(origins[a][0], origins[b - 1][1]) if b > a else (0, 0) for a, b in encoding.offsets]
        return ids, spans

    def wrap(self, pieces: Iterable[int]) -> list[int]:
        """One model input: the special tokens around ``pieces``."""
        return [*self.prefix, *pieces, *self.suffix]

    def token(self, piece: int) -> str:
        """The text of word piece ``piece`` (empty for an unknown id)."""
        return str(self.backend.id_to_token(piece) or "")

    def copy_files(self, target: Path) -> None:
        """Copy the tokenizer's files that a saved model keeps into ``target`` (created if missing)."""
        target.mkdir(parents=True, exist_ok=True)
        for name in TOKENIZER_FILES:
            if (self.source / name).is_file():
                shutil.copy2(self.source / name, target / name)


def load_tokenizer(source: str | Path) -> PieceTokenizer:
    """Read the fast tokenizer in the folder ``source``.

    Raises:
        ModelError: the ``tokenizers`` library is missing, or ``source`` has no ``tokenizer.json``.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise ModelError("the transformer kind needs tokenizers: pip install 'imdb-sentiment'") from None

    folder = Path(source)
    file = folder / "tokenizer.json"
    if not file.is_file():
        raise ModelError(f"{source} has no fast (Rust) tokenizer; a tokenizer.json is needed")
    # Without the truncation or padding some tokenizer.json files switch on: reviews are tokenised
    # whole and cut to size by window_positions.
    backend = Tokenizer.from_file(str(file))
    backend.no_truncation()
    backend.no_padding()
    # The special tokens around a single sequence ([CLS] ... [SEP] for BERT, <s> ... </s> for MPNet),
    # read off the tokenizer's own post-processor: encode one word with and without them.
    bare = backend.encode("a", add_special_tokens=False).ids
    full = backend.encode("a", add_special_tokens=True).ids
    at = next(i for i in range(len(full)) if full[i : i + len(bare)] == bare)
    return PieceTokenizer(
        backend=backend,
        source=folder,
        prefix=full[:at],
        suffix=full[at + len(bare) :],
        pad_id=_pad_token_id(folder, backend),
    )


def check_room(cfg: TransformerConfig, tokenizer: PieceTokenizer) -> None:
    """Raise :class:`~imdb_sentiment.errors.ModelError` if ``max_length`` leaves no room for a review.

    Raises:
        ModelError: ``max_length`` (or the shorter ``inference_max_length``) minus the special tokens is
            not more than ``stride``.
    """
    if cfg.input_length - tokenizer.n_special <= cfg.stride:
        raise ModelError(
            "max_length (or inference_max_length) leaves no room for the review after the special tokens and stride"
        )


def window_positions(n: int, cfg: TransformerConfig, *, n_special: int, training: bool = False) -> list[np.ndarray]:
    """Which of a review's ``n`` word pieces go into each model input.

    Args:
        n: Word pieces in the review.
        cfg: The config in force (``max_length`` for training, ``input_length`` otherwise, the truncations,
            ``head_fraction``, ``stride``, ``max_chunks``).
        n_special: Special tokens per input (:attr:`PieceTokenizer.n_special`).
        training: Cut by ``truncation`` (training) rather than ``inference_truncation``.

    Returns:
        One array of piece indices per model input, in order.
    """
    truncation = cfg.truncation if training else cfg.inference_truncation or cfg.truncation
    budget = (cfg.max_length if training else cfg.input_length) - n_special
    if n <= budget:
        return [np.arange(n)]
    if truncation == "head":
        return [np.arange(budget)]
    if truncation == "head_tail":
        head = round(budget * cfg.head_fraction)
        return [np.concatenate((np.arange(head), np.arange(n - (budget - head), n)))]
    step = budget - cfg.stride
    count = min(cfg.max_chunks, math.ceil((n - cfg.stride) / step))
    starts = np.linspace(0, n - budget, count).round().astype(int)
    return [np.arange(s, s + budget) for s in starts]


def review_windows(
    ids: Sequence[int], tokenizer: PieceTokenizer, cfg: TransformerConfig, *, training: bool = False
) -> list[list[int]]:
    """The model inputs (special tokens added) for one review's word pieces, per the truncation."""
    positions = window_positions(len(ids), cfg, n_special=tokenizer.n_special, training=training)
    return [tokenizer.wrap(ids[i] for i in p) for p in positions]


def piece_rows(
    pieces: Sequence[list[int]], tokenizer: PieceTokenizer, cfg: TransformerConfig, *, training: bool = False
) -> tuple[list[list[int]], np.ndarray]:
    """Model inputs for reviews given as word-piece ids, and per input the index of its review."""
    inputs: list[list[int]] = []
    owners: list[int] = []
    for i, ids in enumerate(pieces):
        windows = review_windows(ids, tokenizer, cfg, training=training)
        inputs.extend(windows)
        owners.extend([i] * len(windows))
    return inputs, np.asarray(owners, dtype=np.int64)


def text_rows(
    texts: Sequence[str], tokenizer: PieceTokenizer, cfg: TransformerConfig, *, training: bool = False
) -> tuple[list[list[int]], np.ndarray]:
    """Model inputs for ``texts`` and, per input, the index of the review it comes from."""
    return piece_rows(tokenizer.word_pieces(texts), tokenizer, cfg, training=training)


def pad(rows: Sequence[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad ``rows`` to the longest: ``(input_ids, attention_mask)``, both int64 ``(len(rows), width)``."""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for j, row in enumerate(rows):
        ids[j, : len(row)] = row
        mask[j, : len(row)] = 1
    return ids, mask


def _pad_token_id(folder: Path, tokenizer: Any) -> int:
    """The padding token's id: the ``pad_token`` of ``tokenizer_config.json``, else ``[PAD]`` / ``<pad>``, else 0."""
    names: list[str] = []
    config = folder / "tokenizer_config.json"
    if config.is_file():
        pad_token = json.loads(config.read_text(encoding="utf-8")).get("pad_token")
        if isinstance(pad_token, dict):
            pad_token = pad_token.get("content")
        if isinstance(pad_token, str):
            names.append(pad_token)
    for name in (*names, "[PAD]", "<pad>"):
        token_id = tokenizer.token_to_id(name)
        if token_id is not None:
            return int(token_id)
    return 0
