"""Verbs that serve models: ``serve`` (the HTTP API) and ``app`` (the web app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from imdb_sentiment.cli.common import app, console, guard, model_ref


@app.command()
@guard
def serve(
    models: Annotated[
        list[str] | None,
        typer.Argument(
            help="Saved model folders; the first is the default (none: the shipped model).", show_default=False
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes, each with its own copy of the models (one per core).")
    ] = 1,
    insecure_no_key: Annotated[
        bool,
        typer.Option(
            "--insecure-no-key",
            help="Serve on a non-loopback --host without IMDB_SENTIMENT_API_KEY (anyone who can reach it may call it).",
        ),
    ] = False,
) -> None:
    """Serve models over HTTP: POST /v1/predict and /v1/explain, GET /v1/models and /health.

    On any host but loopback, set IMDB_SENTIMENT_API_KEY (or pass --insecure-no-key).
    """
    from imdb_sentiment.serving import run

    def announce(url: str) -> None:
        console.print(f"serving at {url}; API docs at {url}/docs; Ctrl-C stops", highlight=False, soft_wrap=True)

    folders = [model_ref(m) for m in models] if models else [model_ref(None)]
    run(folders, host, port, announce=announce, workers=workers, insecure_no_key=insecure_no_key)


@app.command("app")
@guard
def app_(
    model_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Saved model folders; the first is selected at start "
            "(default: the shipped model and those under ./models)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8501,
) -> None:
    """Open the web app (Streamlit): analyse, compare, score files, and read model reports."""
    from imdb_sentiment.ui.launch import run

    # Streamlit prints the address once it listens; the models and the port are checked before that.
    # This process then becomes Streamlit, so its signals (SIGTERM, Ctrl-C) reach the server itself.
    run(model_dirs or [], host=host, port=port)
