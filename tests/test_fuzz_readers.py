"""Fuzzing the readers: generated files of every input format (empty, huge, binary, non-UTF-8, markup,
``<script>``, deeply nested JSON, wrong types, malformed rows, garbage) never raise anything but
InputError, and every row read is accounted for (in the output or the errors file). The long run is
``bench/fuzz_readers.py``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from fuzz_inputs import Generated, check_input, generated_inputs
from imdb_sentiment import load_model

_FAST = settings(
    deadline=None,
    max_examples=300,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_FAST
@given(generated_inputs())
def test_readers_raise_only_input_errors_and_lose_no_row(generated: Generated):
    with tempfile.TemporaryDirectory() as folder:
        seen = check_input(generated, Path(folder))
    assert not seen.exceptions, seen.exceptions
    assert seen.unaccounted == 0, f"{seen.rows} rows read, {generated.rows} in the file"


def test_score_accounts_for_every_generated_row(toy_ngram_dir):
    model = load_model(toy_ngram_dir)

    @settings(_FAST, max_examples=60)
    @given(generated_inputs())
    def check(generated: Generated) -> None:
        with tempfile.TemporaryDirectory() as folder:
            seen = check_input(generated, Path(folder), model=model)
        assert not seen.exceptions, seen.exceptions
        assert seen.unaccounted == 0

    check()
