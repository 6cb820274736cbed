"""Make the clause reader from a GPU run's student and attach it to a copy of the shipped model.

``device/clause_reader_train.py`` (run on a lent GPU machine) brings back ``studentN.safetensors``: the
shipped network cut to N layers and distilled, on ~825,000 clauses of training and unlabelled reviews, from
an all-mpnet-base-v2 teacher fine-tuned on the 22,500 training reviews. It holds everything but the word
embeddings, which stayed frozen at the shipped model's. This script puts the two together as a
``transformer`` model (clauses cut at 128 word pieces), exports it as int8 ONNX, and saves the shipped model
with it as its clause reader into ``--out``; ``bench/aspect_dev.py`` then says whether it reads the dev
clauses better than the shipped model, and ``--promote`` replaces the shipped folder only if it does.

    python device/clause_reader_build.py PARTS/student2.safetensors --layers 2 --out models/clause-candidate --promote
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from imdb_sentiment import load_model
from imdb_sentiment._atomic import atomic_dir
from imdb_sentiment.models.transformer import TransformerClassifier
from imdb_sentiment.models.transformer.config import TransformerConfig
from imdb_sentiment.pretrained import shipped_path

ROOT = Path(__file__).resolve().parents[1]


def build_reader(student: Path, layers: int, target: Path) -> Path:
    """The student's weights and the shipped word embeddings as an int8 ONNX ``transformer`` model."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForSequenceClassification

    shipped = shipped_path() / "model"
    base = load_file(str(shipped / "model.safetensors"))
    config = json.loads((shipped / "config.json").read_text(encoding="utf-8"))
    network = BertForSequenceClassification(BertConfig.from_dict({**config, "num_hidden_layers": layers}))
    weights = {k: v.float() for k, v in load_file(str(student)).items()}
    weights["bert.embeddings.word_embeddings.weight"] = base["bert.embeddings.word_embeddings.weight"].float()
    missing, unexpected = network.load_state_dict(weights, strict=False)
    if unexpected or any("position_ids" not in name for name in missing):
        sys.exit(f"{student} does not fit a {layers}-layer student: missing {missing}, unexpected {unexpected}")
    reader = TransformerClassifier(
        config=TransformerConfig(
            max_length=128, truncation="head", inference_truncation="head", inference_batch_size=64
        )
    )
    reader._setup(shipped)
    reader.network_, reader.backend_ = network.eval(), "torch"
    reader.classes_, reader.history_ = np.array([0, 1]), {}
    reader.info_ = {"metrics": {}, "build": build_record(student, layers)}
    return reader.export_onnx(target, int8=True)


def build_record(student: Path, layers: int) -> dict:
    """How the reader was made, for its manifest: the recipe and, from the run's ``result.json`` beside the
    student, the teacher's figures and the student's dev-pair accuracy after each epoch."""
    run = student.parent / "result.json"
    result = json.loads(run.read_text(encoding="utf-8")) if run.is_file() else {}
    name = student.stem
    return {
        "commands": [
            "make clause-reader-pack",
            "device: python3 gpu_train.py /root/keep /root/keep $OUT (device/clause_reader_train.py)",
            f"python device/clause_reader_build.py PARTS/{student.name} --layers {layers} "
            "--out models/clause-candidate --promote",
        ],
        "teacher": {
            "base_model": "all-mpnet-base-v2",
            "trained_on": "the 22,500 training reviews (validation held out), 2 epochs, head 128 + tail 382 pieces",
            "epochs": result.get("teacher"),
        },
        "student": {
            "layers": layers,
            "from": "the shipped network's layers, word embeddings frozen",
            "clauses": result.get("clauses"),
            "dev_pairs_by_epoch": result.get(name),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("student", type=Path)
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--promote", action="store_true", help="replace the shipped model if the dev bench says better")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reader = load_model(build_reader(args.student, args.layers, Path(tmp) / "reader"))
        model = load_model("pretrained")
        model.clause_reader_ = reader
        model.save(args.out)
    print(f"saved {args.out} (the shipped model with its new clause reader)")
    if not args.promote:
        return
    result = ROOT / "bench" / "results" / "aspect-dev.json"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "aspect_dev.py"), str(args.out), "--out", str(result)], check=True
    )
    gain = json.loads(result.read_text(encoding="utf-8"))["polarity_gain"]
    if gain is None or gain <= 0:
        print(f"not promoted: dev polarity gain {gain} against the shipped model")
        return
    target = shipped_path()
    with atomic_dir(target) as tmp:
        shutil.copytree(args.out, tmp, dirs_exist_ok=True)
    print(f"promoted: dev polarity {gain:+.4f} against the shipped model; {target} replaced")


if __name__ == "__main__":
    main()
