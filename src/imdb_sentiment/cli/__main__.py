"""``python -m imdb_sentiment.cli``: the ``imdb-sentiment`` command (used where the script is not on PATH)."""

from imdb_sentiment.cli import main

main()
