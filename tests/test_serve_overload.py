"""The HTTP API under overload: a bounded queue (503), timeouts (504, 408), uvicorn's limits, the body limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")

import httpx
import numpy as np
from fastapi.testclient import TestClient

from imdb_sentiment import get_model_class
from imdb_sentiment.serving import ServeSettings, create_app, run
from serve_models import tiny_ngram


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_ngram(tmp_path_factory.mktemp("overload"))


@pytest.fixture
def slow_model(monkeypatch):
    """Every ngram call takes 0.4 s, in the threadpool (as a network's would), so requests pile up."""
    cls = get_model_class("ngram")
    predict_proba, explain = cls.predict_proba, cls.explain

    def slow_predict(self, texts):
        time.sleep(0.4)
        return predict_proba(self, texts)

    def slow_explain(self, *args, **kwargs):
        time.sleep(3)
        return explain(self, *args, **kwargs)

    monkeypatch.setattr(cls, "cheap_calls", False)
    monkeypatch.setattr(cls, "predict_proba", slow_predict)
    monkeypatch.setattr(cls, "explain", slow_explain)


async def timed_posts(app, bodies: list[dict], route: str = "/v1/predict") -> list[tuple[httpx.Response, float]]:
    """POST every body at once (in-process, one event loop) and return each response with its latency."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api", timeout=30) as client:

        async def post(body: dict) -> tuple[httpx.Response, float]:
            start = time.perf_counter()
            response = await client.post(route, json=body)
            return response, time.perf_counter() - start

        return await asyncio.gather(*(post(b) for b in bodies))


# ---------------------------------------------------------------------------------------------------------
# The bounded queue of the micro-batcher.


class _Sleepy:
    cheap_calls = False

    def predict_proba(self, texts):
        time.sleep(0.3)
        return np.full((len(texts), 2), 0.5)

    def predict_proba_and_stars(self, texts):
        return self.predict_proba(texts), None


def test_the_batcher_refuses_past_its_request_bound_at_once():
    from imdb_sentiment.serving.batching import MicroBatcher, Overloaded

    batcher = MicroBatcher({"m": _Sleepy()}, max_requests=2)

    async def main():
        first = asyncio.ensure_future(batcher.predict_proba("m", ["a"]))
        await asyncio.sleep(0.05)  # the first is in a round now: no longer waiting
        queued = [asyncio.ensure_future(batcher.predict_proba("m", ["b"])) for _ in range(2)]
        await asyncio.sleep(0)
        start = time.perf_counter()
        with pytest.raises(Overloaded, match="2 requests are already waiting"):
            await batcher.predict_proba("m", ["c"])
        refused_in = time.perf_counter() - start
        results = await asyncio.gather(first, *queued)
        return refused_in, results

    refused_in, results = asyncio.run(main())
    assert refused_in < 0.05
    assert [r.shape for r in results] == [(1, 2)] * 3


def test_the_batcher_bounds_reviews_waiting_but_always_admits_into_an_empty_queue():
    from imdb_sentiment.serving.batching import MicroBatcher, Overloaded

    batcher = MicroBatcher({"m": _Sleepy()}, max_texts=3)

    async def main():
        first = asyncio.ensure_future(batcher.predict_proba("m", ["a"] * 5))  # over the bound, queue empty
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(batcher.predict_proba("m", ["b"] * 2))
        await asyncio.sleep(0)
        with pytest.raises(Overloaded, match="2 reviews are already waiting"):
            await batcher.predict_proba("m", ["c"] * 2)
        await batcher.predict_proba("m", ["d"])  # 2 + 1 fits
        return await asyncio.gather(first, second)

    first, second = asyncio.run(main())
    assert (len(first), len(second)) == (5, 2)


def test_a_full_queue_is_a_503_with_retry_after_and_a_reason(model_dir, slow_model):
    app = create_app([model_dir], ServeSettings(max_queue_requests=2))
    results = asyncio.run(timed_posts(app, [{"texts": [f"review {i}"]} for i in range(10)]))
    statuses = sorted(r.status_code for r, _ in results)
    assert set(statuses) == {200, 503}, statuses
    assert statuses.count(200) >= 2  # the two admitted while the queue had room
    for response, seconds in results:
        if response.status_code == 503:
            assert response.headers["retry-after"] == "1"
            assert "server busy" in response.json()["detail"]
            assert "MAX_QUEUE" in response.json()["detail"]
            assert seconds < 0.3  # refused at once, not after waiting for a round


# ---------------------------------------------------------------------------------------------------------
# The per-request timeout.


def test_a_prediction_slower_than_the_timeout_is_a_504_on_time(model_dir, slow_model):
    app = create_app([model_dir], ServeSettings(request_timeout_s=0.1))
    ((response, seconds),) = asyncio.run(timed_posts(app, [{"texts": ["slow"]}]))
    assert response.status_code == 504
    assert "IMDB_SENTIMENT_REQUEST_TIMEOUT_S" in response.json()["detail"]
    assert seconds < 0.35  # the model call takes 0.4 s; the answer does not wait for it


def test_an_explanation_slower_than_the_timeout_is_a_504_on_time(model_dir, slow_model):
    app = create_app([model_dir], ServeSettings(request_timeout_s=0.2))
    ((response, seconds),) = asyncio.run(timed_posts(app, [{"text": "slow"}], route="/v1/explain"))
    assert response.status_code == 504
    assert seconds < 1.5  # explain takes 3 s


def test_requests_that_time_out_while_queued_are_not_scored(model_dir, monkeypatch):
    calls: list[int] = []
    cls = get_model_class("ngram")
    predict_proba = cls.predict_proba
    round_s = 1.0  # long beside the 0.15 s timeout, so that a busy machine cannot post the four after it

    def slow_predict(self, texts):
        calls.append(len(texts))
        time.sleep(round_s)
        return predict_proba(self, texts)

    monkeypatch.setattr(cls, "cheap_calls", False)
    monkeypatch.setattr(cls, "predict_proba", slow_predict)
    app = create_app([model_dir], ServeSettings(request_timeout_s=0.15))

    async def main():
        first = asyncio.ensure_future(timed_posts(app, [{"texts": ["first"]}]))
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:  # wait for the first's round, not a fixed time
            await asyncio.sleep(0.01)
        rest = await timed_posts(app, [{"texts": [f"r{i}"]} for i in range(4)])
        results = [*await first, *rest]
        await asyncio.sleep(round_s + 0.3)  # past the round in progress, when a next round would have started
        return results

    results = asyncio.run(main())
    assert [r.status_code for r, _ in results] == [504] * 5
    assert max(seconds for _, seconds in results) < round_s
    assert calls == [1]  # the first went into a round; the four queued behind it were dropped


# ---------------------------------------------------------------------------------------------------------
# The default body limit.


def test_the_default_body_limit_follows_the_text_limits():
    settings = ServeSettings()
    assert settings.max_body_bytes is None
    assert settings.body_limit == 100_000 * 4 + 256 * 2048 + 4096
    assert ServeSettings(max_chars=10, max_texts=2).body_limit == 40 + 4096 + 4096
    assert ServeSettings(max_body_bytes=123).body_limit == 123


def test_the_default_body_limit_admits_one_longest_review_in_worst_case_utf8_and_refuses_bulk(model_dir):
    client = TestClient(create_app([model_dir], ServeSettings()))
    longest = json.dumps({"texts": ["\U0001f600" * 100_000]}, ensure_ascii=False).encode()
    assert len(longest) > 400_000
    response = client.post("/v1/predict", content=longest, headers={"content-type": "application/json"})
    assert response.status_code == 200
    bulk = json.dumps({"texts": ["a fine film " * 8_000] * 20}).encode()  # 1.9 MB, every review within limits
    response = client.post("/v1/predict", content=bulk, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "IMDB_SENTIMENT_MAX_BODY_BYTES" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------------------
# A real uvicorn server, started with the options `run` gives it: connection limit and read timeout.


@contextlib.contextmanager
def served(model_dir, settings: ServeSettings, monkeypatch):
    """Run the API as `run` would, on a free loopback port in a thread; yield the port."""
    import uvicorn

    servers: list[uvicorn.Server] = []

    def start(app, **options):
        servers.append(uvicorn.Server(uvicorn.Config(app, **options)))

    monkeypatch.setattr(uvicorn, "run", start)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run([model_dir], "127.0.0.1", port, settings=settings)
    (server,) = servers
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_client_that_trickles_its_body_is_cut_off(model_dir, monkeypatch):
    head = b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
    with (
        served(model_dir, ServeSettings(read_timeout_s=1.0), monkeypatch) as port,
        socket.create_connection(("127.0.0.1", port), timeout=6) as slow,
    ):
        slow.sendall(head + b"\r\n{")  # the headers and 1 of the 100 bytes of the body
        start = time.monotonic()
        answer = b""
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            while chunk := slow.recv(4096):  # until the server closes the connection
                answer += chunk
        waited = time.monotonic() - start
    assert waited < 3, "the connection was held open"
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"IMDB_SENTIMENT_READ_TIMEOUT_S" in answer


def test_connections_past_the_concurrency_limit_get_a_503(model_dir, monkeypatch):
    with served(model_dir, ServeSettings(limit_concurrency=2), monkeypatch) as port:
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        try:
            time.sleep(0.2)
            response = httpx.post(f"http://127.0.0.1:{port}/v1/predict", json={"texts": ["good"]}, timeout=5)
        finally:
            for connection in idle:
                connection.close()
        assert response.status_code == 503
        time.sleep(0.2)
        assert httpx.post(f"http://127.0.0.1:{port}/v1/predict", json={"texts": ["good"]}).status_code == 200


def test_run_passes_the_keep_alive_timeout_to_uvicorn(model_dir, monkeypatch):
    import uvicorn

    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    run([model_dir], "127.0.0.1", 0, settings=ServeSettings(timeout_keep_alive=3, limit_concurrency=7))
    assert (runs[0]["timeout_keep_alive"], runs[0]["limit_concurrency"]) == (3, 7)
