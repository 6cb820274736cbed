"""Ways to show an :class:`~imdb_sentiment.explain.records.Explanation`.

:func:`to_html` (an HTML fragment, the review's text escaped), :func:`to_terminal` (a rich ``Text`` for a
console) and :func:`plot_attention` (a PNG heatmap of a transformer's attention, or its
:func:`attention_rollout`).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from imdb_sentiment.errors import InputError
from imdb_sentiment.explain.records import Explanation
from imdb_sentiment.plots import pyplot, save_figure
from imdb_sentiment.text import BREAK_TAG_PATTERN

if TYPE_CHECKING:
    from rich.text import Text

_BREAKS = re.compile(BREAK_TAG_PATTERN + r"|\n", re.IGNORECASE)


def _scale(explanation: Explanation) -> float:
    # Colours are relative to the review's strongest word; an all-zero explanation divides by 1, not 0.
    return max((abs(t.attribution) for t in explanation.tokens), default=0.0) or 1.0


def to_html(explanation: Explanation, *, title: str | None = None) -> str:
    """An HTML fragment showing which words pushed the prediction which way.

    Each word's background is green (towards positive) or red (towards negative), its strength
    proportional to the attribution; hovering shows the value. All review text is escaped.

    Args:
        explanation: What to show.
        title: An optional heading (escaped too).

    Returns:
        A ``<div>`` fragment.
    """
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

    Args:
        explanation: What to show.
        top_k: How many of the strongest words to list on each side.

    Returns:
        The text to print.
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
    """Save a word-piece x word-piece heatmap of a transformer's attention.

    Args:
        explanation: An explanation with attention weights (``model.explain(text, attention=True)``).
        path: Where to write the PNG.
        layer: The layer to show; ``None``: the attention rollout over all layers (Abnar & Zuidema 2020).
        head: The head of ``layer`` to show; ``None``: the layer's mean over heads.

    Returns:
        ``path``.

    Raises:
        InputError: the explanation has no attention weights, or ``layer`` / ``head`` is out of range
            (nothing is written then).
    """
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
    plt = pyplot()
    n = len(explanation.pieces)
    # Grow with the number of pieces so their labels stay legible, up to a size a browser still shows.
    size = min(4 + n * 0.18, 30)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(n), explanation.pieces, rotation=90, fontsize=7)
    ax.set_yticks(range(n), explanation.pieces, fontsize=7)
    ax.set_xlabel("attended to")
    ax.set_ylabel("attending")
    ax.set_title(f"{what} ({explanation.label}, {explanation.probability:.1%})")
    fig.colorbar(image, ax=ax, fraction=0.046)
    return save_figure(fig, path)


def attention_rollout(attention: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) of ``(layers, heads, pieces, pieces)`` attention weights.

    Per layer, the mean over heads plus the residual connection (identity), rows renormalised, multiplied
    through the layers.

    Returns:
        A ``(pieces, pieces)`` matrix whose rows sum to one (the identity for no layers).
    """
    n = attention.shape[-1]
    rollout = np.eye(n)
    for layer in attention:
        mixed = layer.mean(axis=0) + np.eye(n)
        mixed /= mixed.sum(axis=-1, keepdims=True)
        rollout = mixed @ rollout
    return rollout
