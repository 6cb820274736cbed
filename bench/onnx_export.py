"""ONNX export of a trained transformer: speed-up and accuracy change against PyTorch, in one run.

    python bench/onnx_export.py models/transformer [--limit N] [--formats onnx,onnx-int8] [--keep DIR] [--data PATH]

Exports the model to ONNX (float32) and to ONNX with int8 dynamic quantisation, then scores the same test
reviews (all 25,000, or a seeded stratified ``--limit``) with PyTorch, ONNX and ONNX int8. Prints one JSON
line: accuracy and reviews/s of each, the speed-ups over PyTorch, and the accuracy change in points (the
target: int8 loses at most 0.5). ``--formats onnx-int8`` leaves out the float32 export (a full-test run
on two cores then takes two scoring passes instead of three). ``--keep DIR`` keeps the exported models as
``DIR/onnx`` and ``DIR/onnx-int8``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.data import stratified_sample
from imdb_sentiment.evaluate import compute_metrics

# Export name -> whether it is quantised to int8.
FORMATS = {"onnx": False, "onnx-int8": True}


def score(model, texts: list[str], labels) -> dict:
    start = time.perf_counter()
    proba = model.predict_proba(texts)
    metrics = compute_metrics(labels, proba, seconds=time.perf_counter() - start)
    return {k: round(metrics[k], 4) for k in ("accuracy", "log_loss", "reviews_per_s")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", help="a saved transformer model (PyTorch backend)")
    parser.add_argument("--limit", type=int, default=0, help="score a seeded stratified sample of N test reviews")
    parser.add_argument(
        "--formats", default="onnx,onnx-int8", help="comma-separated exports to measure: onnx, onnx-int8"
    )
    parser.add_argument("--keep", default=None, help="keep the exported models in this folder")
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA, cache)")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not formats or set(formats) - set(FORMATS):
        parser.error(f"--formats takes a comma-separated subset of {', '.join(FORMATS)}")

    test = load_imdb(args.data, progress=False).test
    if args.limit:
        test = stratified_sample(test, args.limit, seed=0)
    texts, labels = test["text"].tolist(), test["label"].to_numpy("int64")
    model = load_model(args.model_dir)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(args.keep or scratch)
        results = {"torch": score(model, texts, labels)}
        for name in formats:
            start = time.perf_counter()
            exported = model.export_onnx(out / name, int8=FORMATS[name])  # type: ignore[attr-defined]
            export_s = time.perf_counter() - start
            size_mb = sum(p.stat().st_size for p in exported.rglob("*") if p.is_file()) / 2**20
            results[name] = {
                **score(load_model(exported), texts, labels),
                "export_seconds": round(export_s, 1),
                "size_mb": round(size_mb, 1),
            }
    base = results["torch"]
    summary = {
        "bench": "onnx",
        "model_dir": args.model_dir,
        "n_test": len(texts),
        **results,
        **{
            f"speedup_{n.replace('-', '_')}": round(results[n]["reviews_per_s"] / base["reviews_per_s"], 2)
            for n in formats
        },
        **{
            f"accuracy_change_points_{'int8' if FORMATS[n] else 'onnx'}": round(
                100 * (results[n]["accuracy"] - base["accuracy"]), 2
            )
            for n in formats
        },
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
