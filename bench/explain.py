"""Faithfulness of each model's explanations (ERASER comprehensiveness and sufficiency), and their cost.

    python bench/explain.py models/ngram models/bow-mlp [models/transformer ...] [--n 500] [--data PATH]

For each saved model: explains a seeded stratified sample of ``--n`` test reviews (the same reviews for
every model), then measures comprehensiveness and sufficiency at k = 5, 10 and 20% of each review's words
against the same number of random words (see :mod:`imdb_sentiment.explain.faithfulness`), and the seconds per
explanation. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.data import stratified_sample
from imdb_sentiment.explain.faithfulness import explain_many, faithfulness


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dirs", nargs="+", help="saved model folders")
    parser.add_argument("--n", type=int, default=500, help="test reviews explained per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA, cache)")
    args = parser.parse_args(argv)

    sample = stratified_sample(load_imdb(args.data, progress=False).test, args.n, seed=args.seed)
    texts = sample["text"].tolist()
    results = {}
    for folder in args.model_dirs:
        model = load_model(folder)
        # No attention weights: they are not scored here (kinds without attention ignore the option).
        explanations, seconds = explain_many(model, texts, progress=True, attention=False)
        results[folder] = {
            "kind": model.kind,
            "method": explanations[0].method,
            "seconds_per_explanation": round(seconds, 4),
            **faithfulness(model, explanations, seed=args.seed).to_dict(),
        }
    print(json.dumps({"bench": "explain", "n": len(texts), "models": results}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
