"""The HTTP API (FastAPI): ``create_app`` builds it over saved models, ``run`` serves it with uvicorn."""

from imdb_sentiment.serving.api import create_app, run
from imdb_sentiment.settings import ServeSettings

__all__ = ["ServeSettings", "create_app", "run"]
