"""Why the transformer said what it said: integrated gradients, attention weights, word occlusion.

Integrated gradients (Captum's ``LayerIntegratedGradients`` on the embedding layer, towards the log-odds
of *positive*) need the network's gradients, so PyTorch. The shipped model runs on ONNX Runtime in the
slim install (no torch), and still has to say why: each word of the review is left out in turn and the
drop in the log-odds of *positive* is that word's attribution (leave-one-out, the "occlusion" of Zeiler
and Fergus applied to words). One forward pass per word plus one for the whole review; batched, a
250-word review takes a few seconds on two cores with the int8 model.

torch and Captum are imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from imdb_sentiment.explain.records import Explanation, fold_onto_words, make_explanation
from imdb_sentiment.models.transformer.network import eager_attention
from imdb_sentiment.models.transformer.windows import PieceTokenizer
from imdb_sentiment.text import word_spans

#: Words occluded at most (the rest keep attribution 0): bounds the time a very long review takes.
MAX_WORDS = 1024


def gradients_available() -> bool:
    """Whether torch, transformers and Captum can all be imported (integrated gradients need them)."""
    try:
        import captum  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def explain_by_gradients(
    text: str,
    ids: np.ndarray,
    spans: list[tuple[int, int]],
    windows: list[np.ndarray],
    *,
    network: Any,
    tokenizer: PieceTokenizer,
    device: Any,
    p_positive: float,
    n_steps: int,
    attention: bool,
) -> Explanation:
    """Integrated gradients of each word piece, averaged over the windows, folded onto the review's words.

    The baseline keeps the special tokens and replaces every word piece by the padding token. Each
    window is attributed and the attributions averaged, as its logits are.

    Args:
        text: The review as written.
        ids: Its word-piece ids; ``spans`` their character spans in ``text``
            (:meth:`~imdb_sentiment.models.transformer.windows.PieceTokenizer.pieces_with_spans`).
        spans: See ``ids``.
        windows: Piece indices per model input (:func:`~imdb_sentiment.models.transformer.windows.window_positions`).
        network: The PyTorch network, in eval mode.
        tokenizer: Supplies the special tokens, the padding id and the pieces' text.
        device: The ``torch.device`` the network is on.
        p_positive: The model's probability of *positive* for ``text``.
        n_steps: Integration steps.
        attention: Also attach the attention weights of every layer and head for the first window.

    Returns:
        The explanation.
    """
    import torch
    from captum.attr import LayerIntegratedGradients

    def log_odds(input_ids: Any, attention_mask: Any) -> Any:
        logits = network(input_ids=input_ids, attention_mask=attention_mask).logits.float()
        return logits[:, 1] - logits[:, 0]

    explainer = LayerIntegratedGradients(log_odds, network.get_input_embeddings())
    start, stop_before = len(tokenizer.prefix), len(tokenizer.suffix)
    per_piece = np.zeros(len(ids))
    deltas = []
    for positions in windows:
        row = tokenizer.wrap(ids[positions].tolist())
        inputs = torch.as_tensor([row], device=device)
        baseline = inputs.clone()
        baseline[0, start : len(row) - stop_before] = tokenizer.pad_id
        mask = torch.ones_like(inputs)
        attributions, delta = explainer.attribute(
            inputs, baselines=baseline, additional_forward_args=(mask,), n_steps=n_steps,
            internal_batch_size=max(1, min(n_steps, 4096 // len(row))), return_convergence_delta=True,
        )  # fmt: skip
        summed = attributions.sum(dim=-1)[0].detach().float().cpu().numpy()
        per_piece[positions] += summed[start : len(row) - stop_before] / len(windows)
        deltas.append(float(delta[0]))
    tokens, unassigned = fold_onto_words(text, spans, per_piece)
    extra: dict[str, Any] = {}
    if attention:
        row = tokenizer.wrap(ids[windows[0]].tolist())
        extra["pieces"] = tuple(tokenizer.token(i) for i in row)
        extra["attention"] = attention_weights(network, row, device)
    return make_explanation(
        text,
        p_positive,
        f"layer integrated gradients on the embeddings (Captum, {n_steps} steps, baseline: padding tokens)",
        tokens,
        details={
            "baseline": "special tokens kept, every word piece replaced by the padding token",
            "n_steps": n_steps,
            "convergence_delta": float(np.mean(np.abs(deltas))),
            "windows": len(windows),
            "pieces": len(ids),
            "pieces_used": len(np.unique(np.concatenate(windows))) if len(ids) else 0,
            "unassigned": unassigned,
        },
        **extra,
    )


def attention_weights(network: Any, row: list[int], device: Any) -> np.ndarray:
    """Attention weights ``(layers, heads, pieces, pieces)`` for one input.

    Eager attention returns them; the fast kernels used otherwise do not, so the network is switched to
    eager attention for this one pass and back.
    """
    import torch

    with eager_attention(network), torch.inference_mode():
        inputs = torch.as_tensor([row], device=device)
        out = network(input_ids=inputs, attention_mask=torch.ones_like(inputs), output_attentions=True)
    return np.stack([a[0].float().cpu().numpy() for a in out.attentions])


def explain_by_occlusion(
    text: str,
    ids: np.ndarray,
    spans: list[tuple[int, int]],
    *,
    log_odds: Callable[[list[list[int]]], np.ndarray],
    p_positive: float,
    n_windows: int,
) -> Explanation:
    """Leave-one-word-out attributions, from forward passes alone (ONNX Runtime, no torch).

    Args:
        text: The review as written; ``ids`` and ``spans`` as for :func:`explain_by_gradients`.
        ids: Its word-piece ids.
        spans: Their character spans in ``text``.
        log_odds: Scores a batch of piece-id sequences (each cut into windows as the model does).
        p_positive: The model's probability of *positive* for ``text``.
        n_windows: How many windows the whole review is cut into (reported in the details).

    Returns:
        The explanation.
    """
    groups = piece_groups(text, spans)
    per_piece = occlusion_attributions(ids.tolist(), groups, log_odds)
    tokens, unassigned = fold_onto_words(text, spans, per_piece)
    return make_explanation(
        text,
        p_positive,
        "word occlusion on ONNX Runtime (log-odds drop when each word is left out)",
        tokens,
        details={
            "words_occluded": min(len(groups), MAX_WORDS),
            "windows": n_windows,
            "pieces": len(ids),
            "unassigned": unassigned,
            "why": "integrated gradients need torch and the PyTorch weights, which this install lacks",
        },
    )


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
