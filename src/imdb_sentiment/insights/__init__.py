"""What the walkthrough notebook shows, as plain functions: the data, model comparisons, errors, examples.

``notebooks/sentiment_analysis.ipynb`` only calls functions (here, in :mod:`~imdb_sentiment.plots` and in
:mod:`~imdb_sentiment.explain`) and displays what they return, so everything it shows is tested.

* :mod:`~imdb_sentiment.insights.settings`: :func:`notebook_sample` (``IMDB_NOTEBOOK_SAMPLE``),
  :func:`notebook_splits`, :func:`notebook_config`, :func:`models_folder` (``IMDB_NOTEBOOK_MODELS``),
  :func:`load_saved_models`;
* :mod:`~imdb_sentiment.insights.dataset`: :func:`split_sizes`, :func:`review_lengths`,
  :func:`length_summary`, :func:`rating_counts`, :func:`separating_words` and their plots;
* :mod:`~imdb_sentiment.insights.scores`: :func:`score_model`, :func:`comparison_table`;
* :mod:`~imdb_sentiment.insights.mistakes`: :func:`most_confident_errors`, :func:`accuracy_by_rating`,
  :func:`accuracy_by_length`;
* :mod:`~imdb_sentiment.insights.examples`: :func:`short_reviews`, :func:`attention_explanations`.

The scikit-learn peer every figure is compared with lives in :mod:`imdb_sentiment.peer`; :func:`fit_peer`
and :data:`PEER_NAME` are re-exported here so the notebook needs one import.
"""

from __future__ import annotations

from imdb_sentiment.insights.dataset import (
    length_summary,
    plot_ratings,
    plot_review_lengths,
    plot_separating_words,
    rating_counts,
    review_lengths,
    separating_words,
    split_sizes,
)
from imdb_sentiment.insights.examples import attention_explanations, short_reviews
from imdb_sentiment.insights.mistakes import accuracy_by_length, accuracy_by_rating, most_confident_errors
from imdb_sentiment.insights.scores import ModelScore, Predictor, comparison_table, score_model
from imdb_sentiment.insights.settings import (
    MODELS_ENV,
    SAMPLE_ENV,
    SAMPLED_EPOCHS,
    load_saved_models,
    models_folder,
    notebook_config,
    notebook_sample,
    notebook_splits,
)
from imdb_sentiment.peer import PEER_NAME, fit_peer

__all__ = [
    "MODELS_ENV",
    "PEER_NAME",
    "SAMPLED_EPOCHS",
    "SAMPLE_ENV",
    "ModelScore",
    "Predictor",
    "accuracy_by_length",
    "accuracy_by_rating",
    "attention_explanations",
    "comparison_table",
    "fit_peer",
    "length_summary",
    "load_saved_models",
    "models_folder",
    "most_confident_errors",
    "notebook_config",
    "notebook_sample",
    "notebook_splits",
    "plot_ratings",
    "plot_review_lengths",
    "plot_separating_words",
    "rating_counts",
    "review_lengths",
    "score_model",
    "separating_words",
    "short_reviews",
    "split_sizes",
]
