"""What the HTTP API and the web app share: naming the models they serve, and checking their address."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

from imdb_sentiment.errors import InputError


def unique_names(model_dirs: Sequence[Path]) -> list[str]:
    """Name each model after its folder: ``first``, then ``first-2`` for a second folder of that name."""
    names: list[str] = []
    for folder in model_dirs:
        base = folder.resolve().name or "model"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}-{n}"
        names.append(name)
    return names


def check_can_listen(host: str, port: int) -> None:
    """Raise :class:`InputError` unless a server could listen on ``host:port``.

    uvicorn and Streamlit report a taken port as a log line; checking first gives the CLI's one-line error.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on {host!r}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(
                f"cannot listen on {host}:{port}: {exc.strerror}; is another server running there? try another --port"
            ) from None
