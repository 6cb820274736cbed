"""Fuzz the HTTP API: requests generated from its OpenAPI document and from hostile bodies, one JSON object.

    python bench/fuzz_api.py [MODEL_DIR] [--requests 5000] [--seed 0] [--out FILE]

Every route of the app's OpenAPI document (and a few it does not have), each with bodies drawn from the
route's own request schema (schemathesis), from those bodies with fields dropped, retyped or
added, and from hostile ones: empty, binary, not UTF-8, markup and ``<script>``, JSON nested 10 to
100,000 deep, numbers out of range, bodies over the size limit, wrong or missing content types. The app
is called in-process (``fastapi.testclient``) with small limits, so the limits are reached often. Counts
every status code; the run passes when no answer is a 5xx and none carries a traceback or a server path.
Without ``MODEL_DIR`` a tiny n-gram model is trained on generated reviews. ``--out`` also writes the JSON
to a file (for ``bench/results/``). ``tests/test_serve_fuzz.py`` runs the same strategy for a few hundred
requests.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Limits the fuzzed app runs with: small, so that generated requests reach them.
LIMITS = {"max_chars": 2_000, "max_texts": 8, "max_queue_requests": 16, "request_timeout_s": 5.0}
#: What no answer may contain: a traceback, a source file, a server path.
LEAKS = ("Traceback", 'File "', "/site-packages/", "/work/", "/home/", "/tmp/")

HOSTILE_TEXT = st.sampled_from(
    [
        '<script>alert("x")</script>',
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE reviews; --",
        "{{7*7}} ${7*7} %s %n",
        "\x00\x01\x02 control",
        "\u202e\u200b\ufeff bidi and zero width",
        "\U0001f600" * 50,
        "../../../../etc/passwd",
    ]
)
TEXT = st.one_of(st.text(max_size=60), HOSTILE_TEXT, st.integers(0, 3_000).map(lambda n: "word " * n))
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), TEXT)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=8), inner, max_size=6)),
    max_leaves=30,
)


def schema_bodies(app: Any) -> dict[tuple[str, str], st.SearchStrategy[Any]]:
    """Per route of the app's OpenAPI document, bodies schemathesis draws from its request schema.

    Valid ones (within every bound) and invalid ones (schemathesis's negative mode: each breaks the schema).
    """
    import schemathesis
    from schemathesis.generation import GenerationMode

    def body(case: Any) -> Any:
        return case.body if isinstance(case.body, dict | list | str | int | float | bool | None) else {}

    bodies = {}
    for result in schemathesis.openapi.from_asgi("/openapi.json", app).get_all_operations():
        operation = result.ok()
        modes = [GenerationMode.POSITIVE]
        if operation.method.upper() == "POST":  # nothing in a parameterless GET can be made invalid
            modes.append(GenerationMode.NEGATIVE)
        cases = st.one_of([operation.as_strategy(generation_mode=mode) for mode in modes])
        bodies[(operation.path, operation.method.upper())] = cases.map(body)
    return bodies


def mutated(bodies: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A schema body with one field dropped, retyped or added: near misses the validation must catch."""

    def mutate(body: Any, data: st.DataObject) -> Any:
        if not isinstance(body, dict) or not body:
            return data.draw(JSON_VALUE)
        body = dict(body)
        key = data.draw(st.sampled_from(sorted(body)))
        action = data.draw(st.sampled_from(["drop", "retype", "add"]))
        if action == "drop":
            del body[key]
        elif action == "retype":
            body[key] = data.draw(JSON_VALUE)
        else:
            body[data.draw(st.text(min_size=1, max_size=8))] = data.draw(JSON_VALUE)
        return body

    return st.tuples(bodies, st.data()).map(lambda pair: mutate(*pair))


def raw_bodies(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """Encoded bodies: valid, near-valid, random JSON, and bytes no JSON parser should accept."""
    encoded = st.one_of(valid, mutated(valid), JSON_VALUE).map(lambda v: json.dumps(v).encode())
    nested = st.integers(10, 100_000).flatmap(
        lambda depth: st.sampled_from([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth])
    )
    return st.one_of(
        encoded,
        encoded,
        st.just(b""),
        st.binary(max_size=200),
        st.sampled_from([b'{"texts": ["\xff\xfe bad"]}', b'{"text": "caf\xe9"}', b"\xef\xbb\xbf{}", b"null"]),
        nested,
        st.integers(1, 200_000).map(lambda n: b'{"texts": ["' + b"x" * n + b'"]}'),  # up to over the size limit
        st.integers(1, 50).map(lambda n: json.dumps({"texts": ["<p>" * 400] * n}).encode()),
    )


def requests(app: Any) -> st.SearchStrategy[tuple[str, str, dict[str, str], bytes]]:
    """``(method, path, headers, body)``: the document's routes with any method, and a few unknown paths."""
    bodies = schema_bodies(app)
    routes = sorted(bodies)
    paths = [*sorted({path for path, _ in routes}), "/", "/v1", "/v1/predict/", "/../etc/passwd", "/%00"]
    content_types = st.sampled_from(
        ["application/json", "application/json; charset=latin-1", "text/plain", "multipart/form-data", ""]
    )

    def request(route: tuple[str, str]) -> st.SearchStrategy[tuple[str, str, dict[str, str], bytes]]:
        path, method = route
        return st.tuples(
            st.one_of(st.just(method), st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])),
            st.one_of(st.just(path), st.sampled_from(paths)),
            content_types.map(lambda ct: {"content-type": ct} if ct else {}),
            raw_bodies(bodies[route]),
        )

    return st.sampled_from(routes).flatmap(request)


def problem(response: Any) -> str | None:
    """Why an answer fails the run (a 5xx, a leak), or ``None``."""
    if response.status_code >= 500:
        return f"status {response.status_code}: {response.text[:300]}"
    leak = next((marker for marker in LEAKS if marker in response.text), None)
    if leak is not None:
        return f"status {response.status_code} shows {leak!r}: {response.text[:300]}"
    return None


def make_app(model_dir: str | Path | None, tmp: Path) -> Any:
    """The app over ``model_dir`` (or a tiny n-gram model trained here) with :data:`LIMITS`."""
    from imdb_sentiment import NgramConfig, get_model_class
    from imdb_sentiment.serving import ServeSettings, create_app

    if model_dir is None:
        words = ["great", "awful", "film", "plot", "loved", "boring", "the", "and"]
        texts = [" ".join(words[(i * 7 + j) % len(words)] for j in range(12)) for i in range(40)]
        labels = [i % 2 for i in range(40)]
        model_dir = tmp / "ngram"
        get_model_class("ngram")(config=NgramConfig(n_bits=12)).fit(texts, labels).save(model_dir)
    return create_app([model_dir], ServeSettings(**LIMITS))


def fuzz(app: Any, n: int, seed: int) -> dict[str, Any]:
    """Send ``n`` generated requests to ``app``; count the statuses and collect the first problems."""
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)
    statuses: collections.Counter[int] = collections.Counter()
    problems: list[str] = []

    @given(requests(app))
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @hypothesis.seed(seed)
    def one(request: tuple[str, str, dict[str, str], bytes]) -> None:
        method, path, headers, body = request
        response = client.request(method, path, headers=headers, content=body or None)
        statuses[response.status_code] += 1
        found = problem(response)
        if found is not None and len(problems) < 10:
            problems.append(f"{method} {path}: {found}")

    one()
    return {
        "requests": sum(statuses.values()),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
        "problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=None, help="saved model (default: a tiny one trained here)")
    parser.add_argument("--requests", type=int, default=5000, help="generated requests to send")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis's seed (the same seed, the same requests)")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    from hypothesis.configuration import set_hypothesis_home_dir

    sys.path.insert(0, str(Path(__file__).parent))
    from robustness import emit

    with tempfile.TemporaryDirectory() as tmp:
        set_hypothesis_home_dir(Path(tmp) / "hypothesis")  # not ./.hypothesis in the working directory
        start = time.perf_counter()
        result = fuzz(make_app(args.model_dir, Path(tmp)), args.requests, args.seed)
    result = {
        "bench": "fuzz_api",
        **result,
        "seconds": round(time.perf_counter() - start, 1),
        "limits": LIMITS,
        "model_dir": args.model_dir or "tiny ngram trained on generated reviews",
        "command": "python bench/fuzz_api.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    emit(result, args.out)
    return 0 if result["5xx"] == 0 and not result["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
