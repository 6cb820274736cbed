"""Kind ``ensemble``: the stacker, refitted members, self-contained saving, and its CLI; the export verb's errors.

The generic model contract (fit, probabilities, save/load round trip, bad inputs) is checked for every
kind in ``test_models.py``; these tests cover what only the ensemble does.
"""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import make_toy_reviews
from imdb_sentiment import ConfigError, ModelError, load_model
from imdb_sentiment.cli import app
from imdb_sentiment.models.ensemble import EnsembleClassifier, EnsembleConfig, member_logits
from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

runner = CliRunner()


def save_ngram(path, *, seed: int, shuffle_labels: bool = False, refit_with_validation: bool | None = None):
    """Train a small ngram model on toy reviews (optionally on shuffled labels) and save it to ``path``."""
    texts, labels = make_toy_reviews(80, seed=seed)
    if shuffle_labels:
        random.Random(seed).shuffle(labels)
    model = NgramClassifier(config=NgramConfig(n_bits=14)).fit(texts, labels)
    if refit_with_validation is not None:
        model.info_["split"] = {"refit_with_validation": refit_with_validation}
    return model.save(path)


def ensemble(*members, method: str = "stacker") -> EnsembleClassifier:
    return EnsembleClassifier(config=EnsembleConfig(members=tuple(str(m) for m in members), method=method))


def accuracy(model, seed: int = 3) -> float:
    texts, labels = make_toy_reviews(60, seed=seed)
    return float((model.predict(texts) == np.asarray(labels)).mean())


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Two saved ngram models: a good one and one trained on shuffled labels."""
    folder = tmp_path_factory.mktemp("members")
    return save_ngram(folder / "good", seed=1), save_ngram(folder / "noise", seed=1, shuffle_labels=True)


@pytest.fixture(scope="module")
def train_and_validation():
    return make_toy_reviews(80, seed=4), make_toy_reviews(40, seed=2)


@pytest.fixture(scope="module")
def stacked(members, train_and_validation):
    (texts, labels), validation = train_and_validation
    return ensemble(*members).fit(texts, labels, validation=validation)


def assert_one_line_error(result, *fragments: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


# ----------------------------------------------------------------------------- the stacker
def test_stacker_weights_the_good_member_and_ignores_the_noisy_one(stacked):
    good, noise = stacked.weights_
    assert stacked.weights_.shape == (2,)
    assert good > 0.5
    assert good > 5 * abs(noise)
    assert accuracy(stacked) >= 0.9


def test_decision_function_is_the_weighted_sum_of_member_logits(stacked):
    texts, _ = make_toy_reviews(20, seed=5)
    expected = sum(w * member_logits(m, texts) for w, m in zip(stacked.weights_, stacked.members_, strict=True))
    np.testing.assert_allclose(stacked.decision_function(texts), expected + stacked.intercept_)
    positive = 1 / (1 + np.exp(-stacked.decision_function(texts)))
    np.testing.assert_allclose(stacked.predict_proba(texts)[:, 1], positive)


def test_members_logits_are_what_the_ensemble_combines(stacked):
    texts, _ = make_toy_reviews(20, seed=6)
    logits = stacked.members_logits(texts)
    assert logits.shape == (20, len(stacked.members_))
    for column, member in zip(logits.T, stacked.members_, strict=True):
        np.testing.assert_allclose(column, member_logits(member, texts))
    np.testing.assert_allclose(stacked.combine(logits), stacked.decision_function(texts))
    assert stacked.members_logits([]).shape == (0, len(stacked.members_))


def test_mean_averages_member_logits_and_needs_no_validation(members, train_and_validation):
    (texts, labels), _ = train_and_validation
    model = ensemble(*members, method="mean").fit(texts, labels)
    np.testing.assert_allclose(model.weights_, [0.5, 0.5])
    assert model.intercept_ == 0.0
    probe, _ = make_toy_reviews(10, seed=6)
    logits = np.mean([member_logits(load_model(m), probe) for m in members], axis=0)
    np.testing.assert_allclose(model.decision_function(probe), logits)


def test_stronger_regularisation_shrinks_the_stacker_weights(members, stacked, train_and_validation):
    (texts, labels), validation = train_and_validation
    config = EnsembleConfig(members=tuple(str(m) for m in members), C=0.01)
    shrunk = EnsembleClassifier(config=config).fit(texts, labels, validation=validation)
    assert 0 < shrunk.weights_[0] < stacked.weights_[0]


# ----------------------------------------------------------------------------- refitted members
def test_a_member_refitted_with_validation_is_refitted_on_training_reviews_only(
    tmp_path, monkeypatch, train_and_validation
):
    refitted = save_ngram(tmp_path / "refitted", seed=1, refit_with_validation=True)
    as_is = save_ngram(tmp_path / "as-is", seed=7, refit_with_validation=False)
    calls = []
    original_fit = NgramClassifier.fit

    def spy(self, texts, labels, **kwargs):
        calls.append((self, list(texts), kwargs))
        return original_fit(self, texts, labels, **kwargs)

    monkeypatch.setattr(NgramClassifier, "fit", spy)
    (texts, labels), validation = train_and_validation
    unlabeled, _ = make_toy_reviews(10, seed=8)
    model = ensemble(refitted, as_is).fit(texts, labels, validation=validation, unlabeled=unlabeled)

    assert len(calls) == 1
    copy, fit_texts, kwargs = calls[0]
    assert fit_texts == texts  # the training reviews, never the validation ones
    assert not set(fit_texts) & set(validation[0])
    assert kwargs.get("unlabeled") == unlabeled
    assert copy.config == load_model(refitted).config
    # The weight applies to the saved member, not to the copy fitted for the stacker.
    assert all(copy is not m for m in model.members_)
    probe, _ = make_toy_reviews(10, seed=9)
    np.testing.assert_array_equal(model.members_[0].predict_proba(probe), load_model(refitted).predict_proba(probe))


def test_members_without_a_split_record_are_not_refitted(members, monkeypatch, train_and_validation):
    calls = []
    original_fit = NgramClassifier.fit
    monkeypatch.setattr(NgramClassifier, "fit", lambda self, *a, **k: calls.append(self) or original_fit(self, *a, **k))
    (texts, labels), validation = train_and_validation
    ensemble(*members).fit(texts, labels, validation=validation)
    assert calls == []


# ----------------------------------------------------------------------------- errors
def test_one_member_is_rejected_by_the_config():
    with pytest.raises(ConfigError, match="at least two"):
        EnsembleConfig(members=("only-one",))
    with pytest.raises(ConfigError, match="at least two"):
        EnsembleConfig().with_overrides(["members=only-one"])


def test_fit_without_members_is_a_config_error(toy_reviews):
    with pytest.raises(ConfigError, match="at least two saved models"):
        EnsembleClassifier().fit(*toy_reviews)


def test_stacker_without_validation_is_a_config_error(members, toy_reviews):
    with pytest.raises(ConfigError, match="validation"):
        ensemble(*members).fit(*toy_reviews)


def test_a_member_that_is_not_a_model_is_a_model_error(members, tmp_path, toy_reviews):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a model directory"):
        ensemble(members[0], tmp_path / "empty", method="mean").fit(*toy_reviews)
    with pytest.raises(ModelError, match="not a model directory"):
        ensemble(members[0], tmp_path / "missing", method="mean").fit(*toy_reviews)


# ----------------------------------------------------------------------------- saving
def test_saved_ensemble_is_self_contained(tmp_path, train_and_validation):
    good = save_ngram(tmp_path / "good", seed=1)
    noise = save_ngram(tmp_path / "noise", seed=1, shuffle_labels=True)
    (texts, labels), validation = train_and_validation
    model = ensemble(good, noise).fit(texts, labels, validation=validation)
    saved = model.save(tmp_path / "ensemble")
    probe, _ = make_toy_reviews(30, seed=10)
    expected = model.predict_proba(probe)

    shutil.rmtree(good)
    shutil.rmtree(noise)
    loaded = load_model(saved)
    assert isinstance(loaded, EnsembleClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(probe), expected)
    np.testing.assert_array_equal(loaded.weights_, model.weights_)

    files = json.loads((saved / "manifest.json").read_text())["files"]
    assert {"stacker.json", "members/0/weights.npz", "members/0/manifest.json", "members/1/weights.npz"} <= set(files)
    stacker = json.loads((saved / "stacker.json").read_text())
    assert stacker["method"] == "stacker"
    assert stacker["weights"] == pytest.approx(model.weights_.tolist())

    # A loaded ensemble saves again (its members now come from inside its own folder).
    again = loaded.save(tmp_path / "moved")
    np.testing.assert_array_equal(load_model(again).predict_proba(probe), expected)


def test_a_damaged_embedded_member_fails_to_load(stacked, tmp_path):
    saved = stacked.save(tmp_path / "ensemble")
    weights = saved / "members" / "0" / "weights.npz"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"damaged: members/0/weights\.npz"):
        load_model(saved)


def test_a_missing_stacker_file_fails_to_load(stacked, tmp_path):
    saved = stacked.save(tmp_path / "ensemble")
    (saved / "stacker.json").unlink()
    with pytest.raises(ModelError, match=r"stacker\.json"):
        load_model(saved)


def test_saving_embeds_the_fitted_members_even_if_their_folders_changed(tmp_path, train_and_validation):
    good = save_ngram(tmp_path / "good", seed=1)
    noise = save_ngram(tmp_path / "noise", seed=1, shuffle_labels=True)
    (texts, labels), validation = train_and_validation
    model = ensemble(good, noise).fit(texts, labels, validation=validation)
    probe, _ = make_toy_reviews(30, seed=10)
    expected = model.predict_proba(probe)
    save_ngram(good, seed=1, shuffle_labels=True)  # the member's folder is overwritten after the fit
    saved = model.save(tmp_path / "ensemble")
    np.testing.assert_array_equal(load_model(saved).predict_proba(probe), expected)


def test_a_stray_file_among_embedded_members_is_ignored(stacked, tmp_path):
    saved = stacked.save(tmp_path / "ensemble")
    (saved / "members" / ".DS_Store").write_text("")
    (saved / "members" / "notes").mkdir()
    probe, _ = make_toy_reviews(10, seed=11)
    loaded = load_model(saved)
    assert len(loaded.members_) == 2
    np.testing.assert_array_equal(loaded.predict_proba(probe), stacked.predict_proba(probe))


def test_missing_members_folder_is_a_model_error(stacked, tmp_path):
    import shutil

    saved = stacked.save(tmp_path / "ensemble")
    shutil.rmtree(saved / "members")
    with pytest.raises(ModelError, match="missing"):
        load_model(saved)


def test_validation_of_one_class_is_an_input_error(members, train_and_validation):
    from imdb_sentiment import InputError

    (texts, labels), (val_texts, val_labels) = train_and_validation
    positives = [t for t, y in zip(val_texts, val_labels, strict=True) if y == 1]
    with pytest.raises(InputError):
        ensemble(*members).fit(texts, labels, validation=(positives, [1] * len(positives)))


# ----------------------------------------------------------------------------- command line
def test_cli_trains_an_ensemble_of_saved_models(fake_imdb_archive, tmp_path):
    data = ["--data", str(fake_imdb_archive), "--quiet"]
    # A member trained by the CLI is refitted on train + validation, so the ensemble refits a copy of it.
    result = runner.invoke(app, ["train", *data, "--set", "n_bits=14", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    save_ngram(tmp_path / "b", seed=1)
    out = tmp_path / "ensemble"
    members = f"members={tmp_path / 'a'},{tmp_path / 'b'}"
    result = runner.invoke(app, ["train", "--model", "ensemble", *data, "--set", members, "--out", str(out)])
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert model.kind == "ensemble"
    assert model.resolved_config.members == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert len(model.members_) == 2 and model.weights_.shape == (2,)
    validation = model.info_["metrics"]["validation"]
    assert validation["accuracy"] >= 0.9
    # Its validation figures are the stacker's cross-validated predictions, not a scoring pass: no speed.
    assert validation["reviews_per_s"] is None
    assert accuracy(model) >= 0.9


def test_cli_ensemble_without_members_is_one_line(fake_imdb_archive, tmp_path):
    args = ["train", "--model", "ensemble", "--data", str(fake_imdb_archive), "--out", str(tmp_path / "x"), "--quiet"]
    assert_one_line_error(runner.invoke(app, args), "at least two saved models")
    assert not (tmp_path / "x").exists()
    assert_one_line_error(runner.invoke(app, [*args, "--set", "members=a"]), "at least two saved models")


def test_cli_export_of_a_non_transformer_is_one_line(members, tmp_path):
    out = tmp_path / "exported"
    result = runner.invoke(app, ["export", str(members[0]), "--out", str(out)])
    assert_one_line_error(result, "model kind 'ngram' has no ONNX export", code=1)  # a ModelError: exit 1
    assert not out.exists()
