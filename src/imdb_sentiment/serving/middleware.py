"""ASGI middleware of the HTTP API: the body's size and read time, and 500s that say nothing about the server.

Pure ASGI (not Starlette's ``BaseHTTPMiddleware``): they wrap ``receive`` and ``send`` without buffering
anything, and cost nothing on a request that stays within its limits.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imdb_sentiment.settings import ENV_PREFIX

#: Where a 500's request id and its full exception are logged.
log = logging.getLogger("imdb_sentiment.serving")


def internal_error(exc: BaseException) -> JSONResponse:
    """A 500 that names a request id and nothing else; the id and the full exception go to the server's log.

    The exception's text is never sent: a library or OS message can hold server paths or settings.
    """
    request_id = uuid.uuid4().hex
    log.error("request %s failed: %s: %s", request_id, type(exc).__name__, exc, exc_info=exc)
    detail = f"internal error; the server's log has the details under request id {request_id}"
    return JSONResponse(
        {"detail": detail, "request_id": request_id}, status_code=500, headers={"X-Request-ID": request_id}
    )


class InternalErrors:
    """Answer any exception the app lets through with :func:`internal_error` (once logged, not re-raised)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for a 500: the status line is out; log it and let the server close
                raise
            await internal_error(exc)(scope, receive, send)


class BodyGuard:
    """Answer 413 to a body over ``max_bytes`` (or its path's limit in ``path_limits``) and 408 to one that
    takes longer than ``read_timeout_s``.

    A declared Content-Length over the limit is refused before any of the body is read; bytes are also
    counted as they arrive, so a chunked body (no Content-Length) or a lying one is stopped at the limit
    instead of being buffered whole. The read time counts from the first wait for the body to its last
    byte, whatever the pace: a client that trickles a byte now and then (slow loris) is cut off at the
    deadline all the same, and the 408 closes its connection. (uvicorn has a keep-alive timeout but no
    timeout on a request body.)
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, read_timeout_s: float, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout_s = read_timeout_s
        #: Routes whose bodies have a limit of their own (a summary carries many more reviews than a prediction).
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            message = f"request body too large: {declared:,} bytes, the limit is {self._limit(max_bytes)}"
            await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
            return
        received = 0
        complete = False
        deadline: float | None = None

        async def guarded_receive() -> Message:
            nonlocal received, complete, deadline
            if complete:  # after the body, the app only waits for a disconnect: no deadline on that
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + self.read_timeout_s
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                # Raised inside the endpoint's body parsing, FastAPI re-raises HTTPException as is.
                raise HTTPException(
                    408,
                    f"request body not received within {self.read_timeout_s:g} s ({ENV_PREFIX}READ_TIMEOUT_S)",
                    headers={"Connection": "close"},
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > max_bytes:
                    raise HTTPException(413, f"request body too large: over the limit of {self._limit(max_bytes)}")
            return message

        await self.app(scope, guarded_receive, send)

    @staticmethod
    def _limit(max_bytes: int) -> str:
        return f"{max_bytes:,} bytes ({ENV_PREFIX}MAX_BODY_BYTES)"


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
