"""Time the data layer: the first parse of the archive into the cache, then cached loads. Prints one JSON line.

    python bench/data.py [--data PATH]

The first parse runs into a fresh temporary cache; the cached load is timed three times (best and median
reported) and compared with the parse in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from imdb_sentiment import load_imdb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["IMDB_SENTIMENT_CACHE"] = cache
        start = time.perf_counter()
        load_imdb(args.data, progress=False)
        parse_s = time.perf_counter() - start
        loads = []
        for _ in range(3):
            start = time.perf_counter()
            data = load_imdb(args.data, progress=False)
            loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        load_imdb(args.data, include_unsup=True, progress=False)
        with_unsup_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "bench": "data",
                "source": str(data.source),
                "first_parse_seconds": round(parse_s, 2),
                "cached_load_seconds_best": round(min(loads), 3),
                "cached_load_seconds_median": round(statistics.median(loads), 3),
                "cached_load_with_unsup_seconds": round(with_unsup_s, 3),
                "speedup_vs_parse": round(parse_s / min(loads), 1),
                "target_cached_load_seconds": 2.0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
