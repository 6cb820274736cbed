"""Train a model kind on the full IMDb train split, evaluate on the 25,000 test reviews, print one JSON line.

    python bench/accuracy.py --model bow-mlp [--data PATH] [--set key=value ...] [--no-peer]
    python bench/accuracy.py --model-dir models/transformer [--no-peer]

With ``--model-dir`` a model trained earlier (``imdb-sentiment train``, e.g. a transformer that trains for
an hour) is scored instead of training one here; its training time comes from its manifest. For an
ensemble, each member's test figures come from the same scoring pass and are printed beside the ensemble's.

Printed: test accuracy, log loss, F1, ROC-AUC, training seconds, inference reviews/s (raw text in,
probabilities out), peak RSS, and the same figures for a peer measured in the same run -- scikit-learn's
``TfidfVectorizer(ngram_range=(1, 2)) + LogisticRegression`` with defaults -- with our/peer ratios, so that
speed comparisons survive a noisy shared machine. Validation (for early stopping) is carved from train;
the test split is only ever scored, once, here.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

from imdb_sentiment import get_model_class, load_imdb, load_model
from imdb_sentiment.evaluate import compute_metrics
from imdb_sentiment.peer import fit_peer
from imdb_sentiment.training import train


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _peer(train_texts: list[str], train_labels, test_texts: list[str], test_labels) -> dict:
    pipeline, train_s = fit_peer(train_texts, train_labels)
    start = time.perf_counter()
    proba = pipeline.predict_proba(test_texts)
    metrics = compute_metrics(test_labels, proba, seconds=time.perf_counter() - start)
    return {
        "name": "sklearn TfidfVectorizer(1-2) + LogisticRegression (defaults)",
        "accuracy": round(metrics["accuracy"], 4),
        "log_loss": round(metrics["log_loss"], 4),
        "train_seconds": round(train_s, 1),
        "reviews_per_s": round(metrics["reviews_per_s"], 1),
    }


def _proba(logit) -> np.ndarray:
    positive = 1.0 / (1.0 + np.exp(-np.asarray(logit, dtype=np.float64)))
    return np.column_stack((1.0 - positive, positive))


def _summary(metrics: dict) -> dict:
    return {k: round(metrics[k], 4) for k in ("accuracy", "log_loss", "f1", "roc_auc")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ngram", help="model kind")
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA, cache)")
    parser.add_argument("--model-dir", default=None, help="score this saved model instead of training one")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config key=value")
    parser.add_argument("--no-peer", action="store_true", help="skip the scikit-learn peer")
    args = parser.parse_args(argv)

    data = load_imdb(args.data, progress=False)
    if args.model_dir:
        model = load_model(args.model_dir)
        config = model.resolved_config
        train_s = (model.info_.get("training") or {}).get("seconds")
    else:
        config = get_model_class(args.model).config_class().with_overrides(args.overrides)
        start = time.perf_counter()
        model = train(args.model, config=config, data=args.data)
        train_s = time.perf_counter() - start

    test_texts = data.test["text"].tolist()
    test_labels = data.test["label"].to_numpy("int64")
    start = time.perf_counter()
    members = None
    if hasattr(model, "members_logits"):
        # An ensemble: one scoring pass gives every member's test figures and the ensemble's.
        logits = model.members_logits(test_texts)
        proba = _proba(model.combine(logits))
        members = [
            {"kind": m.kind, "weight": round(float(w), 4), **_summary(compute_metrics(test_labels, _proba(column)))}
            for m, w, column in zip(model.members_, model.weights_, logits.T, strict=True)
        ]
    else:
        proba = model.predict_proba(test_texts)
    metrics = compute_metrics(test_labels, proba, seconds=time.perf_counter() - start)
    result = {
        "bench": "accuracy",
        "model": model.kind,
        "model_dir": args.model_dir,
        "backend": model._manifest_extra().get("backend"),
        "config": config.to_dict(),
        "n_test": metrics["n"],
        "accuracy": round(metrics["accuracy"], 4),
        "log_loss": round(metrics["log_loss"], 4),
        "f1": round(metrics["f1"], 4),
        "roc_auc": round(metrics["roc_auc"], 4),
        "validation_accuracy": round(model.info_["metrics"]["validation"]["accuracy"], 4),
        "epochs_run": len(model.history_.get("loss", [])) or None,
        "train_seconds": round(train_s, 1) if train_s is not None else None,
        "reviews_per_s": round(metrics["reviews_per_s"], 1),
        "peak_rss_mb": round(_peak_rss_mb()),
    }
    if members is not None:
        result["members"] = members
        result["accuracy_minus_best_member"] = round(result["accuracy"] - max(m["accuracy"] for m in members), 4)
    if not args.no_peer:
        train_frame = data.train  # the peer trains on the same reviews our model trained on
        peer = _peer(train_frame["text"].tolist(), train_frame["label"].to_numpy("int64"), test_texts, test_labels)
        result["peer"] = peer
        result["accuracy_minus_peer"] = round(result["accuracy"] - peer["accuracy"], 4)
        result["throughput_ratio_vs_peer"] = round(result["reviews_per_s"] / peer["reviews_per_s"], 2)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
