"""Inference throughput, raw text in and probabilities out, against a scikit-learn peer timed in the same run.

    python bench/throughput.py [--model ngram] [--model-dir DIR] [--data PATH] [--repeats 3]

Both models score the 25,000 test reviews (they are trained on the train split first, unless
``--model-dir`` gives a saved model). The peer is ``TfidfVectorizer(ngram_range=(1, 2)) +
LogisticRegression()`` with defaults. Each is timed ``--repeats`` times and the best run is kept, so a
noisy neighbour on a shared machine hurts both less; the ratio ours/peer is the figure to read.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.training import train


def best_rate(predict, texts: list[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        predict(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ngram", help="model kind to train (ignored with --model-dir)")
    parser.add_argument("--model-dir", default=None, help="a saved model to time instead of training one")
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA, cache)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    data = load_imdb(args.data, progress=False)
    model = load_model(args.model_dir) if args.model_dir else train(args.model, data=args.data)
    train_texts = data.train["text"].tolist()
    peer = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
    peer.fit(train_texts, data.train["label"].to_numpy("int64"))
    test_texts = data.test["text"].tolist()

    ours = best_rate(model.predict_proba, test_texts, args.repeats)
    theirs = best_rate(peer.predict_proba, test_texts, args.repeats)
    print(
        json.dumps(
            {
                "bench": "throughput",
                "model": model.kind,
                "reviews": len(test_texts),
                "cores": os.cpu_count(),
                "reviews_per_s": round(ours),
                "peer": "sklearn TfidfVectorizer(1-2) + LogisticRegression (defaults)",
                "peer_reviews_per_s": round(theirs),
                "ratio": round(ours / theirs, 1),
                "target_ratio": 10,
                "goal_reviews_per_s": 50_000,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
