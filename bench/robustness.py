"""Accuracy of saved models on IMDb and on the out-of-domain development sets, one JSON object.

    python bench/robustness.py MODEL [MODEL ...] [--split validation|test|none] [--ood-dir DIR] [--out FILE]

``MODEL`` is a saved model folder or ``pretrained`` (the model shipped inside the package). For each model:
accuracy on the IMDb split asked for (``validation``, carved from train, while choosing; ``test`` only for
final figures), on every ``*.jsonl`` set in the ood folder (``IMDB_OOD``, else ``../shared/data/ood``), and
for the contrast pairs (row i of ``*_contrast.jsonl`` edits row i of ``*_original.jsonl``) the share of
pairs where both sides are right, which a model that recalls training reviews cannot reach. Each set's
texts per second ride along (one pass, this machine). ``--out`` also writes the JSON to a file (for
``bench/results/``).

The ood "original" reviews are aclImdb *train* reviews: high accuracy on them proves nothing; read the
edited sides.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from imdb_sentiment import load_imdb, load_model

_DEFAULT_OOD = Path(__file__).resolve().parents[2] / "shared" / "data" / "ood"


def read_jsonl(path: Path) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows], np.asarray([int(r["label"]) for r in rows], dtype=np.int64)


def emit(result: dict, out: str | None) -> None:
    """Print ``result`` as one JSON line and, with ``out``, write the same line there (``bench/results/``)."""
    text = json.dumps(result)
    print(text, flush=True)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n", encoding="utf-8")


def score(model, texts: list[str], labels: np.ndarray) -> tuple[dict, np.ndarray]:
    start = time.perf_counter()
    proba = model.predict_proba(texts)
    seconds = time.perf_counter() - start
    right = proba.argmax(axis=1) == labels
    return {
        "n": len(texts),
        "accuracy": round(float(right.mean()), 4),
        "texts_per_s": round(len(texts) / seconds, 1),
    }, right


def bench_model(
    name: str,
    ood_sets: dict[str, tuple[list[str], np.ndarray]],
    imdb: tuple[list[str], np.ndarray] | None,
    imdb_split: str = "validation",
) -> dict:
    start = time.perf_counter()
    model = load_model(name)
    result: dict = {"model": name, "kind": model.kind, "load_seconds": round(time.perf_counter() - start, 2)}
    if imdb is not None:
        result["imdb"], _ = score(model, *imdb)
    rights = {}
    for set_name, (texts, labels) in ood_sets.items():
        result[set_name], rights[set_name] = score(model, texts, labels)
    pairs = {}
    for set_name, right in rights.items():
        if set_name.endswith("_contrast"):
            partner = set_name.removesuffix("_contrast") + "_original"
            if partner in rights and len(rights[partner]) == len(right):
                pairs[set_name.removesuffix("_contrast")] = round(float((right & rights[partner]).mean()), 4)
    result["both_sides_right"] = pairs
    # A model that records its own figures (the shipped one does): are they reproduced here?
    recorded = model.info_.get("metrics") or {}
    checks = {}
    if imdb is not None and imdb_split == "test" and "test" in recorded:
        checks["test"] = recorded["test"].get("accuracy") == result["imdb"]["accuracy"]
    for set_name, figures in (recorded.get("out_of_domain") or {}).items():
        if set_name in ood_sets and isinstance(figures, dict):
            checks[set_name] = figures.get("accuracy") == result[set_name]["accuracy"]
    if checks:
        result["reproduces_recorded"] = checks
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="saved model folders, or 'pretrained'")
    parser.add_argument("--split", choices=("validation", "test", "none"), default="validation")
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA, cache)")
    parser.add_argument("--ood-dir", default=os.environ.get("IMDB_OOD", str(_DEFAULT_OOD)))
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)

    ood_dir = Path(args.ood_dir)
    files = sorted(ood_dir.glob("*.jsonl"))
    if not files:
        print(f"error: no *.jsonl sets in {ood_dir}; pass --ood-dir or set IMDB_OOD", file=sys.stderr)
        return 2
    ood_sets = {f.stem: read_jsonl(f) for f in files}
    imdb = None
    if args.split != "none":
        frame = getattr(load_imdb(args.data, progress=False), args.split)
        imdb = (frame["text"].tolist(), frame["label"].to_numpy("int64"))
    result = {
        "bench": "robustness",
        "split": args.split,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "models": [bench_model(name, ood_sets, imdb, args.split) for name in args.models],
    }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
