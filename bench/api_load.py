"""Latency of the HTTP API under load, then under overload: predict requests over loopback, one JSON object.

    python bench/api_load.py [MODEL_DIR] [--requests 5000] [--seconds 60] [--concurrency 32] [--data PATH]
                             [--texts-per-request 1] [--overload 4] [--overload-seconds 20] [--out FILE]

Starts ``imdb-sentiment serve MODEL_DIR`` on a free loopback port as a subprocess, waits for ``/health``,
warms it up, then ``--concurrency`` clients (asyncio + aiohttp, one keep-alive connection each) send
``POST /v1/predict`` with one review each until ``--requests`` have been sent or ``--seconds`` have
passed. Reviews are drawn from the IMDb test split when the dataset is at hand (``--data``, ``IMDB_DATA``
or the cache; never downloaded), else generated. The clients run on the same machine as the server, so
on a small machine they compete with it for cores: the latencies are an upper bound. The server is
stopped at the end, also on error.

That first phase (closed loop: each client sends its next request when the last is answered) measures the
sustainable rate. With ``--overload F`` (default 4; 0 skips it) a second phase then offers F times that
rate, open loop, for ``--overload-seconds``: requests are sent on a fixed schedule whatever the answers,
as independent clients would. It reports the longest wait of any request (from its send to its answer)
against the server's request timeout, how far the client itself fell behind its schedule, the
server's RSS before, at its peak and after (psutil), and the count of each status; a sound server
answers every request 200 or 503 (a full queue, or past ``limit_concurrency``). Prints one JSON line;
``--out`` also writes it to a file (for ``bench/results/``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from robustness import emit

TARGET_P99_MS = 50


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_reviews(data: str | None, n: int, seed: int) -> tuple[list[str], str]:
    """Up to ``n`` test reviews, or generated ones of IMDb-like length when the dataset is not at hand."""
    from imdb_sentiment import ImdbSentimentError, load_imdb

    rng = random.Random(seed)
    try:
        texts = load_imdb(data, download=False, progress=False).test["text"].tolist()
        return rng.sample(texts, min(n, len(texts))), "imdb-test"
    except ImdbSentimentError:
        words = (
            "the", "film", "movie", "plot", "acting", "story", "was", "is", "and", "a", "of", "it", "this", "great",
            "terrible", "boring", "wonderful", "awful", "loved", "hated", "brilliant", "dull", "ending", "script",
        )  # fmt: skip
        return [" ".join(rng.choice(words) for _ in range(rng.randint(50, 400))) for _ in range(n)], "generated"


def start_server(model_dir: str, port: int, log: Path, workers: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "imdb_sentiment.cli", "serve", model_dir, "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def wait_until_healthy(server: subprocess.Popen[bytes], base: str, log: Path, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s:\n{log.read_text(errors='replace')}")


def batch(reviews: list[str], i: int, size: int) -> list[str]:
    return [reviews[(i * size + k) % len(reviews)] for k in range(size)]


async def load(
    base: str, reviews: list[str], *, requests: int, seconds: float, concurrency: int, per_request: int = 1
) -> dict:
    # aiohttp rather than httpx: the clients share the machine's cores with the server, and aiohttp's
    # C-accelerated client spends several times less CPU per request, leaving the cores to the server.
    import aiohttp

    latencies: list[float] = []
    errors = 0
    sent = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:

        async def post(texts: list[str]) -> bool:
            async with client.post("/v1/predict", json={"texts": texts}) as response:
                await response.read()
                return response.status == 200

        # Warm-up, not timed: opens the connections and the server's threadpool.
        await asyncio.gather(*(post(batch(reviews, i, per_request)) for i in range(concurrency)))
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors, sent
            while sent < requests and time.perf_counter() < deadline:
                texts = batch(reviews, sent, per_request)
                sent += 1
                start = time.perf_counter()
                try:
                    ok = await post(texts)
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
        async with client.get("/v1/models") as response:
            kind = next(m["kind"] for m in await response.json() if m["default"])
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "model": kind,
    }


async def overload(
    base: str, reviews: list[str], *, rate: float, seconds: float, per_request: int, server: psutil.Process
) -> dict:
    """Offer ``rate`` requests a second on a fixed schedule for ``seconds``; statuses, waits, the server's RSS."""
    import aiohttp

    statuses: collections.Counter[str] = collections.Counter()
    waits: list[float] = []
    lags: list[float] = []
    rss_peak = server.memory_info().rss
    # No client-side queue to speak of: the connection pool is far larger than the server's limit_concurrency.
    connector = aiohttp.TCPConnector(limit=1024)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as client:

        async def one(texts: list[str], scheduled: float) -> None:
            sent = time.perf_counter()
            lags.append(sent - scheduled)
            try:
                async with client.post("/v1/predict", json={"texts": texts}) as response:
                    await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            waits.append(time.perf_counter() - sent)
            statuses[status] += 1

        async def sample_rss() -> None:
            nonlocal rss_peak
            while True:
                rss_peak = max(rss_peak, server.memory_info().rss)
                await asyncio.sleep(0.2)

        sampler = asyncio.create_task(sample_rss())
        tasks = []
        start = time.perf_counter()
        while (now := time.perf_counter()) < start + seconds:
            due = start + len(tasks) / rate
            if due > now:
                await asyncio.sleep(due - now)
            tasks.append(asyncio.create_task(one(batch(reviews, len(tasks), per_request), due)))
        await asyncio.gather(*tasks)
        sampler.cancel()
    return {
        "offered_rps": round(len(tasks) / seconds, 1),
        "requests": len(tasks),
        "status_counts": dict(sorted(statuses.items())),
        "only_200_or_503": set(statuses) <= {"200", "503"},
        "max_wait_s": round(max(waits), 3),
        "p99_wait_s": round(float(np.percentile(waits, 99)), 3),
        "max_client_lag_s": round(max(lags), 3),
        "rss_peak_mb": round(rss_peak / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default="models/ngram", help="saved model to serve")
    parser.add_argument("--requests", type=int, default=5000, help="stop after this many timed requests")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA, cache)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="server processes (imdb-sentiment serve --workers)")
    parser.add_argument("--texts-per-request", type=int, default=1, help="reviews in each predict request")
    parser.add_argument("--overload", type=float, default=4.0, help="then offer this many times the rate (0: skip)")
    parser.add_argument("--overload-seconds", type=float, default=20.0, help="how long to offer it")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.seconds <= 0 or args.concurrency < 1 or args.texts_per_request < 1:
        parser.error("--requests, --seconds, --concurrency and --texts-per-request must be positive")

    from imdb_sentiment.serving import ServeSettings

    settings = ServeSettings.from_env()  # what the server reads too
    reviews, source = load_reviews(args.data, min(args.requests * args.texts_per_request, 25_000), args.seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    over: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        server = start_server(args.model_dir, port, log, args.workers)
        try:
            wait_until_healthy(server, base, log)
            process = psutil.Process(server.pid)
            rss_before = process.memory_info().rss
            result = asyncio.run(
                load(
                    base,
                    reviews,
                    requests=args.requests,
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                    per_request=args.texts_per_request,
                )
            )
            if args.overload > 0:
                rate = args.overload * result["throughput_rps"]
                over = asyncio.run(
                    overload(
                        base,
                        reviews,
                        rate=rate,
                        seconds=args.overload_seconds,
                        per_request=args.texts_per_request,
                        server=process,
                    )
                )
                over = {
                    "factor": args.overload,
                    "target_rps": round(rate, 1),
                    **over,
                    "request_timeout_s": settings.request_timeout_s,
                    "rss_before_mb": round(rss_before / 2**20, 1),
                    "rss_after_mb": round(process.memory_info().rss / 2**20, 1),
                }
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    emit(
        {
            "bench": "api_load",
            **result,
            "concurrency": args.concurrency,
            "texts_per_request": args.texts_per_request,
            "server_workers": args.workers,
            "model_dir": args.model_dir,
            "reviews": source,
            "route": f"POST /v1/predict, {args.texts_per_request} review(s) per request",
            "cores": os.cpu_count(),
            "target_p99_ms": TARGET_P99_MS,
            "limits": {k: v for k, v in settings.model_dump().items() if k != "api_key"},
            "overload": over or None,
            "command": "python bench/api_load.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
