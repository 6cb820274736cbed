"""Fuzz the HTTP API for a few hundred requests: no 5xx, no traceback (the long run: bench/fuzz_api.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")
pytest.importorskip("schemathesis", reason="the dev extra is not installed: pip install -e '.[dev]'")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import fuzz_api


def test_generated_and_hostile_requests_get_no_5xx_and_no_traceback(tmp_path):
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(tmp_path / "hypothesis")  # not ./.hypothesis in the working directory
    try:
        result = fuzz_api.fuzz(fuzz_api.make_app(None, tmp_path), 300, seed=1)
    finally:
        set_hypothesis_home_dir(None)
    assert result["requests"] >= 250
    assert result["5xx"] == 0, result["problems"]
    assert result["problems"] == []
    # The fuzzing reached the answers it is meant to reach, not only one kind of refusal.
    assert {"200", "404", "413", "422"} <= set(result["status_counts"]), result["status_counts"]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,  # within the body limit: parsed, too deep for Python's json
        b'{"a":' * 3_000 + b"1" + b"}" * 3_000,
        b'{"texts": ["\xff\xfe"]}',
        b'{"texts": [{"texts": [[[[[[]]]]]]}]}',
    ],
)
def test_deep_or_broken_json_is_refused_not_a_500(tmp_path, body):
    from fastapi.testclient import TestClient

    client = TestClient(fuzz_api.make_app(None, tmp_path), raise_server_exceptions=False)
    response = client.post("/v1/predict", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text[:300]
    assert fuzz_api.problem(response) is None
