"""Latency of the HTTP API under load: single-review predict requests from concurrent clients, over loopback.

    python bench/api_load.py [MODEL_DIR] [--requests 5000] [--seconds 60] [--concurrency 32] [--data PATH]

Starts ``imdb-sentiment serve MODEL_DIR`` on a free loopback port as a subprocess, waits for ``/health``,
warms it up, then ``--concurrency`` clients (asyncio + aiohttp, one keep-alive connection each) send
``POST /v1/predict`` with one review each until ``--requests`` have been sent or ``--seconds`` have
passed. Reviews are drawn from the IMDb test split when the dataset is at hand (``--data``, ``IMDB_DATA``
or the cache; never downloaded), else generated. The clients run on the same machine as the server, so
on a small machine they compete with it for cores: the latencies are an upper bound. The server is
stopped at the end, also on error. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


async def load(base: str, reviews: list[str], *, requests: int, seconds: float, concurrency: int) -> dict:
    # aiohttp rather than httpx: the clients share the machine's cores with the server, and aiohttp's
    # C-accelerated client spends several times less CPU per request, leaving the cores to the server.
    import aiohttp

    latencies: list[float] = []
    errors = 0
    sent = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:

        async def post(review: str) -> bool:
            async with client.post("/v1/predict", json={"texts": [review]}) as response:
                await response.read()
                return response.status == 200

        # Warm-up, not timed: opens the connections and the server's threadpool.
        await asyncio.gather(*(post(reviews[i % len(reviews)]) for i in range(concurrency)))
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors, sent
            while sent < requests and time.perf_counter() < deadline:
                review = reviews[sent % len(reviews)]
                sent += 1
                start = time.perf_counter()
                try:
                    ok = await post(review)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default="models/ngram", help="saved model to serve")
    parser.add_argument("--requests", type=int, default=5000, help="stop after this many timed requests")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients")
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA, cache)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="server processes (imdb-sentiment serve --workers)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.seconds <= 0 or args.concurrency < 1:
        parser.error("--requests, --seconds and --concurrency must be positive")

    reviews, source = load_reviews(args.data, min(args.requests, 25_000), args.seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        server = start_server(args.model_dir, port, log, args.workers)
        try:
            wait_until_healthy(server, base, log)
            result = asyncio.run(
                load(base, reviews, requests=args.requests, seconds=args.seconds, concurrency=args.concurrency)
            )
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    print(
        json.dumps(
            {
                "bench": "api_load",
                **result,
                "concurrency": args.concurrency,
                "server_workers": args.workers,
                "model_dir": args.model_dir,
                "reviews": source,
                "route": "POST /v1/predict, one review per request",
                "cores": os.cpu_count(),
                "target_p99_ms": TARGET_P99_MS,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
