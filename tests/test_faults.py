"""Faults: a process killed while it saves or trains, a full disk. Nothing already saved is lost.

The long version (many kills at random moments, with counts) is ``bench/faults.py``; these are the
fast, deterministic cases plus a few real ``kill -9`` runs.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import make_toy_reviews
from imdb_sentiment import load_model
from imdb_sentiment._atomic import atomic_dir, clean_leftovers
from imdb_sentiment.cli import app
from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

PROBE = ["A wonderful, superb film.", "An awful, boring waste."]


def fit(seed: int, n_bits: int = 14) -> NgramClassifier:
    texts, labels = make_toy_reviews(80, seed=seed)
    return NgramClassifier(config=NgramConfig(n_bits=n_bits)).fit(texts, labels)


def dead_pid() -> int:
    """The id of a process that has exited (ids are not reused this quickly)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_folder_killed_between_its_two_renames_is_put_back(tmp_path):
    dest = tmp_path / "model"
    fit(0).save(dest)
    expected = load_model(dest).predict_proba(PROBE)
    # What a writer killed after moving the old folder aside, before moving the new one in, leaves:
    aside = tmp_path / f".model.{dead_pid()}.old-1234abcd"
    os.replace(dest, aside)
    half_written = tmp_path / f".model.{dead_pid()}.kq3x9.tmp"
    half_written.mkdir()
    (half_written / "weights.npz").write_bytes(b"PK\x03\x04 truncated")

    assert sorted(p.name for p in clean_leftovers(dest)) == sorted([aside.name, half_written.name])
    np.testing.assert_array_equal(load_model(dest).predict_proba(PROBE), expected)
    assert os.listdir(tmp_path) == ["model"]


def test_loading_a_folder_killed_between_its_renames_puts_it_back(tmp_path):
    dest = tmp_path / "model"
    fit(0).save(dest)
    expected = load_model(dest).predict_proba(PROBE)
    os.replace(dest, tmp_path / f".model.{dead_pid()}.old-1234abcd")

    np.testing.assert_array_equal(load_model(dest).predict_proba(PROBE), expected)
    assert os.listdir(tmp_path) == ["model"]


def test_leftovers_of_a_live_writer_are_left_alone(tmp_path):
    dest = tmp_path / "model"
    mine = tmp_path / f".model.{os.getpid()}.abc.tmp"
    mine.mkdir()
    assert clean_leftovers(dest) == [] and mine.is_dir()


def test_the_next_save_cleans_what_a_killed_save_left(tmp_path):
    dest = tmp_path / "model"
    fit(0).save(dest)
    stale = tmp_path / f".model.{dead_pid()}.x1y2.tmp"
    stale.mkdir()
    (stale / "manifest.json").write_text("{")
    fit(1).save(dest)
    assert os.listdir(tmp_path) == ["model"]


def test_a_full_disk_during_save_keeps_the_old_model_and_leaves_nothing(tmp_path, monkeypatch):
    dest = tmp_path / "model"
    fit(0).save(dest)
    before = load_model(dest).predict_proba(PROBE)

    def disk_full(file, **arrays):
        Path(file).write_bytes(b"PK\x03\x04 the first few bytes")  # a partial file, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))

    monkeypatch.setattr(np, "savez_compressed", disk_full)
    with pytest.raises(OSError, match="No space left"):
        fit(1).save(dest)
    np.testing.assert_array_equal(load_model(dest).predict_proba(PROBE), before)
    assert os.listdir(tmp_path) == ["model"]


def test_the_cli_reports_a_full_disk_in_one_line(fake_imdb_archive, tmp_path, monkeypatch):
    out = tmp_path / "model"
    monkeypatch.setattr(
        np,
        "savez_compressed",
        lambda file, **_: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")),
    )
    result = CliRunner().invoke(app, ["train", "--data", str(fake_imdb_archive), "--out", str(out), "--quiet"])
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: No space left on device") and "Traceback" not in result.output
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".model.")]


SAVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from conftest import make_toy_reviews
    from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

    models = []
    for seed in (0, 1):
        texts, labels = make_toy_reviews(80, seed=seed)
        models.append(NgramClassifier(config=NgramConfig(n_bits=16)).fit(texts, labels))
    dest = Path(sys.argv[1])
    models[0].save(dest)
    print("ready", flush=True)
    i = 0
    while True:  # save the two models in turn until killed
        i += 1
        models[i % 2].save(dest)
    """
)


@pytest.mark.slow
def test_kill_9_while_saving_leaves_one_of_the_two_models(tmp_path):
    """A real SIGKILL at three moments of a save loop: what is under the name is always a whole model."""
    script = tmp_path / "saver.py"
    script.write_text(SAVER.format(tests=str(Path(__file__).parent)))
    versions = [fit(seed, n_bits=16).predict_proba(PROBE) for seed in (0, 1)]
    for delay in (0.05, 0.17, 0.31):
        dest = tmp_path / f"model-{delay}"
        saver = subprocess.Popen([sys.executable, str(script), str(dest)], stdout=subprocess.PIPE, text=True)
        assert saver.stdout is not None and saver.stdout.readline().strip() == "ready"
        time.sleep(delay)
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        clean_leftovers(dest)  # what the next save (or a load of a missing folder) does first
        proba = load_model(dest).predict_proba(PROBE)
        assert any(np.allclose(proba, v) for v in versions)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".model-{delay}.")] == []


TRAINER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from conftest import make_toy_reviews
    from imdb_sentiment.models.transformer import TransformerClassifier
    from imdb_sentiment.models.transformer.config import TransformerConfig

    texts, labels = make_toy_reviews(96, seed=1)
    config = TransformerConfig(
        base_model={bert!r}, max_length=32, stride=4, epochs=40, batch_size=8, learning_rate=3e-3,
        checkpoint_steps=2, checkpoint_dir={checkpoints!r}, patience=100, subset=0,
    )
    model = TransformerClassifier(config=config, verbose=True).fit(texts, labels)
    model.save({out!r})
    print("saved", flush=True)
    """
)


@pytest.mark.slow
def test_kill_9_during_training_resumes_from_the_last_checkpoint(tmp_path, tiny_bert):
    checkpoints, out = tmp_path / "checkpoints", tmp_path / "model"
    script = tmp_path / "trainer.py"
    script.write_text(
        TRAINER.format(
            tests=str(Path(__file__).parent), bert=str(tiny_bert), checkpoints=str(checkpoints), out=str(out)
        )
    )
    trainer = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    step = 0
    while step < 6 and time.monotonic() < deadline and trainer.poll() is None:
        time.sleep(0.2)
        state = checkpoints / "state.json"
        try:
            step = json.loads(state.read_text())["step"] if state.is_file() else 0
        except (OSError, ValueError):
            step = 0  # replaced while being read
    assert trainer.poll() is None, "training finished before it could be interrupted"
    trainer.send_signal(signal.SIGKILL)
    trainer.wait()
    assert not out.exists()

    again = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = [line for line in again.stderr.splitlines() if "resuming from the checkpoint" in line]
    assert resumed and int(resumed[0].rsplit(" ", 1)[1]) >= 6
    assert load_model(out).predict_proba(PROBE).shape == (2, 2)
    assert not checkpoints.exists()  # a finished run deletes its checkpoint


def test_atomic_dir_names_carry_the_writer(tmp_path):
    with atomic_dir(tmp_path / "model") as tmp:
        assert tmp.name.startswith(f".model.{os.getpid()}.") and tmp.name.endswith(".tmp")
