"""Explanations: which words pushed a prediction towards *positive* or *negative*, shown and measured.

- :mod:`~imdb_sentiment.explain.records`: :class:`Explanation`, :class:`TokenAttribution` and the helpers
  the models build them with (no drawing, no models);
- :mod:`~imdb_sentiment.explain.render`: :func:`to_html`, :func:`to_terminal`, :func:`plot_attention`,
  :func:`attention_rollout`;
- :mod:`~imdb_sentiment.explain.faithfulness`: ERASER comprehensiveness and sufficiency;
- :mod:`~imdb_sentiment.explain.compare`: two models' explanations of the same reviews, compared.

The public names are re-exported here (``from imdb_sentiment.explain import Explanation, to_html``). The
function :func:`~imdb_sentiment.explain.faithfulness.faithfulness` is not: it would hide the module of the
same name; import it from :mod:`imdb_sentiment.explain.faithfulness`.
"""

from __future__ import annotations

from imdb_sentiment.explain.compare import compare_explanations, rank_agreement
from imdb_sentiment.explain.faithfulness import Faithfulness, explain_many
from imdb_sentiment.explain.records import (
    Explanation,
    TokenAttribution,
    check_steps,
    fold_onto_words,
    make_explanation,
)
from imdb_sentiment.explain.render import attention_rollout, plot_attention, to_html, to_terminal

__all__ = [
    "Explanation",
    "Faithfulness",
    "TokenAttribution",
    "attention_rollout",
    "check_steps",
    "compare_explanations",
    "explain_many",
    "fold_onto_words",
    "make_explanation",
    "plot_attention",
    "rank_agreement",
    "to_html",
    "to_terminal",
]
