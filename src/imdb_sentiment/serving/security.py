"""Who may call the HTTP API: the optional API key, and the refusal to listen openly without one."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from imdb_sentiment.errors import InputError
from imdb_sentiment.settings import ENV_PREFIX

#: Routes open without the key: a load balancer's health check has no secret to send.
OPEN_PATHS = frozenset({"/health"})


class ApiKey:
    """Answer 401 to a request without the key, before any of its body is read.

    The key comes in header ``X-API-Key`` or as ``Authorization: Bearer <key>``, and is compared in
    constant time (``hmac.compare_digest``), so the answer's timing tells nothing about the key.
    """

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"detail": "missing or wrong API key: send it in header X-API-Key or as Authorization: Bearer <key>"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        given = b""
        for name, value in scope.get("headers", ()):
            if name == b"x-api-key":
                given = value
                break
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                given = value[7:].strip()
                break
        return hmac.compare_digest(given, self.key)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def check_exposure(host: str, has_key: bool, *, insecure_no_key: bool = False) -> None:
    """Refuse to listen beyond this machine without an API key, unless told to explicitly.

    Raises:
        InputError: ``host`` is not a loopback address, no key is set, and ``insecure_no_key`` is false.
    """
    if has_key or insecure_no_key or is_loopback(host):
        return
    raise InputError(
        f"refusing to serve on {host} without an API key: set {ENV_PREFIX}API_KEY "
        "(or pass --insecure-no-key to serve it open to the network)"
    )
