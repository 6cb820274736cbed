"""Copying a saved model with other inference settings: ``reconfigure`` and ``imdb-sentiment reconfigure``."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("transformers")

from typer.testing import CliRunner

from conftest import SMALL_COUNTS, tar_fake_imdb, write_fake_imdb
from imdb_sentiment import ConfigError, InputError, ModelError, load_imdb, load_model, train
from imdb_sentiment import data as data_module
from imdb_sentiment.cli import app
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.evaluate import compute_metrics
from imdb_sentiment.models.ngram import NgramConfig
from imdb_sentiment.models.transformer.config import TransformerConfig
from imdb_sentiment.training import reconfigure

FAST = {"max_length": 48, "stride": 8, "epochs": 4, "batch_size": 8, "learning_rate": 3e-3, "subset": 0}
LONG_REVIEW = " ".join(f"film {i} was great and bad" for i in range(120))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The fake dataset as an archive, shared by this module's tests (nothing here changes it)."""
    return tar_fake_imdb(
        write_fake_imdb(tmp_path_factory.mktemp("imdb"), SMALL_COUNTS), tmp_path_factory.mktemp("tar") / "a.tar.gz"
    )


@pytest.fixture(scope="module")
def saved(tiny_bert, archive, tmp_path_factory):
    """A tiny transformer trained by ``train`` (so its manifest holds the split), then scored on test.

    Built once for the module, so the fake dataset's counts and a private cache are set up here too (the
    per-test fixture in ``conftest`` does that only after module fixtures are built). Tests never write to it.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data_module, "EXPECTED_COUNTS", dict(SMALL_COUNTS))
        patch.setenv("IMDB_SENTIMENT_CACHE", str(tmp_path_factory.mktemp("cache")))
        config = TransformerConfig(base_model=str(tiny_bert), inference_truncation="chunks", **FAST)
        out = tmp_path_factory.mktemp("models") / "chunks"
        train("transformer", config=config, data=archive, split=SplitConfig(0.1, seed=3), out=out)
        assert runner.invoke(app, ["evaluate", str(out), "--data", str(archive)]).exit_code == 0
    return out


runner = CliRunner()


def test_copy_predicts_with_the_new_settings_and_is_rescored_on_the_same_validation(saved, archive, tmp_path):
    original = load_model(saved)
    manifest_before = (saved / "manifest.json").read_text()
    assert {"validation", "test"} <= set(original.info_["metrics"])

    copy = reconfigure(
        saved, {"inference_truncation": "head_tail", "inference_batch_size": "3"}, out=tmp_path / "ht",
        data=archive,
    )  # fmt: skip

    reloaded = load_model(tmp_path / "ht")
    assert reloaded.resolved_config.inference_truncation == "head_tail"
    assert reloaded.resolved_config.inference_batch_size == 3
    # Same weights: a short review is one window either way; a long one is cut differently now.
    np.testing.assert_allclose(reloaded.predict_proba(["great fun"]), original.predict_proba(["great fun"]), atol=1e-6)
    assert not np.allclose(reloaded.predict_proba([LONG_REVIEW]), original.predict_proba([LONG_REVIEW]))
    # Validation figures are those of the new settings, on the reviews the model was trained without.
    validation = load_imdb(archive, split=SplitConfig(0.1, seed=3)).validation
    expected = compute_metrics(
        validation["label"].to_numpy("int64"), reloaded.predict_proba(validation["text"].tolist())
    )
    got = reloaded.info_["metrics"]["validation"]
    assert got["n"] == len(validation) == 8
    assert got["accuracy"] == expected["accuracy"] and got["log_loss"] == pytest.approx(expected["log_loss"])
    assert "test" not in reloaded.info_["metrics"]  # it was measured with the old settings
    (step,) = reloaded.info_["reconfigured"]
    assert step["from"] == str(saved)
    assert step["changes"] == {
        "inference_batch_size": {"was": 64, "now": 3},
        "inference_truncation": {"was": "chunks", "now": "head_tail"},
    }
    assert step["previous_validation"] == original.info_["metrics"]["validation"]
    assert copy.info_["metrics"] == reloaded.info_["metrics"]
    assert (saved / "manifest.json").read_text() == manifest_before  # the source is left as it was

    # Reconfiguring again, in place, keeps the history of changes.
    reconfigure(tmp_path / "ht", {"inference_truncation": "head"}, out=tmp_path / "ht", data=archive)
    steps = load_model(tmp_path / "ht").info_["reconfigured"]
    assert [s["changes"]["inference_truncation"]["now"] for s in steps] == ["head_tail", "head"]


def test_only_inference_settings_can_change(saved, tmp_path, archive):
    with pytest.raises(ConfigError, match=r"learning_rate cannot change after training.*inference_truncation"):
        reconfigure(saved, {"learning_rate": 1e-4}, out=tmp_path / "x", data=archive)
    with pytest.raises(ConfigError, match="unknown TransformerConfig key"):
        reconfigure(saved, {"inference_trunc": "head"}, out=tmp_path / "x", data=archive)
    with pytest.raises(ConfigError, match="inference_truncation must be"):
        reconfigure(saved, {"inference_truncation": "middle"}, out=tmp_path / "x", data=archive)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(ModelError, match="refusing to overwrite"):
        reconfigure(saved, {"inference_truncation": "head"}, out=tmp_path / "notes", data=archive)
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
    with pytest.raises(InputError, match="at least one setting"):
        reconfigure(saved, {}, out=tmp_path / "x", data=archive)
    assert not (tmp_path / "x").exists()


def test_a_kind_without_inference_settings_says_so(archive, tmp_path):
    train("ngram", config=NgramConfig(n_bits=16), data=archive, out=tmp_path / "ngram")
    with pytest.raises(ConfigError, match="settings a saved ngram model can change: none"):
        reconfigure(tmp_path / "ngram", {"C": "1"}, out=tmp_path / "x", data=archive)


def test_a_model_saved_without_its_split_gets_no_validation_figures(tiny_bert, toy_reviews_factory, tmp_path):
    from imdb_sentiment.models.transformer import TransformerClassifier

    texts, labels = toy_reviews_factory(24, seed=4)
    config = TransformerConfig(base_model=str(tiny_bert), **{**FAST, "epochs": 1})
    TransformerClassifier(config=config).fit(texts, labels).save(tmp_path / "plain")
    # No dataset is needed (none is reachable here): there is nothing it could be scored on honestly.
    model = reconfigure(tmp_path / "plain", {"inference_truncation": "head"}, out=tmp_path / "head")
    assert model.info_["metrics"] == {}
    assert load_model(tmp_path / "head").resolved_config.inference_truncation == "head"


def test_an_onnx_model_stays_onnx_and_keeps_its_export_record(saved, archive, tmp_path):
    pytest.importorskip("onnxruntime")
    load_model(saved).export_onnx(tmp_path / "onnx", int8=True)
    reconfigure(tmp_path / "onnx", {"inference_truncation": "head_tail"}, out=tmp_path / "onnx-ht", data=archive)
    manifest = json.loads((tmp_path / "onnx-ht" / "manifest.json").read_text())
    assert manifest["backend"] == "onnx" and manifest["exported_from"] == {"backend": "torch", "int8": True}
    assert manifest["config"]["inference_truncation"] == "head_tail"
    model = load_model(tmp_path / "onnx-ht")
    assert model.backend_ == "onnx" and model.info_["metrics"]["validation"]["n"] == 8


def test_cli_prints_the_change_and_validation_before_and_after(saved, archive, tmp_path):
    out = tmp_path / "ht"
    result = runner.invoke(
        app,
        ["reconfigure", str(saved), "--set", "inference_truncation=head_tail", "--out", str(out),
         "--data", str(archive)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "inference_truncation: 'chunks' -> 'head_tail'" in result.stdout
    assert "before" in result.stdout and "after" in result.stdout and "accuracy" in result.stdout
    assert load_model(out).resolved_config.inference_truncation == "head_tail"


@pytest.mark.parametrize("quiet", [False, True])
def test_cli_shows_a_progress_bar_while_scoring_unless_quiet(saved, archive, tmp_path, quiet):
    # Batches of one review make the 8 fake validation reviews enough for a bar.
    args = ["reconfigure", str(saved), "--set", "inference_batch_size=1", "--out", str(tmp_path / "x")]
    result = runner.invoke(app, [*args, "--data", str(archive), *(["--quiet"] if quiet else [])])
    assert result.exit_code == 0, result.output
    assert ("scoring" in result.stderr) is not quiet


@pytest.mark.parametrize(
    ("args", "fragments", "code"),
    [
        (["--set", "epochs=3"], ["epochs cannot change after training"], 2),
        (["--set", "inference_truncation"], ["expected key=value"], 2),
        ([], ["at least one setting"], 2),
    ],
)
def test_cli_bad_settings_are_one_line(saved, tmp_path, args, fragments, code):
    result = runner.invoke(app, ["reconfigure", str(saved), "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert all(f in lines[0] for f in fragments), lines
    assert not (tmp_path / "x").exists()


def test_cli_missing_model_is_one_line(tmp_path):
    result = runner.invoke(
        app, ["reconfigure", str(tmp_path / "nope"), "--set", "inference_truncation=head", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: ") and "not a model directory" in result.stderr
