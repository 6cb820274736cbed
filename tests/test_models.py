"""The model contract, checked once for every registered kind (STYLE.md item 12)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from conftest import make_toy_reviews
from imdb_sentiment import InputError, ModelError, NotFittedError, available_kinds, get_model_class, load_model
from imdb_sentiment.models.manifest import FORMAT_VERSION, MANIFEST
from pngcheck import assert_png_image

# Small, fast settings per kind. A newly registered kind must add an entry (test_every_kind_has_fast_config).
FAST_CONFIGS: dict[str, dict] = {
    "ngram": {"n_bits": 16},
    "bow-mlp": {
        "max_features": 300,
        "min_df": 1,
        "hidden_units": (8, 8),
        "epochs": 8,
        "batch_size": 16,
        "patience": 3,
        "learning_rate": 0.01,
        "dropout": 0.1,
    },
    # base_model: the tiny random BERT, filled in by _runtime_configs
    "transformer": {"max_length": 48, "stride": 8, "epochs": 6, "batch_size": 8, "learning_rate": 3e-3},
    # members: two small saved ngram models, filled in by _runtime_configs; "mean" needs no validation
    "ensemble": {"method": "mean"},
}
KINDS = available_kinds()
# Kinds that train in epochs and so must save a history and its plot.
EPOCH_KINDS = {"bow-mlp", "transformer"}


@pytest.fixture(scope="session", autouse=True)
def _runtime_configs(tiny_bert, tmp_path_factory):
    """Point the transformer at the tiny BERT and the ensemble at two saved ngram models."""
    FAST_CONFIGS["transformer"]["base_model"] = str(tiny_bert)
    folder = tmp_path_factory.mktemp("members")
    members = []
    for i, bits in enumerate((14, 16)):
        texts, labels = make_toy_reviews(60, seed=10 + i)
        model = make("ngram", n_bits=bits).fit(texts, labels)
        members.append(str(model.save(folder / f"ngram-{bits}")))
    FAST_CONFIGS["ensemble"]["members"] = tuple(members)


def make(kind: str, **config_changes):
    cls = get_model_class(kind)
    return cls(config=cls.config_class().replace(**{**FAST_CONFIGS[kind], **config_changes}))


@pytest.fixture(scope="module", params=KINDS)
def fitted(request, toy_reviews_factory):
    texts, labels = toy_reviews_factory(80, seed=1)
    val_texts, val_labels = toy_reviews_factory(30, seed=2)
    model = make(request.param).fit(texts, labels, validation=(val_texts, val_labels))
    return model


def test_every_kind_has_fast_config():
    assert set(FAST_CONFIGS) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_fit_returns_self_and_learns(kind, toy_reviews_factory):
    texts, labels = toy_reviews_factory(80, seed=1)
    model = make(kind)
    assert model.fit(texts, labels) is model
    assert list(model.classes_) == [0, 1]
    test_texts, test_labels = toy_reviews_factory(40, seed=3)
    assert (model.predict(test_texts) == np.asarray(test_labels)).mean() >= 0.9


def test_predict_proba_shape_and_rows_sum_to_one(fitted, toy_reviews_factory):
    texts, _ = toy_reviews_factory(25, seed=4)
    proba = fitted.predict_proba(texts)
    assert proba.shape == (25, 2)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(fitted.predict(texts), proba.argmax(axis=1))


def test_columns_are_negative_then_positive(fitted):
    proba = fitted.predict_proba(
        ["wonderful superb brilliant masterpiece loved", "awful boring terrible waste dreadful"]
    )
    assert proba[0, 1] > 0.5 > proba[1, 1]


def test_empty_batch_gives_empty_array(fitted):
    assert fitted.predict_proba([]).shape == (0, 2)


def test_save_load_round_trip_is_exact(fitted, tmp_path, toy_reviews_factory):
    texts, _ = toy_reviews_factory(20, seed=5)
    fitted.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert type(loaded) is type(fitted)
    assert loaded.config == fitted.resolved_config
    np.testing.assert_array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.history_ == fitted.history_


def test_manifest_records_provenance(fitted, tmp_path):
    fitted.info_["data_fingerprint"] = "abc123"
    fitted.save(tmp_path / "model")
    manifest = json.loads((tmp_path / "model" / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["kind"] == fitted.kind
    assert manifest["labels"] == ["negative", "positive"]
    assert manifest["config"] == fitted.resolved_config.to_dict()
    assert manifest["data_fingerprint"] == "abc123"
    assert {"python", "numpy", "scikit-learn"} <= set(manifest["versions"])
    assert manifest["created_at"]
    folder = tmp_path / "model"
    assert set(manifest["files"]) == {
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p != folder / MANIFEST
    }
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib") for p in (tmp_path / "model").rglob("*"))


def test_bare_string_is_rejected(fitted):
    with pytest.raises(InputError, match="not a single string"):
        fitted.predict_proba("a great film")
    with pytest.raises(InputError, match="not a single string"):
        make(fitted.kind).fit("a great film", [1])


@pytest.mark.parametrize("kind", KINDS)
def test_unfitted_model_is_rejected(kind, tmp_path):
    model = make(kind)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict_proba(["a film"])
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], [0], "2 texts but 1 labels"),
        (["a", "b"], [0, 2], "must be 0 .negative. or 1"),
        (["a", "b"], [1, 1], "both classes"),
        (["a", 3], [0, 1], r"texts\[1\] is a int"),
        ([], [], "empty"),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_bad_training_input_is_rejected(kind, texts, labels, message):
    with pytest.raises(InputError, match=message):
        make(kind).fit(texts, labels)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_identical_probabilities(kind, toy_reviews_factory):
    texts, labels = toy_reviews_factory(60, seed=6)
    probe, _ = toy_reviews_factory(10, seed=7)
    first = make(kind).fit(texts, labels).predict_proba(probe)
    second = make(kind).fit(texts, labels).predict_proba(probe)
    np.testing.assert_array_equal(first, second)


def test_sklearn_clone_keeps_config_and_drops_fitted_state(fitted):
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "classes_")


def test_interrupted_save_keeps_previous_model(fitted, tmp_path, monkeypatch, toy_reviews_factory):
    texts, _ = toy_reviews_factory(10, seed=8)
    target = tmp_path / "model"
    fitted.save(target)
    before = load_model(target).predict_proba(texts)

    def crash(self, folder: Path) -> None:
        (folder / "partial.bin").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(type(fitted), "_save_weights", crash)
    with pytest.raises(KeyboardInterrupt):
        fitted.save(target)
    np.testing.assert_array_equal(load_model(target).predict_proba(texts), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_save_refuses_to_overwrite_a_folder_that_is_not_a_model(fitted, tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("do not delete")
    with pytest.raises(ModelError, match="not a saved model"):
        fitted.save(tmp_path / "precious")
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "do not delete"


def test_load_rejects_damaged_or_foreign_folders(fitted, tmp_path):
    target = tmp_path / "model"
    fitted.save(target)

    with pytest.raises(ModelError, match="not a model directory"):
        load_model(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"no manifest\.json"):
        load_model(tmp_path / "empty")

    future = tmp_path / "future"
    shutil.copytree(target, future)
    manifest = json.loads((future / MANIFEST).read_text())
    (future / MANIFEST).write_text(json.dumps({**manifest, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(ModelError, match="format version"):
        load_model(future)

    alien = tmp_path / "alien"
    shutil.copytree(target, alien)
    (alien / MANIFEST).write_text(json.dumps({**manifest, "kind": "crystal-ball"}))
    with pytest.raises(ModelError, match="crystal-ball"):
        load_model(alien)

    damaged = tmp_path / "damaged"
    shutil.copytree(target, damaged)
    weights = next(
        damaged / name for name in manifest["files"] if name.endswith((".keras", ".npz", ".npy", ".safetensors"))
    )
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="damaged"):
        load_model(damaged)


def test_training_history_is_saved_and_plotted(fitted, tmp_path):
    fitted.save(tmp_path / "model")
    if fitted.kind not in EPOCH_KINDS:
        assert not (tmp_path / "model" / "history.json").exists()
        return
    history = json.loads((tmp_path / "model" / "history.json").read_text())
    assert {"loss", "val_loss"} <= set(history)
    assert_png_image(tmp_path / "model" / "training_curves.png")


def test_the_contract_says_what_the_kind_can_do(fitted, toy_reviews_factory):
    """Surfaces ask the model (never its kind's name): options, attention, threads."""
    texts, _ = toy_reviews_factory(3, seed=9)
    # Every surface may offer every option: the contract passes on only those the kind takes.
    explanation = fitted.explain(texts[0], attention=False, n_steps=3, no_such_option=1)
    assert explanation.attention is None
    assert fitted.explain_options <= {"n_steps", "attention"}
    assert isinstance(fitted.cheap_calls, bool)
    with_attention = fitted.explain(texts[0], attention=True, n_steps=3)
    assert (with_attention.attention is not None) == fitted.shows_attention
    before = fitted.predict_proba(texts)
    previous = fitted.set_threads(1)
    assert fitted.set_threads(previous) in (1, None)  # None: the kind has no thread setting
    np.testing.assert_array_equal(fitted.predict_proba(texts), before)
