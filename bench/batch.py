"""Batch scoring at scale: ``imdb-sentiment score`` on 1,000,000 reviews with the local and Ray engines.

    python bench/batch.py [--model-dir models/ngram] [--rows 1000000] [--engines local,ray] [--data PATH]
    python bench/batch.py --model-dir pretrained --rows 4000 --engines local --sample 2000 --repeats 1

Writes a Parquet file of ``--rows`` reviews (the 25,000 test reviews repeated, each row with an id) to a
temporary folder, then runs ``imdb-sentiment score`` on it once per engine, each in its own process, sampling
the memory (PSS) of that process and all its descendants (Ray's workers included) every 0.2 s. The peer is
the same model's in-memory ``predict_proba`` on the 25,000 test reviews (best of 3 before and 3 after the
batch runs), timed in the same run: ``ratio_to_in_memory`` = batch rows/s / in-memory reviews/s, whole
command included; ``score_ratio_to_in_memory`` the same for the time the command reports for scoring
(model loading included, the interpreter's start-up not). Targets: >= 0.8 for the local engine, peak memory <= 2 GB. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.data import stratified_sample


def write_input(texts: list[str], rows: int, path: Path) -> None:
    """``rows`` reviews cycling through ``texts``, one row group per pass, without holding them all."""
    base = pa.array(texts, pa.string())
    schema = pa.schema([("id", pa.int64()), ("text", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, len(texts)):
            n = min(len(texts), rows - start)
            ids = pa.array(range(start, start + n), pa.int64())
            writer.write_table(pa.table([ids, base.slice(0, n)], schema=schema))


def in_memory_rate(model_dir: str, texts: list[str], repeats: int = 3) -> float:
    model = load_model(model_dir)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def run_score(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``; return its wall seconds, the peak memory (MB) of its process tree, and its stderr.

    Memory is the proportional set size (PSS) summed over the tree: pages that several processes share
    (Ray's object store is mapped by every worker) count once in total rather than once per process, as
    summing RSS would.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                total = 0
                for p in tree:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_full_info().pss
                peak[0] = max(peak[0], total / 2**20)
            except psutil.Error:
                pass
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return seconds, peak[0], stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default="models/ngram", help="a saved model (default: the default kind's)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA, cache)")
    parser.add_argument(
        "--sample", type=int, default=0, help="use a seeded stratified sample of this many test reviews (0: all)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="in-memory timings before and after, best kept")
    args = parser.parse_args(argv)

    test = load_imdb(args.data, progress=False).test
    if args.sample:  # a transformer scores ~30 reviews/s here: 25,000 six times over would take an hour
        test = stratified_sample(test, args.sample, seed=0)
    texts = test["text"].tolist()
    before = in_memory_rate(args.model_dir, texts, args.repeats)
    cli = str(Path(sys.executable).with_name("imdb-sentiment"))
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        source = Path(tmp) / "reviews.parquet"
        write_input(texts, args.rows, source)
        for engine in args.engines.split(","):
            out = Path(tmp) / f"scores-{engine}.parquet"
            command = [cli, "score", args.model_dir, "--input", str(source), "--output", str(out), "--engine", engine]
            seconds, peak_mb, summary = run_score([*command, "--quiet"])
            # The command's own summary line times score() alone: without the interpreter's start-up.
            inside = float(re.search(r"; ([\d.]+) s, ", summary).group(1))
            rows = pq.ParquetFile(out).metadata.num_rows
            results[engine] = {
                "rows": rows,
                "seconds": round(seconds, 1),
                "rows_per_s": round(rows / seconds, 1),
                "score_seconds": inside,
                "score_rows_per_s": round(rows / inside, 1),
                "peak_memory_mb": round(peak_mb),
            }
            out.unlink()
    # The best in-memory rate, timed before and after the batch runs: the ratio errs against the batch path.
    peer = max(before, in_memory_rate(args.model_dir, texts, args.repeats))
    for figures in results.values():
        figures["ratio_to_in_memory"] = round(figures["rows_per_s"] / peer, 3)
        figures["score_ratio_to_in_memory"] = round(figures["score_rows_per_s"] / peer, 3)
    print(
        json.dumps(
            {
                "bench": "batch",
                "model": args.model_dir,
                "rows": args.rows,
                "distinct_reviews": len(texts),
                "cores": os.cpu_count(),
                "in_memory_reviews_per_s": round(peer, 1),
                "engines": results,
                "note": "seconds are the whole command (start-up, reading, scoring, writing); memory is the PSS of the command's whole process tree, Ray's processes included",
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
