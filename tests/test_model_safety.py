"""Loading a model folder runs none of its code, reaches nothing outside it, and fails in one line.

The fault table (docs/models.md) is :func:`test_a_corrupt_model_fails_in_one_line`: every corruption in
:data:`CORRUPTIONS`, applied to every kind in :data:`KINDS`, gives one :class:`ModelError` from
``load_model`` and one ``error:`` line (no traceback) from ``imdb-sentiment predict``. A corruption
"re-hashed" rewrites the manifests' checksums after it, as anyone who can write the folder can: the hashes
are integrity checks, not signatures, so the loaders behind them must refuse the files by themselves.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import make_toy_reviews
from imdb_sentiment import ModelError, load_model, pretrained
from imdb_sentiment.cli import app
from imdb_sentiment.models import manifest as manifest_module
from imdb_sentiment.models.ensemble import EnsembleClassifier, EnsembleConfig
from imdb_sentiment.models.manifest import FORMAT_VERSION, MANIFEST, check_files, file_hashes, read_manifest
from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

transformers = pytest.importorskip("transformers")

from imdb_sentiment.models.transformer import TransformerClassifier, network  # noqa: E402
from imdb_sentiment.models.transformer.config import TransformerConfig  # noqa: E402

runner = CliRunner()
KINDS = ("ngram", "ensemble", "transformer")
#: The weight file each kind's corruptions aim at.
WEIGHTS = {"ngram": "weights.npz", "ensemble": "members/0/weights.npz", "transformer": "model/model.safetensors"}
HOSTNAME = Path("/etc/hostname")


class Payload:
    """Pickled into a weight file: creates ``marker`` if anything ever unpickles it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return os.makedirs, (str(self.marker),)


def rehash(folder: Path) -> None:
    """Rewrite the checksums of every manifest in ``folder``, innermost first (links are not followed)."""
    for file in sorted(folder.rglob(MANIFEST), key=lambda p: -len(p.parts)):
        manifest = json.loads(file.read_text())
        manifest["files"] = file_hashes(file.parent)
        file.write_text(json.dumps(manifest))


def edit_manifest(folder: Path, **changes: object) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({**manifest, **changes}))


# ----------------------------------------------------------------------------- the corruptions
def truncate(folder: Path, weight: Path) -> None:
    weight.write_bytes(weight.read_bytes()[: weight.stat().st_size // 2])


def flip_middle(folder: Path, weight: Path) -> None:
    data = bytearray(weight.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weight.write_bytes(bytes(data))


def flip_header(folder: Path, weight: Path) -> None:
    data = bytearray(weight.read_bytes())
    data[:16] = bytes(b ^ 0xFF for b in data[:16])
    weight.write_bytes(bytes(data))


def pickled(folder: Path, weight: Path) -> None:
    payload = Payload(folder.parent / "unpickled")
    if weight.suffix == ".npz":
        arrays = {name: np.array([payload], dtype=object) for name in ("feature_weights", "nb_ratio", "idf")}
        np.savez(weight, intercept=np.zeros(1), **arrays)
    else:
        weight.write_bytes(pickle.dumps(payload))


def wrong_shape(folder: Path, weight: Path) -> None:
    if weight.suffix == ".npz":
        arrays = {name: np.zeros(10, dtype=np.int64) for name in ("feature_weights", "nb_ratio", "idf")}
        np.savez(weight, intercept=np.zeros(1), **arrays)
        return
    from safetensors.torch import load_file, save_file

    tensors = load_file(weight)
    name = next(k for k in tensors if k.startswith("classifier.weight"))
    tensors[name] = tensors[name].new_zeros((3, 5))
    save_file(tensors, weight)


def link_out(folder: Path, weight: Path) -> None:
    outside = folder.parent / "outside" / weight.name
    outside.parent.mkdir()
    shutil.move(weight, outside)
    weight.symlink_to(outside)  # same bytes, so the checksum still matches


def unlisted(folder: Path, weight: Path) -> None:
    (weight.parent / "pytorch_model.bin").write_bytes(pickle.dumps(Payload(folder.parent / "unpickled")))


def lists_a_path_outside(folder: Path, weight: Path) -> None:
    files = json.loads((folder / MANIFEST).read_text())["files"]
    edit_manifest(folder, files={**files, "../../../../etc/hostname": manifest_module.sha256(HOSTNAME)})


def contains_itself(folder: Path, weight: Path) -> None:
    """Make ``folder`` an ensemble whose second member is a link back to the ensemble itself."""
    if read_manifest(folder)["kind"] != "ensemble":
        model = folder.parent / "model"
        folder.rename(model)
        shutil.copytree(TEMPLATES["ensemble"], folder, symlinks=True)
        shutil.rmtree(folder / "members" / "0")
        model.rename(folder / "members" / "0")
    shutil.rmtree(folder / "members" / "1")
    (folder / "members" / "1").symlink_to("..", target_is_directory=True)


@dataclass(frozen=True)
class Corruption:
    make: Callable[[Path, Path], None]
    rehash: bool  # rewrite the manifests' checksums afterwards
    expect: str  # in the one-line message ("" when it is the parser's own words)


CORRUPTIONS: dict[str, Corruption] = {
    "truncated weights": Corruption(truncate, False, "damaged"),
    "truncated weights, re-hashed": Corruption(truncate, True, ""),
    "flipped byte": Corruption(flip_middle, False, "damaged"),
    "flipped header bytes, re-hashed": Corruption(flip_header, True, ""),
    "listed file deleted": Corruption(lambda folder, weight: weight.unlink(), False, "missing"),
    "unlisted file added": Corruption(unlisted, False, "does not list"),
    "pickled weights, re-hashed": Corruption(pickled, True, ""),
    "wrong dtype/shape, re-hashed": Corruption(wrong_shape, True, ""),
    "weights linked from outside": Corruption(link_out, False, "outside the model folder"),
    "manifest lists ../../../../etc/hostname": Corruption(lists_a_path_outside, False, "not a plain path"),
    "ensemble member linked to its ensemble, re-hashed": Corruption(contains_itself, True, "contains itself"),
    "manifest from a newer format": Corruption(
        lambda folder, weight: edit_manifest(folder, format_version=FORMAT_VERSION + 1), False, "format version"
    ),
    "manifest not JSON": Corruption(lambda folder, weight: (folder / MANIFEST).write_text("{"), False, "JSON"),
    "manifest config invalid": Corruption(
        lambda folder, weight: edit_manifest(folder, config={"no_such_key": 1}), False, "config"
    ),
}

#: Pristine saved models, by kind, filled in by the ``templates`` fixture.
TEMPLATES: dict[str, Path] = {}


@pytest.fixture(scope="module")
def templates(tiny_bert, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("templates")
    texts, labels = make_toy_reviews(40, seed=5)
    members = [
        NgramClassifier(config=NgramConfig(n_bits=12, C=c)).fit(texts, labels).save(root / f"m{i}")
        for i, c in enumerate((1.0, 10.0))
    ]
    TEMPLATES["ngram"] = members[0]
    ensemble = EnsembleClassifier(config=EnsembleConfig(members=tuple(map(str, members)), method="mean"))
    TEMPLATES["ensemble"] = ensemble.fit(texts, labels).save(root / "ensemble")
    config = TransformerConfig(base_model=str(tiny_bert), max_length=48, stride=8, epochs=1, batch_size=8)
    TEMPLATES["transformer"] = TransformerClassifier(config=config).fit(texts, labels).save(root / "transformer")
    return TEMPLATES


def copy_of(kind: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(TEMPLATES[kind], tmp_path / "work" / kind, symlinks=True))


def assert_one_line_cli_error(folder: Path) -> str:
    result = runner.invoke(app, ["predict", str(folder), "a wonderful film"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# ----------------------------------------------------------------------------- the fault table
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_a_corrupt_model_fails_in_one_line(templates, name, kind, tmp_path):
    corruption = CORRUPTIONS[name]
    folder = copy_of(kind, tmp_path)
    corruption.make(folder, folder / WEIGHTS[kind])
    if corruption.rehash:
        rehash(folder)

    with pytest.raises(ModelError) as caught:
        load_model(folder)
    message = str(caught.value)
    assert "\n" not in message and corruption.expect in message
    assert_one_line_cli_error(folder)
    assert not (tmp_path / "work" / "unpickled").exists(), "a pickle in the folder was loaded"


def test_the_templates_load(templates):
    for folder in templates.values():
        assert load_model(folder).predict_proba(["a wonderful film"]).shape == (1, 2)


# ----------------------------------------------------------------------------- finding 4: no code, no network
def test_saved_weights_are_read_offline_from_safetensors_without_remote_code(templates, monkeypatch):
    calls: list[dict] = []
    original = transformers.AutoModelForSequenceClassification.from_pretrained

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", spy)
    load_model(templates["transformer"])
    network.load_base(str(templates["transformer"] / network.MODEL_DIR), seed=0)
    assert len(calls) == 2
    for kwargs in calls:
        assert kwargs["trust_remote_code"] is False
        assert kwargs["local_files_only"] is True
        assert kwargs["use_safetensors"] is True


def with_auto_map(folder: Path) -> Path:
    """Make the model's config name a class in a ``.py`` of its own that, imported, creates a marker."""
    model_dir = folder / network.MODEL_DIR
    config = json.loads((model_dir / "config.json").read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "evil.EvilModel", "AutoConfig": "evil.EvilConfig"}
    (model_dir / "config.json").write_text(json.dumps(config))
    (model_dir / "evil.py").write_text(
        f"import os\nos.makedirs({str(folder.parent / 'ran')!r})\n"
        "from transformers import BertConfig as EvilConfig, BertForSequenceClassification as EvilModel\n"
    )
    rehash(folder)
    return folder


def test_a_config_naming_code_of_its_own_is_refused_and_the_code_never_runs(templates, tmp_path):
    folder = with_auto_map(copy_of("transformer", tmp_path))
    with pytest.raises(ModelError, match="auto_map"):
        load_model(folder)
    with pytest.raises(ModelError, match="auto_map"):
        network.load_base(str(folder / network.MODEL_DIR), seed=0)
    assert "auto_map" in assert_one_line_cli_error(folder)
    assert not (tmp_path / "work" / "ran").exists()


def test_a_transformer_without_its_model_folder_fails_before_transformers_is_called(templates, tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("transformers was asked to load a model")

    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained", never)
    folder = copy_of("transformer", tmp_path)
    shutil.rmtree(folder / network.MODEL_DIR)
    rehash(folder)
    with pytest.raises(ModelError, match=r"model is missing"):
        load_model(folder)
    assert "model is missing" in assert_one_line_cli_error(folder)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_bad_onnx_graph_fails_in_one_line(templates, tmp_path, damage):
    pytest.importorskip("onnxruntime")
    folder = load_model(templates["transformer"]).export_onnx(tmp_path / "onnx")
    graph = folder / "model.onnx"
    graph.write_bytes(b"not a graph" if damage == "garbage" else graph.read_bytes()[:1000])
    rehash(folder)
    with pytest.raises(ModelError, match="could not be loaded"):
        load_model(folder)
    assert_one_line_cli_error(folder)


# ----------------------------------------------------------------------------- finding 5: inside the folder
@pytest.mark.parametrize("name", [str(HOSTNAME), "x/../weights.npz", "./weights.npz", "a//weights.npz", ""])
def test_every_listed_path_is_a_plain_path_inside_the_folder(templates, tmp_path, name):
    folder = copy_of("ngram", tmp_path)
    files = json.loads((folder / MANIFEST).read_text())["files"]
    edit_manifest(folder, files={**files, name: manifest_module.sha256(folder / "weights.npz")})
    with pytest.raises(ModelError, match="not a plain path inside the model folder"):
        load_model(folder)


def test_models_nest_only_so_deep(templates, tmp_path, monkeypatch):
    monkeypatch.setattr(manifest_module, "MAX_DEPTH", 1)
    with pytest.raises(ModelError, match="nests models more than 1 deep"):
        load_model(copy_of("ensemble", tmp_path))


def test_what_may_sit_unlisted_and_what_may_be_a_link(templates, tmp_path):
    folder = copy_of("ensemble", tmp_path)
    (folder / "members" / "0" / ".DS_Store").write_text("")  # a file manager's notes: nothing reads them
    (folder / "notes").mkdir()  # an empty folder holds no file
    link = tmp_path / "link-to-model"
    link.symlink_to(folder, target_is_directory=True)  # the model folder itself may be reached through a link
    assert load_model(link).predict_proba(["a wonderful film"]).shape == (1, 2)
    (folder / "notes" / "todo.txt").write_text("")
    with pytest.raises(ModelError, match=r"holds notes/todo\.txt, which its manifest\.json does not list"):
        load_model(folder)


def test_the_shipped_folder_holds_exactly_the_files_its_manifest_lists():
    folder = pretrained.ROOT / pretrained.SHIPPED
    if not (folder / MANIFEST).is_file():
        pytest.skip("no shipped model in this checkout")
    manifest = read_manifest(folder)
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert present - {MANIFEST} == set(manifest["files"])
    check_files(folder, manifest)
