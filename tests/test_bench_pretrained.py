"""bench/pretrained.py's rules for replacing the shipped model, on made-up bench results."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def bench(request):
    sys.path.insert(0, str(BENCH))
    request.addfinalizer(lambda: sys.path.remove(str(BENCH)))
    return importlib.import_module("pretrained")


def result(*, layers, speed, validation, score):
    return {"imdb": {"accuracy": validation, "texts_per_s": speed}, "score": score, "layers": layers}


@pytest.mark.parametrize(
    "candidate, better",
    [
        (result(layers=4, speed=52.0, validation=0.902, score=0.823), True),  # 1.3x, within 0.005 on both
        (result(layers=4, speed=51.0, validation=0.905, score=0.830), False),  # not 1.3x as fast
        (result(layers=4, speed=60.0, validation=0.898, score=0.830), False),  # validation 0.007 below
        (result(layers=4, speed=60.0, validation=0.905, score=0.820), False),  # score 0.006 below
    ],
)
def test_a_student_must_be_faster_and_nearly_as_accurate(bench, candidate, better):
    shipped = result(layers=6, speed=40.0, validation=0.905, score=0.826)
    out = {"candidate": candidate, "shipped": shipped}
    assert bench.student_better(out) is better
    assert out["student"]["layers"] == [4, 6] and out["student"]["speed_ratio"] == round(
        candidate["imdb"]["texts_per_s"] / 40, 3
    )


@pytest.mark.parametrize(
    "candidate, better",
    [
        (result(layers=6, speed=40.0, validation=0.903, score=0.830), True),  # score 0.007 higher
        (result(layers=6, speed=40.0, validation=0.909, score=0.823), True),  # validation 0.006 higher
        (result(layers=6, speed=40.0, validation=0.905, score=0.825), False),  # higher, but within 0.005
        (result(layers=6, speed=40.0, validation=0.915, score=0.822), False),  # validation up, score down
    ],
)
def test_a_larger_model_must_beat_a_shipped_student_by_more_than_the_allowance(bench, candidate, better):
    shipped = result(layers=4, speed=60.0, validation=0.903, score=0.8225)
    out = {"candidate": candidate, "shipped": shipped}
    assert bench.larger_better(out) is better
    assert out["larger"]["layers"] == [6, 4]
    # Read both ways, the rules never swap the two: a student this one beats would not have beaten it.
    assert not (better and bench.student_better({"candidate": shipped, "shipped": candidate}))


def test_encoder_layers_reads_the_models_config(bench, tmp_path):
    (tmp_path / "model").mkdir()
    assert bench.encoder_layers(tmp_path) is None
    (tmp_path / "model" / "config.json").write_text(json.dumps({"num_hidden_layers": 4}))
    assert bench.encoder_layers(tmp_path) == 4
    (tmp_path / "model" / "config.json").write_text("{not json")
    assert bench.encoder_layers(tmp_path) is None
