"""The long run of the reader fuzz test: generated input files through the readers and ``score``.

    python bench/fuzz_readers.py [--examples 6000] [--score-every 10] [--seed 0] [--out FILE]

Generates ``--examples`` files of every input format (tests/fuzz_inputs.py: empty, huge, binary,
non-UTF-8, markup, ``<script>``, deeply nested JSON, wrong types, malformed rows, truncation, garbage)
with Hypothesis, reads each with the streaming reader (``read_chunks``) and the whole-frame reader
(``read_table``), and scores every ``--score-every``-th with a small ngram model trained here. Prints one
JSON object: inputs, rows and error rows (streaming reader), whole files refused with InputError by each
reader, inputs whose rows were not all accounted for, and exceptions by type (the target: none).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz_inputs import SUFFIXES, Generated, check_input, generated_inputs
from robustness import emit


def toy_model():
    from conftest import make_toy_reviews
    from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

    texts, labels = make_toy_reviews(120, seed=3)
    return NgramClassifier(config=NgramConfig(n_bits=14)).fit(texts, labels)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=6000)
    parser.add_argument("--score-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    totals: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    exceptions: Counter[str] = Counter()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        model = toy_model()

        @seed(args.seed)
        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(generated_inputs())
        def run(generated: Generated) -> None:
            totals["inputs"] += 1
            formats[generated.suffix] += 1
            scored = totals["inputs"] % args.score_every == 0
            with tempfile.TemporaryDirectory(dir=work) as folder:
                seen = check_input(generated, Path(folder), model=model if scored else None)
            totals["scored_inputs"] += scored
            totals["rows"] += seen.rows
            totals["error_rows"] += seen.error_rows
            totals["refused_by_read_chunks"] += seen.refused_stream
            totals["refused_by_read_table"] += seen.refused_table
            totals["unaccounted_inputs"] += seen.unaccounted > 0
            exceptions.update(seen.exceptions)

        run()
    result = {
        "bench": "fuzz_readers",
        "seed": args.seed,
        **{
            k: totals[k]
            for k in (
                "inputs",
                "scored_inputs",
                "rows",
                "error_rows",
                "refused_by_read_chunks",
                "refused_by_read_table",
                "unaccounted_inputs",
            )
        },
        "inputs_by_format": {s: formats[s] for s in SUFFIXES},
        "exceptions_by_type": dict(exceptions),
        "seconds": round(time.perf_counter() - start, 1),
    }
    emit(result, args.out)
    return 0 if not exceptions and not totals["unaccounted_inputs"] else 1


if __name__ == "__main__":
    sys.exit(main())
