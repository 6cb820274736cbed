"""Pack what ``device/clause_reader_train.py`` needs into three folders of under 64 MiB, one per device call.

A device call carries at most 64 MiB, so the inputs travel in three calls to a machine kept warm between
them (each call copies its folder into one place there, ``/root/keep``; the last one runs the training):

- ``c1``: all-mpnet-base-v2's embeddings and layers 0-3, int8 per output row (a 3% relative error at most,
  which fine-tuning absorbs), the validation reviews, and the aspect clauses of the training and unlabelled
  reviews (as ``summarize`` cuts them);
- ``c2``: layers 4-11, the teacher's tokenizer and config, and the dev pairs (each labelled aspect clause of
  the validation dev draws with its label, so that the run reports every model's dev polarity);
- ``c3``: the training script, the shipped network's float16 weights (the students start from them), its
  tokenizer, the 22,500 training reviews and 40,000 unlabelled ones.

Review text only travels to the device machine; nothing here is committed.

    python device/clause_reader_pack.py --out .device/clause-reader
"""

from __future__ import annotations

import argparse
import json
import lzma
import re
import shutil
import sys
from pathlib import Path

import numpy as np

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.audience.aspects import find_aspects
from imdb_sentiment.audience.polarity import _sentences_and_clauses, mentions
from imdb_sentiment.data import SplitConfig
from imdb_sentiment.models.transformer.bases import MPNET, resolve_base_model
from imdb_sentiment.pretrained import shipped_path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench"))
from aspect_dev import dev_reviews, dev_sample, labelled_mentions  # noqa: E402

UNLABELLED = 40_000


def write_reviews(frame, path: Path, columns: list[str]) -> None:
    # JSON lines under xz rather than `imdb-sentiment data --export`'s Parquet: 8 MB against 11 for the
    # training reviews, and the third folder needs every MiB of its 64.
    with lzma.open(path, "wt", preset=9) as out:
        for row in frame[columns].itertuples(index=False):
            out.write(json.dumps(dict(zip(columns, row, strict=True)), default=int) + "\n")


def write_clauses(texts: list[str], path: Path) -> None:
    _, clauses = _sentences_and_clauses(texts, find_aspects(texts))
    with lzma.open(path, "wt", preset=9) as out:
        out.write("\n".join(" ".join(c.split()) for c in dict.fromkeys(clauses)) + "\n")


def quantize_mpnet(c1: Path, c2: Path) -> None:
    """The teacher's weights, int8 per output row (with float16 scales), split at layer 4."""
    import torch
    from safetensors.torch import load_file, save_file

    source = Path(resolve_base_model(MPNET))
    parts: tuple[dict, dict] = ({}, {})
    for name, value in load_file(str(source / "model.safetensors")).items():
        if "position_ids" in name:
            continue
        layer = re.match(r"encoder\.layer\.(\d+)\.", name)
        part = parts[1 if layer and int(layer.group(1)) >= 4 else 0]
        if value.dim() == 2 and value.shape[1] >= 64:
            scale = value.abs().amax(1).clamp_min(1e-8) / 127
            part[name + ".q"] = torch.round(value / scale[:, None]).clamp(-127, 127).to(torch.int8)
            part[name + ".s"] = scale.half()
        else:
            part[name] = value.half()
    save_file(parts[0], str(c1 / "mpnet-a.safetensors"))
    save_file(parts[1], str(c2 / "mpnet-b.safetensors"))
    shutil.copy(source / "tokenizer.json", c2 / "mpnet-tokenizer.json")
    shutil.copy(source / "config.json", c2 / "mpnet-config.json")


def dev_pairs(validation, path: Path) -> None:
    """Each polar labelled aspect of the dev draws with the clause ``summarize`` reads for it."""
    sample = dev_sample()
    reviews = dev_reviews(validation, sample)
    texts = reviews["text"].tolist()
    # The clauses do not depend on the review's P(positive); only their reading would.
    found = mentions(texts, np.full(len(texts), 0.5), load_model("pretrained"))
    with path.open("w", encoding="utf-8") as out:
        for row, m, gold in labelled_mentions(found, reviews, sample):
            if gold.get(m.aspect) in ("+", "-"):
                pair = {"draw": row.draw, "item": row.item, "aspect": m.aspect, "gold": int(gold[m.aspect] == "+")}
                out.write(json.dumps({**pair, "clause": m.clause, "sentence": m.text}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(".device/clause-reader"))
    args = parser.parse_args()
    c1, c2, c3 = (args.out / name for name in ("c1", "c2", "c3"))
    for folder in (c1, c2, c3):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    data = load_imdb(split=SplitConfig(validation_fraction=0.1, seed=0), include_unsup=True)
    unlabelled = data.unsup.iloc[:UNLABELLED]
    write_reviews(data.validation, c1 / "validation.jsonl.xz", ["id", "text", "label"])
    write_clauses(data.train["text"].tolist(), c1 / "aspclauses-train.txt.xz")
    write_clauses(data.unsup["text"].tolist(), c1 / "aspclauses-unsup.txt.xz")
    quantize_mpnet(c1, c2)
    dev_pairs(data.validation, c2 / "devpairs.jsonl")
    shutil.copy(HERE / "clause_reader_train.py", c3 / "gpu_train.py")
    shipped = shipped_path() / "model"
    shutil.copy(shipped / "tokenizer.json", c3 / "bert-tokenizer.json")
    shutil.copy(shipped / "config.json", c3 / "bert-config.json")
    shutil.copy(shipped / "model.safetensors", c3 / "student4.safetensors")
    write_reviews(data.train, c3 / "train.jsonl.xz", ["id", "text", "label"])
    write_reviews(unlabelled, c3 / "unsup.jsonl.xz", ["id", "text"])
    for folder in (c1, c2, c3):
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"{folder}: {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
