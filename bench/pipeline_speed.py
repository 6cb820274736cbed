"""The shipped transformer's inference speed against a plain ``transformers`` pipeline over the same weights.

    python bench/pipeline_speed.py [MODEL] [--limit 2000] [--data PATH] [--ood-dir DIR] [--out FILE]

``MODEL`` (default ``pretrained``) must keep its PyTorch weights beside the ONNX graph (the shipped model
does). Ours: ``predict_proba`` as every surface calls it (int8 ONNX Runtime, length-sorted batches padded
only to their longest text, the model's own head + tail cut). The peer: ``pipeline("text-classification")``
on the same weights in float32 PyTorch, with the settings a user would write for long reviews
(``truncation=True, max_length=<the model's>``) and otherwise its defaults (one text at a time), timed in
the same run on the same texts: SST-2 dev (872 one-sentence snippets) and ``--limit`` IMDb test reviews
(a seeded stratified sample; speed only, no accuracy is read). Agreement between the two is printed too:
int8 and the pipeline's plain head cut differ on a few texts. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.data import stratified_sample
from robustness import _DEFAULT_OOD, emit, read_jsonl


def rate(function, texts: list[str]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    out = function(texts)
    return len(texts) / (time.perf_counter() - start), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="pretrained")
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--data", default=None)
    parser.add_argument("--ood-dir", default=os.environ.get("IMDB_OOD", str(_DEFAULT_OOD)))
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoTokenizer, pipeline

    ours = load_model(args.model)
    folder = ours._source / "model"
    network = ours._torch_network("the pipeline peer")  # float32, from the kept weights
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    peer = pipeline("text-classification", model=network, tokenizer=tokenizer, device=-1, top_k=None)
    max_length = ours.resolved_config.max_length

    def peer_p_positive(texts: list[str]) -> np.ndarray:
        with torch.inference_mode():
            out = peer(texts, truncation=True, max_length=max_length)
        return np.array([next(d["score"] for d in row if d["label"] == "positive") for row in out])

    sst2, _ = read_jsonl(Path(args.ood_dir) / "sst2_dev.jsonl")
    test = stratified_sample(load_imdb(args.data, progress=False).test, args.limit, seed=0)["text"].tolist()
    result: dict = {
        "bench": "pipeline_speed",
        "model": args.model,
        "backend": ours.backend_,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    for name, texts in (("sst2_dev", sst2), (f"imdb_test_{len(test)}", test)):
        ours_rate, ours_p = rate(lambda t: ours.predict_proba(t)[:, 1], texts)
        peer_rate, peer_p = rate(peer_p_positive, texts)
        result[name] = {
            "n": len(texts),
            "ours_texts_per_s": round(ours_rate, 1),
            "pipeline_texts_per_s": round(peer_rate, 1),
            "speedup": round(ours_rate / peer_rate, 2),
            "same_label": round(float(((ours_p >= 0.5) == (peer_p >= 0.5)).mean()), 4),
        }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
