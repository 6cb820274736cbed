"""A smaller student (``layers``) that learns from a teacher model (``teacher``), on the tiny random BERT."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

import torch

from imdb_sentiment import ConfigError, ModelError, load_imdb, load_model, train
from imdb_sentiment.models.transformer import TransformerClassifier, network, training
from imdb_sentiment.models.transformer.config import TransformerConfig

FAST = {"max_length": 48, "stride": 8, "epochs": 6, "batch_size": 8, "learning_rate": 3e-3}


@pytest.fixture(scope="module")
def teacher(tiny_bert, toy_reviews_factory, tmp_path_factory) -> Path:
    """A trained two-layer model, saved."""
    texts, labels = toy_reviews_factory(80, seed=1)
    folder = tmp_path_factory.mktemp("teacher") / "model"
    TransformerClassifier(config=TransformerConfig(base_model=str(tiny_bert), **FAST)).fit(texts, labels).save(folder)
    return folder


def student(teacher: Path, **changes) -> TransformerClassifier:
    config = TransformerConfig(base_model=str(teacher / "model"), teacher=str(teacher), **{**FAST, **changes})
    return TransformerClassifier(config=config)


def test_a_student_keeps_the_named_layers_of_its_base(teacher, toy_reviews_factory, tmp_path):
    texts, labels = toy_reviews_factory(16, seed=4)
    # One step at a negligible learning rate: the weights it starts from are what is left.
    model = student(teacher, layers=(1,), max_steps=1, learning_rate=1e-12).fit(texts, labels)
    base = load_model(teacher)._torch_network("a test")
    assert model.network_.config.num_hidden_layers == 1 and len(model.network_.bert.encoder.layer) == 1
    for name, value in base.bert.encoder.layer[1].state_dict().items():
        torch.testing.assert_close(model.network_.bert.encoder.layer[0].state_dict()[name], value, atol=1e-6, rtol=0)
    model.save(tmp_path / "student")
    again = load_model(tmp_path / "student")
    assert again.network_.config.num_hidden_layers == 1
    np.testing.assert_allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    onnx = load_model(again.export_onnx(tmp_path / "onnx"))
    np.testing.assert_allclose(onnx.predict_proba(texts), model.predict_proba(texts), atol=1e-4)


@pytest.mark.parametrize("weight, agrees_with", [(1.0, "teacher"), (0.0, "labels")])
def test_the_student_learns_the_teachers_probabilities_for_their_share_of_the_loss(
    teacher, tiny_bert, toy_reviews_factory, monkeypatch, weight, agrees_with
):
    texts, labels = toy_reviews_factory(48, seed=6)
    y = np.asarray(labels)
    # A teacher that says the opposite of every label: what the student learns tells which it followed.
    contrary = np.eye(2)[1 - y] * 0.98 + 0.01
    seen: list[list[str]] = []
    monkeypatch.setattr(TransformerClassifier, "_teacher", lambda self: lambda t: seen.append(t) or contrary)
    config = TransformerConfig(base_model=str(tiny_bert), teacher="a teacher", distill_weight=weight, **FAST)
    model = TransformerClassifier(config=config).fit(texts, labels)
    assert seen == [texts]
    predicted = model.predict_proba(texts).argmax(axis=1)
    expected = 1 - y if agrees_with == "teacher" else y
    assert (predicted == expected).mean() >= 0.9


def test_the_teacher_is_any_saved_model_and_its_probabilities_are_used(teacher, toy_reviews_factory, capsys):
    texts, _ = toy_reviews_factory(8, seed=2)
    model = student(teacher, max_steps=1)
    np.testing.assert_allclose(model._teacher()(texts), load_model(teacher).predict_proba(texts))
    model.verbose = True
    model.fit(*toy_reviews_factory(16, seed=3))
    said = capsys.readouterr().err
    assert f"learning from {teacher}" in said and "scoring the 16 training reviews with the teacher" in said


def test_soften_and_the_distillation_loss():
    proba = np.array([[0.9, 0.1], [0.5, 0.5]])
    np.testing.assert_allclose(training.soften(proba, 1.0), proba, atol=1e-6)
    soft = training.soften(proba, 2.0)
    assert soft[0, 0] == pytest.approx(3 / 4) and soft[1, 0] == pytest.approx(0.5)  # sqrt(9) : sqrt(1)
    same = torch.log(torch.as_tensor(soft)) * 2.0  # logits whose softened probabilities are the teacher's
    np.testing.assert_allclose(training.distillation_loss(same, torch.as_tensor(soft), 2.0).numpy(), 0, atol=1e-6)
    wrong = torch.tensor([[-2.0, 2.0], [3.0, -3.0]])
    assert (training.distillation_loss(wrong, torch.as_tensor(soft), 2.0) > 0.1).all()


def test_student_settings_are_checked(teacher, toy_reviews_factory):
    for changes, message in [
        ({"layers": (0, 0)}, "layers must be distinct"),
        ({"layers": (-1,)}, "layers must be distinct"),
        ({"distill_weight": 1.5}, "distill_weight must be in"),
        ({"temperature": 0.0}, "temperature must be > 0"),
        ({"teacher": "x", "crops": 10}, "teacher and crops cannot be combined"),
    ]:
        with pytest.raises(ConfigError, match=message):
            dataclasses.replace(TransformerConfig(), **changes)
    assert TransformerConfig().with_overrides(["layers=0,2,5"]).layers == (0, 2, 5)
    with pytest.raises(ModelError, match=r"names layer 4, but the base has 2 \(0-1\)"):
        student(teacher, layers=(0, 4)).fit(*toy_reviews_factory(16, seed=3))


def test_keep_layers_needs_a_bert_style_encoder():
    class Plain(torch.nn.Module):
        base_model = torch.nn.Linear(2, 2)

    with pytest.raises(ModelError, match="needs a BERT-style encoder"):
        network.keep_layers(Plain(), (0,))
    network.keep_layers(Plain(), ())  # nothing to keep: nothing is looked at


def test_unlabelled_reviews_are_learnt_from_the_teacher_alone(tiny_bert, toy_reviews_factory, monkeypatch, capsys):
    texts, labels = toy_reviews_factory(8, seed=6)
    extra, extra_labels = toy_reviews_factory(64, seed=7)
    # The teacher says the opposite of the unlabelled reviews' (hidden) labels and the truth of the others.
    truth = dict(zip(texts + extra, np.eye(2)[labels + [1 - y for y in extra_labels]] * 0.98 + 0.01, strict=True))
    seen: list[list[str]] = []
    monkeypatch.setattr(
        TransformerClassifier, "_teacher", lambda self: lambda t: seen.append(t) or np.array([truth[x] for x in t])
    )
    # distill_weight 0: the labelled reviews learn their labels only; the unlabelled ones the teacher only.
    config = TransformerConfig(base_model=str(tiny_bert), teacher="a teacher", distill_weight=0.0, unlabeled=48, **FAST)
    model = TransformerClassifier(config=config, verbose=True).fit(texts, labels, unlabeled=extra)
    assert seen[0] == texts and len(seen[1]) == 48 and set(seen[1]) <= set(extra)
    assert "scoring 48 unlabelled reviews with the teacher" in capsys.readouterr().err
    drawn = np.array([extra.index(x) for x in seen[1]])
    predicted = model.predict_proba(seen[1]).argmax(axis=1)
    assert (predicted == 1 - np.asarray(extra_labels)[drawn]).mean() >= 0.8
    assert training.unlabeled_draw(extra, 48, 0) == seen[1]  # a seeded draw, in the texts' order
    assert training.unlabeled_draw(extra, 100, 0) == extra and training.unlabeled_draw(extra, 0, 0) == []


def test_train_loads_unlabelled_reviews_only_when_the_config_asks(tiny_bert, fake_imdb_archive, monkeypatch, tmp_path):
    assert not TransformerClassifier.wants_unlabeled(None)
    assert not TransformerClassifier.wants_unlabeled(TransformerConfig(teacher="t"))
    assert TransformerClassifier.wants_unlabeled(TransformerConfig(teacher="t", unlabeled=5))
    sizes: list[int] = []
    monkeypatch.setattr(
        TransformerClassifier, "_teacher", lambda self: lambda t: sizes.append(len(t)) or np.full((len(t), 2), 0.5)
    )
    config = TransformerConfig(base_model=str(tiny_bert), teacher="t", unlabeled=5, **{**FAST, "max_steps": 1})
    train("transformer", config=config, data=fake_imdb_archive, out=tmp_path / "m")
    assert sizes[1] == 5 and len(load_imdb(fake_imdb_archive, include_unsup=True).unsup) > 5
    with pytest.raises(ConfigError, match="unlabeled reviews need a teacher"):
        TransformerConfig(unlabeled=5)
    with pytest.raises(ConfigError, match="unlabeled must be >= 0"):
        TransformerConfig(teacher="t", unlabeled=-1)
