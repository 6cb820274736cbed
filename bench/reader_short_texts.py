"""The clause reader on whole texts: the shipped model's reader beside the model itself on the ood dev sets.

The reader (``clauses/`` in the shipped model's folder) learned to read clauses and sentences; critics'
one-sentence snippets (SST-2) are the kind of text it was taught on, edited IMDb reviews are not. This
measures both on each out-of-domain development set (``../shared/data/ood/``, read-only, never trained
on), as a lead for routing short texts to the reader; nothing routes them yet.

    python bench/reader_short_texts.py --out bench/results/reader-short-texts.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from imdb_sentiment import load_model

OOD = Path(os.environ.get("IMDB_OOD", Path(__file__).resolve().parents[2] / "shared" / "data" / "ood"))
SETS = ("sst2_dev", "imdb_contrast_dev_original", "imdb_contrast_dev_contrast", "imdb_cad_dev_new")


def accuracy(p: np.ndarray, labels: np.ndarray) -> float:
    return round(float(((p >= 0.5) == (labels == 1)).mean()), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="pretrained")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    model = load_model(args.model)
    if model.clause_reader_ is None:
        raise SystemExit(f"{args.model} has no clause reader")
    result: dict = {"bench": "reader_short_texts", "model": args.model, "sets": {}}
    for name in SETS:
        rows = [json.loads(line) for line in (OOD / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
        texts = [row["text"] for row in rows]
        labels = np.array([row["label"] for row in rows])
        p_model = model.predict_proba(texts)[:, 1]
        p_reader = model.clause_reader_.predict_proba(texts)[:, 1]
        words = np.array([len(t.split()) for t in texts])
        result["sets"][name] = {
            "n": len(texts),
            "median_words": int(np.median(words)),
            "model": accuracy(p_model, labels),
            "reader": accuracy(p_reader, labels),
            "average": accuracy((p_model + p_reader) / 2, labels),
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
