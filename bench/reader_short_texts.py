"""The clause reader on whole texts: the shipped model's reader beside the model itself on the ood dev sets.

The reader (``clauses/`` in the shipped model's folder) learned to read clauses and sentences; critics'
one-sentence snippets (SST-2) are the kind of text it was taught on, edited IMDb reviews are not. This
measures both on each out-of-domain development set (``../shared/data/ood/``, read-only, never trained
on), as a lead for routing short texts to the reader; nothing routes them yet.

    python bench/reader_short_texts.py --out bench/results/reader-short-texts.json
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from imdb_sentiment import load_model
from robustness import _DEFAULT_OOD, emit, read_jsonl

SETS = ("sst2_dev", "imdb_contrast_dev_original", "imdb_contrast_dev_contrast", "imdb_cad_dev_new")


def accuracy(p: np.ndarray, labels: np.ndarray) -> float:
    return round(float(((p >= 0.5) == (labels == 1)).mean()), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="pretrained")
    parser.add_argument("--ood-dir", default=os.environ.get("IMDB_OOD", str(_DEFAULT_OOD)))
    parser.add_argument("--out")
    args = parser.parse_args()
    model = load_model(args.model)
    if model.clause_reader_ is None:
        raise SystemExit(f"{args.model} has no clause reader")
    result: dict = {"bench": "reader_short_texts", "model": args.model, "sets": {}}
    for name in SETS:
        texts, labels = read_jsonl(Path(args.ood_dir) / f"{name}.jsonl")
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
    emit(result, args.out)


if __name__ == "__main__":
    main()
