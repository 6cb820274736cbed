"""The shipped model: how a model reference resolves, the default on every surface, the slim (torch-free)
inference and explanation path, and the integrity of the committed artifact.

Every test but the last builds its own "shipped" model from the tiny BERT (``conftest.write_tiny_bert``)
and points :data:`imdb_sentiment.pretrained.ROOT` at it: no test depends on the committed weights being
the current ones. The last one checks the committed artifact's shape and manifest, not its figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

from imdb_sentiment import ModelError, load_model, pretrained
from imdb_sentiment.cli import app
from imdb_sentiment.models.transformer import TransformerClassifier
from imdb_sentiment.models.transformer.config import TransformerConfig

runner = CliRunner()
FAST = {"max_length": 48, "stride": 8, "epochs": 6, "batch_size": 8, "learning_rate": 3e-3}
REAL_ROOT = pretrained.ROOT


@pytest.fixture(scope="module")
def shipped_root(tiny_bert, toy_reviews_factory, tmp_path_factory) -> Path:
    """A package-like root holding a "shipped" tiny model: int8 ONNX plus float16 weights, as the real one."""
    texts, labels = toy_reviews_factory(80, seed=1)
    config = TransformerConfig(base_model=str(tiny_bert), inference_truncation="head_tail", **FAST)
    model = TransformerClassifier(config=config).fit(texts, labels)
    root = tmp_path_factory.mktemp("package")
    model.export_onnx(root / pretrained.SHIPPED, int8=True, keep_weights="float16")
    return root


@pytest.fixture
def shipped(shipped_root, monkeypatch) -> Path:
    monkeypatch.setattr(pretrained, "ROOT", shipped_root)
    return shipped_root / pretrained.SHIPPED


def test_names_and_none_resolve_to_the_shipped_folder(shipped, tmp_path, monkeypatch):
    assert pretrained.resolve(None) == shipped
    assert pretrained.resolve("pretrained") == shipped
    assert pretrained.resolve(pretrained.SHIPPED) == shipped
    assert pretrained.resolve(tmp_path / "elsewhere") == tmp_path / "elsewhere"
    # a real folder named like the shipped model wins over the name
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pretrained").mkdir()
    assert pretrained.resolve("pretrained") == Path("pretrained")
    assert pretrained.is_shipped(shipped) and not pretrained.is_shipped(tmp_path)


def test_load_model_without_a_folder_loads_the_shipped_model(shipped):
    for ref in (None, "pretrained"):
        model = load_model(ref)
        assert model.kind == "transformer" and model.backend_ == "onnx"
    proba = load_model().predict_proba(["superb wonderful film", "awful boring waste"])
    assert proba.shape == (2, 2)


def test_an_onnx_model_limits_its_threads_when_asked(shipped):
    """Batch scoring with several workers asks each model for one thread (set_threads), not one per core."""
    model = load_model()
    texts = ["superb wonderful film", "awful boring waste"]
    before = model.predict_proba(texts)
    assert model.set_threads(1) is None  # the default: one thread per core
    assert model._session.session.get_session_options().intra_op_num_threads == 1
    np.testing.assert_allclose(model.predict_proba(texts), before, rtol=1e-6)
    assert model.set_threads(None) == 1


def test_a_missing_shipped_model_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "ROOT", tmp_path)
    with pytest.raises(ModelError, match="make pretrained"):
        load_model("pretrained")
    result = runner.invoke(app, ["predict", "a fine film"])
    assert result.exit_code == 1
    assert "make pretrained" in result.stderr and "Traceback" not in result.output


def test_shipped_folder_keeps_onnx_and_float16_weights(shipped):
    manifest = json.loads((shipped / "manifest.json").read_text())
    assert manifest["exported_from"] == {"backend": "torch", "int8": True, "weights_kept": "float16"}
    assert {"model.onnx", "model/model.safetensors", "model/tokenizer.json"} <= set(manifest["files"])
    from safetensors import safe_open

    with safe_open(shipped / "model" / "model.safetensors", framework="numpy") as weights:
        dtypes = {weights.get_slice(k).get_dtype() for k in weights.keys()}  # noqa: SIM118
    assert "F16" in dtypes and "F32" not in dtypes


def test_cli_verbs_use_the_shipped_model_when_none_is_named(shipped, tmp_path):
    result = runner.invoke(app, ["predict", "superb wonderful masterpiece", "awful dreadful waste"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = load_model(shipped).predict_proba(["superb wonderful masterpiece", "awful dreadful waste"])[:, 1]
    np.testing.assert_allclose([r["p_positive"] for r in records], expected, atol=1e-6)
    # an explicit folder still comes first
    named = runner.invoke(app, ["predict", str(shipped), "superb wonderful masterpiece", "awful dreadful waste"])
    assert named.exit_code == 0 and [json.loads(line) for line in named.stdout.splitlines()] == records

    data = tmp_path / "in.csv"
    data.write_text("text,label\nsuperb wonderful film,1\nawful boring waste,0\n", encoding="utf-8")
    before = (shipped / "manifest.json").read_bytes()
    evaluated = runner.invoke(app, ["evaluate", "--input", str(data), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["n"] == 2
    assert (shipped / "manifest.json").read_bytes() == before  # the installation is never written into

    scored = runner.invoke(app, ["score", "--input", str(data), "--output", str(tmp_path / "out.csv"), "--quiet"])
    assert scored.exit_code == 0, scored.output
    assert (tmp_path / "out.csv").read_text().count("\n") == 3

    explained = runner.invoke(app, ["explain", "superb wonderful film", "--json"])
    assert explained.exit_code == 0, explained.output
    assert [t["token"] for t in json.loads(explained.stdout)["tokens"]] == ["superb", "wonderful", "film"]


def test_serve_and_app_default_to_the_shipped_model(shipped, monkeypatch, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from imdb_sentiment.serving.api import create_app
    from imdb_sentiment.ui.launch import default_models

    client = TestClient(create_app(["pretrained"]))
    listed = client.get("/v1/models").json()
    assert pretrained.SHIPPED in json.dumps(listed)
    monkeypatch.chdir(tmp_path)
    assert default_models() == [shipped]


def test_occlusion_explains_without_gradients(shipped):
    model = load_model(shipped)
    text = "Superb film. The plot was awful!"
    with_gradients = model.explain(text, attention=False)
    assert with_gradients.method.startswith("layer integrated gradients")
    model._has_gradients = lambda: False  # what an install without torch sees
    occluded = model.explain(text)
    assert occluded.method.startswith("word occlusion")
    words = [t.token for t in occluded.tokens]
    assert words == ["Superb", "film", "The", "plot", "was", "awful", "!"]
    assert occluded.details["words_occluded"] == 7 and np.isfinite([t.attribution for t in occluded.tokens]).all()


def test_occlusion_is_the_score_drop_when_each_word_is_left_out():
    from imdb_sentiment.models.transformer.attribution import occlusion_attributions, piece_groups

    text = "Not bad, truly superb!"
    # pieces as a tokenizer would give them: "not", "bad", ",", "tru", "##ly", "superb", "!"
    spans = [(0, 3), (4, 7), (7, 8), (9, 12), (12, 14), (15, 21), (21, 22)]
    groups = piece_groups(text, spans)
    assert [g.tolist() for g in groups] == [[0], [1], [3, 4], [5], [6]]  # "," is in no word
    weights = np.array([-1.0, -2.0, 0.0, 0.5, 0.5, 3.0, 0.25])
    seen: list[list[int]] = []

    def log_odds(variants: list[list[int]]) -> np.ndarray:
        seen.extend(variants)
        return np.array([weights[v].sum() for v in variants])

    per_piece = occlusion_attributions(list(range(7)), groups, log_odds)
    np.testing.assert_allclose(per_piece, [-1.0, -2.0, 0.0, 0.5, 0.5, 3.0, 0.25])
    assert seen[0] == list(range(7)) and seen[3] == [0, 1, 2, 5, 6]  # "truly" left out, both its pieces


def test_slim_install_predicts_and_explains_without_torch(shipped):
    # An interpreter where torch, transformers, keras and captum cannot be imported, as after `pip install .`.
    script = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "transformers", "keras", "captum", "tensorflow"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from imdb_sentiment import load_model
        model = load_model({str(shipped)!r})
        print(model.backend_, model.predict_proba(["superb film"]).shape)
        print(model.explain("superb film").method)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "keras")))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "onnx (1, 2)"
    assert lines[1].startswith("word occlusion")
    assert lines[2] == "[]"


def test_committed_shipped_model_is_complete_and_within_budget():
    folder = REAL_ROOT / pretrained.SHIPPED
    if not (folder / "manifest.json").is_file():
        pytest.fail(f"no shipped model in {folder}: run `make pretrained`")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "transformer"
    weights = sum(p.stat().st_size for p in folder.rglob("*") if p.suffix in (".onnx", ".safetensors"))
    assert weights <= 80 * 2**20
    assert {"model.onnx", "model/model.safetensors", "model/tokenizer.json"} <= set(manifest["files"])
    # how it was built and what it scored are recorded with it
    assert any("imdb-sentiment train" in c for c in manifest["build"]["commands"])
    assert manifest["data_fingerprint"]
    for split in ("validation", "test"):
        assert 0.5 < manifest["metrics"][split]["accuracy"] <= 1
    assert {"sst2_dev", "imdb_contrast_dev_contrast", "imdb_cad_dev_new"} <= set(manifest["metrics"]["out_of_domain"])
    model = load_model("pretrained")
    assert model.backend_ in ("onnx", "torch")
    assert model.predict_proba(["a film"]).shape == (1, 2)


def test_committed_clause_reader_reads_negation_and_wishes():
    """The shipped model's clause reader (a committed artifact, like the test above) reads what the clause
    scorer it replaced misread: negated praise and criticism, and wishes that something had been better."""
    model = load_model("pretrained")
    manifest = json.loads((REAL_ROOT / pretrained.SHIPPED / "manifest.json").read_text())
    assert manifest["clauses"] == {"folder": "clauses", "kind": "transformer"}
    assert "clauses/model.onnx" in manifest["files"]
    reader = model.clause_reader_
    assert reader is not None and reader.backend_ == "onnx"
    positive = ["the soundtrack is not bad at all", "the acting was not bad", "the story was never boring"]
    negative = [
        "it should have been much funnier",
        "the effects could have been better",
        "the music wasn't anything special",
    ]
    p = reader.predict_proba(positive + negative)[:, 1]
    assert (p[:3] > 0.5).all() and (p[3:] < 0.5).all(), p
    # and summarize's reading of a review goes through it: each aspect judged on its own clause
    from imdb_sentiment.audience.polarity import review_aspects

    text = "The plot is thin and silly, but the acting is not bad at all."
    said = {a["aspect"]: a["label"] for a in review_aspects(model, text, float(model.predict_proba([text])[0, 1]))}
    assert said == {"story": "negative", "acting": "positive"}


def test_committed_clause_reader_works_without_torch():
    """`pip install .` has no torch: the shipped model's reader (ONNX only) must load and read clauses there."""
    script = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "transformers", "keras", "captum", "tensorflow"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from imdb_sentiment import load_model
        from imdb_sentiment.audience.polarity import review_aspects
        model = load_model("pretrained")
        text = "The plot is thin and silly, but the acting is not bad at all."
        said = review_aspects(model, text, float(model.predict_proba([text])[0, 1]))
        print(model.clause_reader_.backend_, sorted((a["aspect"], a["label"]) for a in said))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "onnx [('acting', 'positive'), ('story', 'negative')]"
