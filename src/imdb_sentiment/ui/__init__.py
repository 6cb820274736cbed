"""The Streamlit app, thin over the library: ``imdb-sentiment app MODEL_DIR...``.

``launch`` starts it (it imports no Streamlit); ``app.py`` is the entry script and ``views/`` its pages,
which only lay out what :mod:`imdb_sentiment.ui.analysis` and :mod:`imdb_sentiment.ui.batch` compute.
"""
