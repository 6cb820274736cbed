"""The HTTP API: saved models behind FastAPI, thin over the library.

    imdb-sentiment serve models/first models/second --port 8000

Routes (OpenAPI docs at ``/docs``):

    POST /v1/predict   {"texts": [...], "model": optional}     -> a label and probabilities per review
    POST /v1/explain   {"text": "...", "model": optional, "top_k": optional} -> the word attributions, rating, aspects
    POST /v1/summarize {"reviews": [{"text", "group"?, "time"?, "id"?}], "model"?, "adjust"?, "share_from"?, "examples"?}
                       -> per group: share positive and ratings; per group and aspect: praise and complaints
    GET  /v1/models    the loaded models: name, kind, whether default, whether it rates, stored metrics
    GET  /health       {"status": "ok", "models": [...]}

Every model is loaded once, when the app is created; the first folder given is the default model, and
each is named after its folder ("first", then "first-2" for a second folder of that name). Limits come
from :class:`ServeSettings` (environment variables ``IMDB_SENTIMENT_MAX_CHARS`` and so on) and are part of
the request schemas, so the OpenAPI document states them and a request over a limit gets a 422 (413 for
a body too large) that names the limit, never a 500. Under overload the answers are 503 (a full queue,
see serving/batching.py), 504 (a request timeout) and 408 (a body too slow to arrive); with an API key
set, 401 without it (serving/security.py). A 500 names a request id, never the exception.
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at runtime, and
# the request models are built inside create_app (their bounds come from the settings), where string
# annotations could not be resolved.

import asyncio
import dataclasses
import functools
import gc
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from anyio import to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import SecretStr
from starlette.exceptions import HTTPException as StarletteHTTPException

from imdb_sentiment.audience.polarity import review_aspects
from imdb_sentiment.audience.summarize import SummarizeConfig
from imdb_sentiment.audience.summarize_texts import summarize_texts
from imdb_sentiment.errors import USER_ERRORS, ImdbSentimentError, InputError
from imdb_sentiment.explain import Explanation
from imdb_sentiment.hosting import check_can_listen, unique_names
from imdb_sentiment.labels import Prediction as PredictionRecord
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.registry import load_model
from imdb_sentiment.scoring import RowScores, predict_one
from imdb_sentiment.serving.batching import MicroBatcher, Overloaded
from imdb_sentiment.serving.middleware import BodyGuard, InternalErrors, internal_error
from imdb_sentiment.serving.schemas import (
    ErrorMessage,
    ExplainResponse,
    ExplainShape,
    Health,
    ModelInfo,
    Prediction,
    PredictResponse,
    PredictShape,
    SummarizeResponse,
    SummarizeShape,
    request_models,
)
from imdb_sentiment.serving.security import ApiKey, check_exposure
from imdb_sentiment.settings import ENV_PREFIX, ServeSettings

#: Where :func:`run` tells its worker processes which model folders to load.
_MODELS_ENV = "IMDB_SENTIMENT_SERVE_MODELS"

_T = TypeVar("_T")

# Errors and timeouts. (The handlers are `async` so that Starlette does not send them to a thread.)

#: The setting that bounds how many reviews a request's list holds.
_LIST_SETTING = {"texts": "MAX_TEXTS", "reviews": "MAX_SUMMARY_TEXTS"}


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
        elif kind == "string_too_long" and (loc[1:2] == ["texts"] or (len(loc) > 1 and loc[-1] == "text")):
            msg = f"{msg} (the limit is {ENV_PREFIX}MAX_CHARS)"  # a review's text: texts[i], text, reviews[i].text
        elif kind == "too_long" and len(loc) == 2 and loc[1] in _LIST_SETTING:
            msg = f"{msg} (the limit is {ENV_PREFIX}{_LIST_SETTING[loc[1]]})"
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
    """The library's deliberate errors: bad input is the client's (422), anything else is ours (a bare 500)."""
    if isinstance(exc, USER_ERRORS):
        return JSONResponse({"detail": [{"loc": ["body"], "msg": str(exc), "type": "input_error"}]}, status_code=422)
    return internal_error(exc)


def _busy(exc: Overloaded) -> HTTPException:
    return HTTPException(
        503, f"server busy: {exc}; retry shortly ({ENV_PREFIX}MAX_QUEUE_*)", headers={"Retry-After": "1"}
    )


def _predictions(p_positive: np.ndarray, stars: np.ndarray | None) -> list[PredictionRecord]:
    """The library's prediction record of each scored review (:mod:`imdb_sentiment.labels`), rated from ``stars``
    by the rule every surface uses (:class:`~imdb_sentiment.scoring.RowScores`) when the model rates."""
    rows = RowScores([None] * len(p_positive), np.asarray(p_positive, dtype=np.float64), stars)
    return [p for p in rows.predictions() if p is not None]


async def _within(seconds: float, awaitable: Awaitable[_T]) -> _T:
    """``await awaitable``, or a 504 after ``seconds`` (the request stops waiting; see the callers)."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise HTTPException(
            504, f"scoring took longer than {seconds:g} s ({ENV_PREFIX}REQUEST_TIMEOUT_S); try fewer or shorter reviews"
        ) from None


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
    PredictBody, ExplainBody, SummarizeBody = request_models(settings, names)
    key = settings.api_key

    app = FastAPI(
        title="imdb-sentiment",
        version=__version__,
        description=(
            "Tell whether movie reviews are positive or negative, and which words made the model think so.\n\n"
            f"Models: {', '.join(f'`{n}` ({models[n].kind})' for n in names)}; default `{default}`. "
            f"Limits: {settings.max_texts} reviews per request ({settings.max_summary_texts} to summarize), "
            f"{settings.max_chars:,} characters per review, {settings.body_limit:,} bytes per request body "
            f"({settings.summary_body_limit:,} to summarize); a request waits at most "
            f"{settings.request_timeout_s:g} s (504 after that), and a full queue answers 503 at once."
            + (" Every route but /health needs the API key (X-API-Key or Authorization: Bearer)." if key else "")
        ),
    )
    # Added innermost first: a request meets InternalErrors, then the key check (before any body is
    # read), then the body's size and read-time limits.
    app.add_middleware(
        BodyGuard,
        max_bytes=settings.body_limit,
        read_timeout_s=settings.read_timeout_s,
        path_limits={"/v1/summarize": settings.summary_body_limit},
    )
    if key:
        app.add_middleware(ApiKey, key=key.get_secret_value())
    app.add_middleware(InternalErrors)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ImdbSentimentError, _library_error)
    unknown = {"model": ErrorMessage, "description": "No model of that name is loaded."}
    too_large = {"model": ErrorMessage, "description": "The request body is over the size limit."}
    limits: dict[int | str, dict[str, Any]] = {
        408: {"model": ErrorMessage, "description": "The body did not arrive within the read timeout."},
        413: too_large,
        503: {"model": ErrorMessage, "description": "The model's queue is full; retry after `Retry-After` s."},
        504: {"model": ErrorMessage, "description": "Scoring took longer than the request timeout."},
    }
    if key:
        limits[401] = {"model": ErrorMessage, "description": "Missing or wrong API key."}

    def pick(name: str | None) -> tuple[str, SentimentModel]:
        if name is None:
            return default, models[default]
        if name not in models:
            raise HTTPException(404, f"unknown model {name!r}; the loaded models are: {', '.join(names)}")
        return name, models[name]

    batcher = MicroBatcher(models, max_requests=settings.max_queue_requests, max_texts=settings.max_queue_texts)

    # Concurrent requests are scored together (see serving/batching.py): under many clients each sending
    # one review, the model's fixed cost per call is paid once per round instead of once per request.
    @app.post("/v1/predict", response_model=PredictResponse, tags=["predict"], responses={404: unknown, **limits})
    async def predict(body: PredictBody) -> Response:  # type: ignore[valid-type]  # built per app
        """Classify reviews: a label, its probability, the probability of positive and the stars, for each."""
        request = cast(PredictShape, body)
        name, _ = pick(request.model)
        try:
            # On timeout the request stops waiting for its round (its future is cancelled; a round not yet
            # started skips it); a round already running finishes for the other requests in it.
            scores = await _within(settings.request_timeout_s, batcher.score(name, request.texts))
        except Overloaded as exc:
            raise _busy(exc) from None
        results = [Prediction(**dataclasses.asdict(p)) for p in _predictions(scores.proba[:, 1], scores.stars)]
        # Serialised here, in pydantic's Rust core: returned as a model, FastAPI would validate it again
        # against the response model before serialising, doubling the per-request work.
        response = PredictResponse(model=name, predictions=results)
        return Response(response.model_dump_json(), media_type="application/json")

    @app.post(
        "/v1/explain",
        response_model=ExplainResponse,
        response_model_exclude_unset=True,
        tags=["predict"],
        responses={404: unknown, **limits},
    )
    async def explain(body: ExplainBody) -> dict[str, Any]:  # type: ignore[valid-type]  # built per app
        """Explain one prediction: each word's push towards positive (or negative), in log-odds."""
        request = cast(ExplainShape, body)
        _, model = pick(request.model)

        def explain_and_rate(text: str) -> tuple[Explanation, int | None, list[dict[str, Any]]]:
            # The API does not return attention weights: do not compute them (kinds without attention ignore it).
            explanation = model.explain(text, attention=False)
            rating = predict_one(model, text, p_positive=explanation.p_positive).rating
            return explanation, rating, review_aspects(model, text, explanation.p_positive)

        # In a thread, abandoned on timeout: the client gets its 504 while the thread runs to its end.
        work = functools.partial(explain_and_rate, request.text)
        explanation, rating, aspects = await _within(
            settings.request_timeout_s, to_thread.run_sync(work, abandon_on_cancel=True)
        )
        out = explanation.to_dict()
        out["rating"] = rating
        out["aspects"] = aspects
        if request.top_k is not None:
            out["top"] = [dataclasses.asdict(t) for t in explanation.top(request.top_k)]
        return out

    @app.post("/v1/summarize", response_model=SummarizeResponse, tags=["summarize"], responses={404: unknown, **limits})
    async def summarize(body: SummarizeBody) -> Response:  # type: ignore[valid-type]  # built per app
        """Summarise reviews by group: each group's share of positive reviews and mean star rating (with 95%
        intervals, corrected for label shift unless `adjust` is `none`), and what each group's reviews praise
        or criticise (acting, story, music...), with example sentences. The model needs a rating head."""
        request = cast(SummarizeShape, body)
        name, model = pick(request.model)
        if not model.rates:
            raise InputError(
                f"model {name!r} has no rating head, so it cannot summarise; serve a model with one "
                "(`imdb-sentiment train-rating MODEL_DIR` adds it)"
            )
        texts = [review.text for review in request.reviews]
        config = SummarizeConfig(adjust=request.adjust, share_from=request.share_from, examples=request.examples)

        async def work() -> dict[str, Any]:
            # The reviews are scored in the model's queue, with the predictions (a full queue is a 503), then
            # summarised in a thread: the bootstrap and the aspects take a while, the event loop must not.
            scores = await batcher.score(name, texts)
            job = functools.partial(
                summarize_texts,
                model,
                texts,
                [review.group for review in request.reviews],
                ids=[review.id for review in request.reviews],
                times=[review.time for review in request.reviews],
                config=config,
                p_positive=scores.proba[:, 1],
                stars=scores.stars,
            )
            return await to_thread.run_sync(job, abandon_on_cancel=True)

        try:
            summary = await _within(settings.request_timeout_s, work())
        except Overloaded as exc:
            raise _busy(exc) from None
        response = SummarizeResponse(model=name, **summary)
        return Response(response.model_dump_json(), media_type="application/json")

    @app.get("/v1/models", response_model=list[ModelInfo], tags=["models"])
    def list_models() -> list[ModelInfo]:
        """The loaded models, the default first, whether each rates, with the metrics stored beside their weights."""
        return [
            ModelInfo(name=n, kind=m.kind, default=n == default, rates=m.rates, metrics=m.info_.get("metrics") or {})
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
    insecure_no_key: bool = False,
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
        insecure_no_key: Serve on a non-loopback ``host`` without an API key (refused otherwise).

    Raises:
        ModelError: a folder is not a saved model.
        InputError: the address cannot be listened on (e.g. the port is taken), or it is not a loopback
            address and no API key is set (``IMDB_SENTIMENT_API_KEY``) nor ``insecure_no_key`` given.
    """
    import uvicorn

    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    settings = settings if settings is not None else ServeSettings.from_env()
    check_exposure(host, settings.api_key is not None, insecure_no_key=insecure_no_key)
    app = create_app(model_dirs, settings)  # also when forking workers: a bad folder fails here, once
    _freeze_heap()
    check_can_listen(host, port)
    if announce is not None:
        announce(f"http://{f'[{host}]' if ':' in host else host}:{port}")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        # Past limit_concurrency open connections (or tasks), uvicorn answers 503 without calling the app.
        "limit_concurrency": settings.limit_concurrency,
        "timeout_keep_alive": settings.timeout_keep_alive,
    }
    if workers == 1:
        uvicorn.run(app, **options)
        return
    # uvicorn starts each worker process from an import string, so the workers rebuild the app from
    # environment variables: the model folders here, the limits as IMDB_SENTIMENT_* settings.
    os.environ[_MODELS_ENV] = json.dumps([str(Path(d).absolute()) for d in model_dirs])
    for key, value in settings.model_dump().items():
        if value is not None:
            secret = value.get_secret_value() if isinstance(value, SecretStr) else value
            os.environ[f"{ENV_PREFIX}{key.upper()}"] = str(secret)
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
