"""The ``ngram`` kind: NB-weighted binary hashed word n-grams with logistic regression (NBSVM's family).

``model.py`` is the classifier and its config; ``features.py`` the vectorised tokenising and hashing.
"""

from imdb_sentiment.models.ngram.model import NgramClassifier, NgramConfig

__all__ = ["NgramClassifier", "NgramConfig"]
