"""The ``imdb-sentiment`` command: one verb per job, each parsing its arguments, calling the library and
printing the result. The verbs live by what they do; what they share is in ``common``.
"""

import importlib

from imdb_sentiment.cli.common import app, main

# Importing a module registers its verbs; ``--help`` lists them in this order: using a model first (what
# most people do, with the shipped one), summarising audiences, then serving it, measuring it, and making one.
for _verbs in ("predicting", "audience", "serving", "evaluating", "training"):
    importlib.import_module(f"{__name__}.{_verbs}")

__all__ = ["app", "main"]
