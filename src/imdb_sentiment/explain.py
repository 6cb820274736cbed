"""Explanations: which words pushed a prediction towards *positive* or *negative*, and how to show them.

Every model kind explains through :meth:`SentimentModel.explain <imdb_sentiment.models.base.SentimentModel.explain>`,
which returns an :class:`Explanation`. Attributions are in the same unit for every kind -- the log-odds of
*positive*, ``log(p / (1 - p))`` -- and on the same words (:func:`imdb_sentiment.text.word_spans`), so the
explanations of two models can be compared word by word and an ensemble's are its members' weighted sum.

Renderings: :func:`to_html` (an HTML fragment, the review's text escaped), :func:`to_terminal` (rich
markup for a console) and :func:`plot_attention` (a PNG heatmap for transformer models).
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from rich.text import Text

from imdb_sentiment.text import BREAK_TAG_PATTERN, word_spans

_BREAKS = re.compile(BREAK_TAG_PATTERN + r"|\n", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class TokenAttribution:
    """One word of the review and how much it pushed the prediction towards *positive* (negative: away)."""

    token: str
    #: Character span of the word in the review as given (``text[start:end] == token``).
    start: int
    end: int
    #: Signed contribution to the log-odds of *positive*.
    attribution: float


@dataclasses.dataclass(frozen=True)
class Explanation:
    """Why a model predicted what it did for one review.

    JSON-serialisable through :meth:`to_dict` / :meth:`to_json`; ``attention`` (transformers only, an array
    of shape ``(layers, heads, pieces, pieces)``) is left out of the JSON unless asked for.
    """

    text: str
    label: str
    #: Probability of the predicted label.
    probability: float
    p_positive: float
    #: How the attributions were computed, e.g. ``"exact linear contributions"``.
    method: str
    tokens: tuple[TokenAttribution, ...]
    #: Method-specific figures: the baseline, the integrated-gradients convergence delta, the intercept ...
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Word pieces and attention weights for transformer models, else ``None``.
    pieces: tuple[str, ...] | None = None
    attention: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)

    def top(self, k: int = 10, *, sign: int = 0) -> list[TokenAttribution]:
        """The ``k`` words with the largest absolute attribution (``sign`` 1 / -1: only positive / negative)."""
        tokens = [t for t in self.tokens if sign == 0 or np.sign(t.attribution) == sign]
        return sorted(tokens, key=lambda t: -abs(t.attribution))[:k]

    def to_dict(self, *, attention: bool = False) -> dict[str, Any]:
        """Plain JSON-compatible values; ``attention=True`` includes the attention weights as nested lists."""
        out: dict[str, Any] = {
            "text": self.text,
            "label": self.label,
            "probability": self.probability,
            "p_positive": self.p_positive,
            "method": self.method,
            "tokens": [dataclasses.asdict(t) for t in self.tokens],
            "details": self.details,
        }
        if self.pieces is not None:
            out["pieces"] = list(self.pieces)
        if attention and self.attention is not None:
            out["attention"] = np.round(self.attention, 5).tolist()
        return out

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(**kwargs))


def fold_onto_words(
    text: str, spans: Sequence[tuple[int, int]], values: Sequence[float] | np.ndarray
) -> tuple[tuple[TokenAttribution, ...], float]:
    """Add up attributions given on character spans (word pieces, n-grams) onto the review's words.

    A span's value goes to the words it overlaps, shared in proportion to the characters of each word it
    covers. Returns the word attributions and the total that fell on no word (punctuation, special tokens).
    """
    words = word_spans(text)
    totals = np.zeros(len(words))
    starts = np.array([w[1] for w in words], dtype=np.int64)
    ends = np.array([w[2] for w in words], dtype=np.int64)
    unassigned = 0.0
    for (start, end), value in zip(spans, values, strict=True):
        overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0, None)
        covered = overlap.sum()
        if covered == 0:
            unassigned += float(value)
            continue
        totals += value * overlap / covered
    tokens = tuple(
        TokenAttribution(token=w[0], start=w[1], end=w[2], attribution=float(a))
        for w, a in zip(words, totals, strict=True)
    )
    return tokens, unassigned


def make_explanation(
    text: str, p_positive: float, method: str, tokens: tuple[TokenAttribution, ...], **extra: Any
) -> Explanation:
    label = "positive" if p_positive >= 0.5 else "negative"
    return Explanation(
        text=text,
        label=label,
        probability=float(max(p_positive, 1 - p_positive)),
        p_positive=float(p_positive),
        method=method,
        tokens=tokens,
        **extra,
    )


def check_steps(n_steps: int) -> None:
    """Reject an integrated-gradients step count below 1 (Captum would fail with a bare assertion)."""
    from imdb_sentiment.errors import InputError

    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise InputError(f"n_steps must be a whole number >= 1, got {n_steps!r}")


# ------------------------------------------------------------------------------------------- renderings
def _scale(explanation: Explanation) -> float:
    return max((abs(t.attribution) for t in explanation.tokens), default=0.0) or 1.0


def to_html(explanation: Explanation, *, title: str | None = None) -> str:
    """An HTML fragment: the review with each word's background green (towards positive) or red (negative),
    its strength proportional to the attribution; hovering shows the value. All review text is escaped."""
    scale = _scale(explanation)
    text = explanation.text
    parts = []
    position = 0
    for token in explanation.tokens:
        parts.append(_escape_between(text[position : token.start]))
        strength = min(abs(token.attribution) / scale, 1.0)
        colour = "22, 163, 74" if token.attribution > 0 else "220, 38, 38"
        parts.append(
            f'<span class="attr" style="background: rgba({colour}, {0.08 + 0.72 * strength:.2f}); '
            f'border-radius: 3px" title="{token.attribution:+.4f}">{html.escape(text[token.start : token.end])}</span>'
            if strength >= 0.02
            else html.escape(text[token.start : token.end])
        )
        position = token.end
    parts.append(_escape_between(text[position:]))
    body = "".join(parts)
    heading = html.escape(title) if title else ""
    return (
        '<div class="imdb-explanation" style="font-family: sans-serif; line-height: 1.7">'
        + (f"<h4>{heading}</h4>" if heading else "")
        + f"<p><b>{html.escape(explanation.label)}</b> ({explanation.probability:.1%}) "
        + f"<small>{html.escape(explanation.method)}</small></p>"
        + f"<p>{body}</p></div>"
    )


def _escape_between(text: str) -> str:
    # Between words: IMDb's break tags and newlines become line breaks; everything else is escaped.
    return "<br>".join(html.escape(part) for part in _BREAKS.split(text))


def to_terminal(explanation: Explanation, *, top_k: int = 10) -> Text:
    """A rich ``Text`` for a console: the review with coloured words, then the strongest words either way.

    Styles are applied to character spans, never written as markup, so review text that looks like rich
    markup (``[bold]``) is shown as it is.
    """
    from rich.text import Text

    scale = _scale(explanation)
    out = Text()
    out.append(explanation.label, style="bold")
    out.append(f" ({explanation.probability:.1%}) - {explanation.method}\n\n")
    review = Text(explanation.text)
    for token in explanation.tokens:
        strength = abs(token.attribution) / scale
        if strength >= 0.15:
            style = ("bold " if strength >= 0.5 else "") + ("green" if token.attribution > 0 else "red")
            review.stylize(style, token.start, token.end)
    out.append_text(review)
    out.append("\n")
    for heading, sign in (("towards positive", 1), ("towards negative", -1)):
        top = explanation.top(top_k, sign=sign)
        out.append(f"\n{heading}: ", style="bold")
        out.append(", ".join(f"{t.token} ({t.attribution:+.3f})" for t in top) or "-")
    return out


def plot_attention(
    explanation: Explanation, path: str | Path, *, layer: int | None = None, head: int | None = None
) -> Path:
    """Save a word-piece x word-piece heatmap: one layer and head, a layer's mean over heads (``head=None``),
    or the attention rollout over all layers (``layer=None``; Abnar & Zuidema 2020)."""
    from imdb_sentiment.errors import InputError
    from imdb_sentiment.evaluate import _pyplot, _save

    if explanation.attention is None or explanation.pieces is None:
        raise InputError("this explanation has no attention weights (only transformer models have them)")
    attention = explanation.attention
    if layer is None:
        matrix, what = attention_rollout(attention), "attention rollout over all layers"
    else:
        if not 0 <= layer < attention.shape[0]:
            raise InputError(f"layer must be in [0, {attention.shape[0]}), got {layer}")
        if head is None:
            matrix, what = attention[layer].mean(axis=0), f"layer {layer}, mean over heads"
        else:
            if not 0 <= head < attention.shape[1]:
                raise InputError(f"head must be in [0, {attention.shape[1]}), got {head}")
            matrix, what = attention[layer, head], f"layer {layer}, head {head}"
    plt = _pyplot()
    n = len(explanation.pieces)
    size = min(4 + n * 0.18, 30)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(n), explanation.pieces, rotation=90, fontsize=7)
    ax.set_yticks(range(n), explanation.pieces, fontsize=7)
    ax.set_xlabel("attended to")
    ax.set_ylabel("attending")
    ax.set_title(f"{what} ({explanation.label}, {explanation.probability:.1%})")
    fig.colorbar(image, ax=ax, fraction=0.046)
    return _save(fig, Path(path))


def attention_rollout(attention: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): per layer, the mean over heads plus the residual
    connection (identity), rows renormalised, multiplied through the layers."""
    n = attention.shape[-1]
    rollout = np.eye(n)
    for layer in attention:
        mixed = layer.mean(axis=0) + np.eye(n)
        mixed /= mixed.sum(axis=-1, keepdims=True)
        rollout = mixed @ rollout
    return rollout
