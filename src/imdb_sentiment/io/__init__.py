"""Reading and writing review tables: the one table of formats (:mod:`~imdb_sentiment.io.formats`), the
readers every surface uses (:mod:`~imdb_sentiment.io.readers`) and the atomic writers
(:mod:`~imdb_sentiment.io.writers`)."""
