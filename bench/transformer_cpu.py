"""How the transformer kind runs fastest on this machine's CPU cores: three choices, each against its peer, in one run.

    python bench/transformer_cpu.py [MODEL] [--limit N] [--data PATH] [--out FILE]

MODEL (default: the shipped model) must keep its PyTorch weights. On a seeded stratified sample of
``--limit`` validation reviews (carved from train):

1. **graph**: the int8 ONNX graph traced from eager attention (what ``export`` writes) against one traced
   from PyTorch's fused attention kernel; each scored twice (in turns), the faster pass counts.
2. **workers**: ``score`` one chunk at a time on every core (the kind's default) against one chunk per
   core on one-thread sessions (the default of the other kinds), with chunks the workers share evenly
   and with the whole sample in one chunk.
3. **batch**: ``score`` with ``inference_batch_size`` 16 (the shipped model's) against 64 (the default).

Prints one JSON object (also written to ``--out``): reviews/s, accuracy and log loss of each, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.batch import score
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.data import stratified_sample
from imdb_sentiment.evaluate import compute_metrics
from imdb_sentiment.models.manifest import MANIFEST, file_hashes
from imdb_sentiment.models.transformer import onnx, windows
from imdb_sentiment.pretrained import resolve
from robustness import emit


def measure(model, texts: list[str], labels) -> dict:
    start = time.perf_counter()
    proba = model.predict_proba(texts)
    metrics = compute_metrics(labels, proba, seconds=time.perf_counter() - start)
    return {k: round(metrics[k], 4) for k in ("accuracy", "log_loss", "reviews_per_s")}


def fused_copy(model, eager_dir: Path, target: Path) -> Path:
    """The exported folder ``eager_dir`` with its graph traced from the fused attention kernel instead."""
    graph = target.parent / "fused-graph"
    graph.mkdir()
    rows, _ = windows.text_rows(["A short review to trace the graph with."], model.tokenizer_, model.resolved_config)
    network = model._torch_network("this bench")  # the kept weights, as export_onnx uses them
    onnx.write_onnx(
        network, windows.pad(rows, model.tokenizer_.pad_id), model.tokenizer_, graph, int8=True, fused_attention=True
    )
    shutil.copytree(eager_dir, target)
    shutil.copy2(graph / onnx.ONNX_FILE, target / onnx.ONNX_FILE)
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    (target / MANIFEST).unlink()
    manifest["files"] = file_hashes(target)
    (target / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return target


def timed_score(model, source: Path, out: Path, workers: int, chunk: int, labels) -> dict:
    summary = score(model, source, out, ScoreConfig(batch_size=chunk, workers=workers), progress=False)
    p = pd.read_parquet(out)["p_positive"].to_numpy()
    return {
        "workers": summary.workers,
        "seconds": round(summary.seconds, 1),
        "reviews_per_s": round(summary.rows_per_s, 1),
        "accuracy": round(float(((p >= 0.5) == labels).mean()), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="pretrained", help="a transformer folder with kept weights")
    parser.add_argument("--limit", type=int, default=1500, help="validation reviews to score")
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    validation = stratified_sample(load_imdb(args.data, progress=False).validation, args.limit, seed=0)
    texts, labels = validation["text"].tolist(), validation["label"].to_numpy("int64")
    source = resolve(None if args.model == "pretrained" else args.model)
    model = load_model(source)
    cores = os.cpu_count() or 1
    result: dict = {"bench": "transformer_cpu", "model": args.model, "reviews": len(texts), "cores": cores}
    result["cpu"] = platform.processor() or platform.machine()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        eager = load_model(model.export_onnx(tmp / "eager", int8=True))
        fused = load_model(fused_copy(model, tmp / "eager", tmp / "fused"))
        passes: dict[str, list[dict]] = {"eager": [], "fused": []}
        for _ in range(2):
            for name, candidate in (("eager", eager), ("fused", fused)):
                passes[name].append(measure(candidate, texts, labels))
        best = {name: max(runs, key=lambda r: r["reviews_per_s"]) for name, runs in passes.items()}
        result["graph"] = {
            **best,
            "speed_ratio_eager_vs_fused": round(best["eager"]["reviews_per_s"] / best["fused"]["reviews_per_s"], 3),
        }

        frame = tmp / "reviews.parquet"
        pd.DataFrame({"id": validation["id"], "text": texts}).to_parquet(frame, index=False)
        config = eager.resolved_config
        eager.set_params(config=config.replace(inference_batch_size=64))
        # Chunks of 250: as many as the workers can share evenly; one chunk: any input smaller than
        # score's default batch of 8,192 rows, where one-thread sessions leave cores idle.
        workers = {}
        for case, chunk in (("even_chunks", 250), ("one_chunk", len(texts))):
            one = timed_score(eager, frame, tmp / "one.parquet", 0, chunk, labels)
            per_core = timed_score(eager, frame, tmp / "per-core.parquet", cores, chunk, labels)
            workers[case] = {
                "one_chunk_at_a_time_on_every_core": one,
                "one_chunk_per_core": per_core,
                "speed_ratio": round(one["reviews_per_s"] / per_core["reviews_per_s"], 3),
            }
        result["workers"] = workers
        large = timed_score(eager, frame, tmp / "large.parquet", 0, 250, labels)
        eager.set_params(config=config.replace(inference_batch_size=16))
        small = timed_score(eager, frame, tmp / "small.parquet", 0, 250, labels)
        result["batch"] = {
            "inference_batch_size_16": small,
            "inference_batch_size_64": large,
            "speed_ratio": round(small["reviews_per_s"] / large["reviews_per_s"], 3),
        }
        moved = (
            pd.read_parquet(tmp / "small.parquet")["p_positive"] - pd.read_parquet(tmp / "large.parquet")["p_positive"]
        )
        # int8 dynamic quantisation scales activations per batch: other batches, other roundings.
        result["batch"]["largest_p_change"] = round(float(moved.abs().max()), 4)
    result["command"] = "python bench/transformer_cpu.py" + (f" {args.model}" if args.model != "pretrained" else "")
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
