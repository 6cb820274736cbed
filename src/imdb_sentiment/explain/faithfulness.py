"""How faithful explanations are, measured: ERASER's comprehensiveness and sufficiency (DeYoung et al. 2020).

For each review, the words an explanation ranks as most supporting the predicted label (the top k% by
attribution towards that label) are

- deleted: **comprehensiveness** = p(predicted label | review) - p(predicted label | review without them).
  High is good: the words the explanation points at were what the model relied on;
- kept alone: **sufficiency** = p(predicted label | review) - p(predicted label | only those words).
  Low is good: those words alone carry the prediction.

Each is compared with the same number of words picked at random (seeded), so that a method is only
credited for beating chance.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from imdb_sentiment.explain.records import Explanation

#: Shares of each review's words removed or kept, as in ERASER.
DEFAULT_KS = (0.05, 0.10, 0.20)


def delete_words(text: str, explanation: Explanation, indices: Sequence[int] | np.ndarray) -> str:
    """``text`` with the words at ``indices`` (positions in ``explanation.tokens``) cut out."""
    out, position = [], 0
    for i in sorted(indices):
        token = explanation.tokens[i]
        out.append(text[position : token.start])
        position = token.end
    out.append(text[position:])
    return "".join(out)


def keep_words(explanation: Explanation, indices: Sequence[int] | np.ndarray) -> str:
    """Only the words at ``indices``, in reading order, separated by spaces."""
    return " ".join(explanation.tokens[i].token for i in sorted(indices))


def ranked_support(explanation: Explanation) -> np.ndarray:
    """Word positions from most to least supporting the predicted label (attribution towards that label)."""
    sign = 1.0 if explanation.label == "positive" else -1.0
    support = np.array([sign * t.attribution for t in explanation.tokens])
    return np.argsort(-support, kind="stable")


@dataclasses.dataclass(frozen=True)
class Faithfulness:
    """Mean comprehensiveness and sufficiency at each k, for the method and for random words."""

    ks: tuple[float, ...]
    comprehensiveness: dict[float, float]
    sufficiency: dict[float, float]
    random_comprehensiveness: dict[float, float]
    random_sufficiency: dict[float, float]
    n: int

    def to_dict(self) -> dict[str, Any]:
        def pct(values: dict[float, float]) -> dict[str, float]:
            return {f"{k:.0%}": round(v, 4) for k, v in values.items()}

        return {
            "n": self.n,
            "comprehensiveness": pct(self.comprehensiveness),
            "random_comprehensiveness": pct(self.random_comprehensiveness),
            "sufficiency": pct(self.sufficiency),
            "random_sufficiency": pct(self.random_sufficiency),
            "comprehensiveness_mean": round(float(np.mean(list(self.comprehensiveness.values()))), 4),
            "random_comprehensiveness_mean": round(float(np.mean(list(self.random_comprehensiveness.values()))), 4),
            "sufficiency_mean": round(float(np.mean(list(self.sufficiency.values()))), 4),
            "random_sufficiency_mean": round(float(np.mean(list(self.random_sufficiency.values()))), 4),
        }


def faithfulness(
    model: Any,
    explanations: Sequence[Explanation],
    *,
    ks: Sequence[float] = DEFAULT_KS,
    seed: int = 0,
) -> Faithfulness:
    """Comprehensiveness and sufficiency of ``explanations`` (of ``model``'s predictions) at each k.

    All perturbed reviews are scored in one ``predict_proba`` call per k and variant.

    Args:
        model: The model that made the explanations (anything with ``predict_proba``).
        explanations: Its explanations; those without words are left out.
        ks: Shares of each review's words to delete or keep.
        seed: Seed of the random words the method is compared with.

    Returns:
        The means over the explanations, per k.
    """
    rng = np.random.default_rng(seed)
    usable = [e for e in explanations if e.tokens]
    base = np.array([e.probability for e in usable])
    positive = np.array([e.label == "positive" for e in usable])

    def predicted_proba(texts: list[str]) -> np.ndarray:
        p = model.predict_proba(texts)[:, 1]
        return np.where(positive, p, 1.0 - p)

    results: dict[str, dict[float, float]] = {name: {} for name in ("c", "s", "rc", "rs")}
    for k in ks:
        chosen, random_chosen = [], []
        for e in usable:
            count = max(1, round(k * len(e.tokens)))
            chosen.append(ranked_support(e)[:count])
            random_chosen.append(rng.choice(len(e.tokens), size=count, replace=False))
        for key, picks in (("c", chosen), ("rc", random_chosen)):
            deleted = [delete_words(e.text, e, idx) for e, idx in zip(usable, picks, strict=True)]
            results[key][k] = float(np.mean(base - predicted_proba(deleted)))
        for key, picks in (("s", chosen), ("rs", random_chosen)):
            kept = [keep_words(e, idx) for e, idx in zip(usable, picks, strict=True)]
            results[key][k] = float(np.mean(base - predicted_proba(kept)))
    return Faithfulness(
        ks=tuple(ks),
        comprehensiveness=results["c"],
        sufficiency=results["s"],
        random_comprehensiveness=results["rc"],
        random_sufficiency=results["rs"],
        n=len(usable),
    )


def explain_many(
    model: Any, texts: Sequence[str], *, progress: bool = False, **options: Any
) -> tuple[list[Explanation], float]:
    """Explain each review with ``model``.

    Args:
        model: A fitted model.
        texts: The reviews.
        progress: Show a progress bar.
        **options: Passed to ``model.explain`` (a kind drops those it does not take).

    Returns:
        The explanations, and the mean seconds per explanation.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    out = [model.explain(t, **options) for t in tqdm(texts, desc=f"explaining ({model.kind})", disable=not progress)]
    return out, (time.perf_counter() - start) / max(len(texts), 1)
