"""The HTTP API: saved models behind FastAPI, thin over the library.

    imdb-sentiment serve models/first models/second --port 8000

Routes (OpenAPI docs at ``/docs``):

    POST /v1/predict   {"texts": [...], "model": optional}     -> a label and probabilities per review
    POST /v1/explain   {"text": "...", "model": optional, "top_k": optional} -> the word attributions
    GET  /v1/models    the loaded models: name, kind, whether default, stored metrics
    GET  /health       {"status": "ok", "models": [...]}

Every model is loaded once, when the app is created; the first folder given is the default model, and
each is named after its folder ("first", then "first-2" for a second folder of that name). Limits come
from :class:`ServeSettings` (environment variables ``IMDB_SENTIMENT_MAX_CHARS`` and so on) and are part of
the request schemas, so the OpenAPI document states them and a request over a limit gets a 422 (413 for
a body too large) that names the limit, never a 500.
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at runtime, and
# the request models are built inside create_app (their bounds come from the settings), where string
# annotations could not be resolved.

import dataclasses
import gc
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imdb_sentiment.errors import USER_ERRORS, ImdbSentimentError, InputError
from imdb_sentiment.hosting import check_can_listen, unique_names
from imdb_sentiment.labels import predictions
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.registry import load_model
from imdb_sentiment.serving.batching import MicroBatcher
from imdb_sentiment.serving.schemas import (
    ErrorMessage,
    ExplainResponse,
    ExplainShape,
    Health,
    ModelInfo,
    Prediction,
    PredictResponse,
    PredictShape,
    request_models,
)
from imdb_sentiment.settings import ENV_PREFIX, ServeSettings

#: Where :func:`run` tells its worker processes which model folders to load.
_MODELS_ENV = "IMDB_SENTIMENT_SERVE_MODELS"

# Errors and the body-size limit. (The handlers are `async` so that Starlette does not send them to a thread.)

_SETTING_OF_ERROR = {"string_too_long": "MAX_CHARS", "too_long": "MAX_TEXTS"}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with ``loc``, ``msg`` and ``type`` per problem; the input is not echoed (it may be 100,000 characters)."""
    assert isinstance(exc, RequestValidationError)
    detail = []
    for error in exc.errors():
        loc = list(error.get("loc", ()))
        msg = str(error.get("msg", "invalid"))
        kind = str(error.get("type", "value_error"))
        ctx = error.get("ctx") or {}
        if kind == "json_invalid" and "error" in ctx:
            msg = f"{msg}: {ctx['error']}; send a JSON object"
        elif kind in _SETTING_OF_ERROR and len(loc) > 1 and loc[1] in ("texts", "text"):
            msg = f"{msg} (the limit is {ENV_PREFIX}{_SETTING_OF_ERROR[kind]})"
        detail.append({"loc": loc, "msg": msg, "type": kind})
    return JSONResponse({"detail": detail}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers 400 to a body it cannot even decode (bytes that are not UTF-8); to the client that
        # is malformed JSON like any other, so it gets the same 422.
        msg = f"JSON decode error: {exc.__cause__}; send a JSON object encoded as UTF-8"
        return JSONResponse({"detail": [{"loc": ["body"], "msg": msg, "type": "json_invalid"}]}, status_code=422)
    return await http_exception_handler(request, exc)


async def _library_error(request: Request, exc: Exception) -> JSONResponse:
    """The library's deliberate errors: bad input is the client's (422), anything else is ours (500, one line)."""
    if isinstance(exc, USER_ERRORS):
        return JSONResponse({"detail": [{"loc": ["body"], "msg": str(exc), "type": "input_error"}]}, status_code=422)
    return JSONResponse({"detail": str(exc)}, status_code=500)


class _BodyLimit:
    """Answer 413 to a request body over ``max_bytes``.

    A declared Content-Length over the limit is refused before any of the body is read; bytes are also
    counted as they arrive, so a chunked body (no Content-Length) or a lying one is stopped at the limit
    instead of being buffered whole.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            message = f"request body too large: {declared:,} bytes, the limit is {self._limit()}"
            await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the endpoint's body parsing, FastAPI re-raises HTTPException as is.
                    raise HTTPException(413, f"request body too large: over the limit of {self._limit()}")
            return message

        await self.app(scope, counting_receive, send)

    def _limit(self) -> str:
        return f"{self.max_bytes:,} bytes ({ENV_PREFIX}MAX_BODY_BYTES)"


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------------------------------------------------
# The app.


def create_app(model_dirs: Sequence[str | Path], settings: ServeSettings | None = None) -> FastAPI:
    """Load the models once and return the API as a FastAPI app.

    Args:
        model_dirs: Saved model folders; the first is the default. Each is named after its folder.
        settings: Limits; default: read from ``IMDB_SENTIMENT_*`` environment variables.

    Returns:
        The app, for uvicorn or ``fastapi.testclient.TestClient``.

    Raises:
        InputError: no model folder given.
        ModelError: a folder is not a saved model.
        ConfigError: a limit in the environment is invalid.
    """
    from imdb_sentiment import __version__

    if isinstance(model_dirs, str | Path):
        model_dirs = [model_dirs]
    if not model_dirs:
        raise InputError("give at least one saved model folder to serve")
    settings = settings if settings is not None else ServeSettings.from_env()
    from imdb_sentiment.pretrained import resolve

    folders = [resolve(folder) for folder in model_dirs]
    names = unique_names(folders)
    models: dict[str, SentimentModel] = {name: load_model(folder) for name, folder in zip(names, folders, strict=True)}
    default = names[0]
    PredictBody, ExplainBody = request_models(settings, names)

    app = FastAPI(
        title="imdb-sentiment",
        version=__version__,
        description=(
            "Tell whether movie reviews are positive or negative, and which words made the model think so.\n\n"
            f"Models: {', '.join(f'`{n}` ({models[n].kind})' for n in names)}; default `{default}`. "
            f"Limits: {settings.max_texts} reviews per request, {settings.max_chars:,} characters per review, "
            f"{settings.max_body_bytes:,} bytes per request body."
        ),
    )
    app.add_middleware(_BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ImdbSentimentError, _library_error)
    unknown = {"model": ErrorMessage, "description": "No model of that name is loaded."}
    too_large = {"model": ErrorMessage, "description": "The request body is over the size limit."}

    def pick(name: str | None) -> tuple[str, SentimentModel]:
        if name is None:
            return default, models[default]
        if name not in models:
            raise HTTPException(404, f"unknown model {name!r}; the loaded models are: {', '.join(names)}")
        return name, models[name]

    batcher = MicroBatcher(models)

    # Concurrent requests are scored together (see serving/batching.py): under many clients each sending
    # one review, the model's fixed cost per call is paid once per round instead of once per request.
    @app.post("/v1/predict", response_model=PredictResponse, tags=["predict"], responses={404: unknown, 413: too_large})
    async def predict(body: PredictBody) -> Response:  # type: ignore[valid-type]  # built per app
        """Classify reviews: a label, its probability and the probability of positive, for each."""
        request = cast(PredictShape, body)
        name, _ = pick(request.model)
        proba = await batcher.predict_proba(name, request.texts)
        results = [Prediction(**dataclasses.asdict(p)) for p in predictions(proba)]
        # Serialised here, in pydantic's Rust core: returned as a model, FastAPI would validate it again
        # against the response model before serialising, doubling the per-request work.
        response = PredictResponse(model=name, predictions=results)
        return Response(response.model_dump_json(), media_type="application/json")

    @app.post(
        "/v1/explain",
        response_model=ExplainResponse,
        response_model_exclude_unset=True,
        tags=["predict"],
        responses={404: unknown, 413: too_large},
    )
    def explain(body: ExplainBody) -> dict[str, Any]:  # type: ignore[valid-type]  # built per app
        """Explain one prediction: each word's push towards positive (or negative), in log-odds."""
        request = cast(ExplainShape, body)
        _, model = pick(request.model)
        # The API does not return attention weights: do not compute them (kinds without attention ignore it).
        explanation = model.explain(request.text, attention=False)
        out = explanation.to_dict()
        if request.top_k is not None:
            out["top"] = [dataclasses.asdict(t) for t in explanation.top(request.top_k)]
        return out

    @app.get("/v1/models", response_model=list[ModelInfo], tags=["models"])
    def list_models() -> list[ModelInfo]:
        """The loaded models, the default first, with the metrics stored beside their weights."""
        return [
            ModelInfo(name=n, kind=m.kind, default=n == default, metrics=m.info_.get("metrics") or {})
            for n, m in models.items()
        ]

    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """Liveness: the server is up and its models are loaded."""
        return Health(status="ok", models=names)

    return app


def run(
    model_dirs: Sequence[str | Path],
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    settings: ServeSettings | None = None,
    announce: Callable[[str], None] | None = None,
    workers: int = 1,
) -> None:
    """Load the models and serve them with uvicorn until interrupted.

    Args:
        model_dirs: Saved model folders; the first is the default.
        host: Address to listen on (loopback by default; ``0.0.0.0`` for every interface).
        port: Port to listen on.
        settings: Limits; default: from the environment.
        announce: Called with the base URL once the models are loaded and the port is free, just before serving.
        workers: Server processes, each with its own copy of the models. One process scores on one core
            at a time (Python's GIL); more use more cores, at the cost of memory.

    Raises:
        ModelError: a folder is not a saved model.
        InputError: the address cannot be listened on (e.g. the port is taken).
    """
    import uvicorn

    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    app = create_app(model_dirs, settings)  # also when forking workers: a bad folder fails here, once
    _freeze_heap()
    check_can_listen(host, port)
    if announce is not None:
        announce(f"http://{f'[{host}]' if ':' in host else host}:{port}")
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "access_log": False}
    if workers == 1:
        uvicorn.run(app, **options)
        return
    # uvicorn starts each worker process from an import string, so the workers rebuild the app from
    # environment variables: the model folders here, the limits as IMDB_SENTIMENT_* settings.
    os.environ[_MODELS_ENV] = json.dumps([str(Path(d).absolute()) for d in model_dirs])
    for key, value in (settings or ServeSettings.from_env()).model_dump().items():
        os.environ[f"{ENV_PREFIX}{key.upper()}"] = str(value)
    uvicorn.run(f"{__name__}:app_from_env", factory=True, workers=workers, **options)


def app_from_env() -> FastAPI:
    """The app of a worker process started by :func:`run` (its models are named in the environment)."""
    app = create_app(json.loads(os.environ[_MODELS_ENV]))
    _freeze_heap()
    return app


def _freeze_heap() -> None:
    # The loaded models and libraries are millions of long-lived objects; frozen, the garbage collector
    # stops re-scanning them in the collections that every few hundred requests trigger, which were
    # pauses of several milliseconds in the latency tail.
    gc.collect()
    gc.freeze()
