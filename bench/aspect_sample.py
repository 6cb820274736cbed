"""Draw the sentences a person labels to measure the aspect finder. Prints one JSON object.

    python bench/aspect_sample.py [--data PATH] [--split test|validation] [--draw N] [--with-aspect K]
                                  [--without-aspect K] [--text-out FILE] [--out FILE]

From the test split, seeded (seed 0): 150 sentences drawn uniformly from those in which
``imdb_sentiment.audience.aspects.find_aspects`` found at least one aspect and 50 from those in which it
found none, shuffled together as items 1..200. Writes

- ``bench/aspects/sample-ids.csv`` (committed): item, review_id, sentence, start, end. No review text and
  no detected aspect, so the sample can be published and labelled blind;
- ``FILE`` (``--text-out``, default ``/root/work23/aspect-sample.jsonl``; refused inside the repository,
  since review text is never committed): one JSON object per line with item, review_id, sentence and the
  sentence's text, for the labeller, who must not see what the finder found.

The printed JSON holds the size of each stratum (needed to weigh recall back to the whole test split, see
``bench/aspects/README.md``), the share of test sentences with at least one aspect, and the seconds
``find_aspects`` took over the 25,000 test reviews on this machine. The sample depends on the vocabulary:
rerunning after a change to it draws another one; the committed CSV is the one that was labelled.

``--draw N`` (N > 1) draws a further sample with seed N - 1 into ``sample<N>-ids.csv`` (``dev<N>-ids.csv``
for validation), leaving out every sentence an earlier draw of the split holds: a larger dev set without
relabelling the first (``--with-aspect 100 --without-aspect 0`` for a draw that measures polarity).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from imdb_sentiment import load_imdb
from imdb_sentiment.audience.aspects import find_aspects, split_sentences
from robustness import emit

ROOT = Path(__file__).resolve().parents[1]
IDS = ROOT / "bench" / "aspects" / "sample-ids.csv"
SEED, WITH_ASPECT, WITHOUT_ASPECT = 0, 150, 50


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="dataset archive or folder (default: IMDB_DATA)")
    parser.add_argument(
        "--split",
        default="test",
        choices=("test", "validation"),
        help="test: the evaluation set; validation: a dev set",
    )
    parser.add_argument("--draw", type=int, default=1, help="1: the first sample; N > 1: a further one")
    parser.add_argument("--with-aspect", type=int, default=WITH_ASPECT, help="sentences drawn with an aspect")
    parser.add_argument("--without-aspect", type=int, default=WITHOUT_ASPECT, help="sentences drawn without")
    parser.add_argument("--text-out", default=None, help="the labeller's file (outside the repository)")
    parser.add_argument("--out", default=None, help="also write the JSON here (bench/results/)")
    args = parser.parse_args(argv)
    dev = args.split == "validation"
    if args.draw < 1 or args.with_aspect < 0 or args.without_aspect < 0:
        parser.error("--draw must be >= 1 and the counts >= 0")
    prefix = "dev" if dev else "sample"
    name = prefix if args.draw == 1 else f"{prefix}{args.draw}"
    ids_file = IDS.with_name(f"{name}-ids.csv")
    earlier = [IDS.with_name(f"{prefix if d == 1 else f'{prefix}{d}'}-ids.csv") for d in range(1, args.draw)]
    text_out = Path(args.text_out or f"/root/work23/aspect-{name}.jsonl").resolve()
    if text_out.is_relative_to(ROOT):
        parser.error(f"--text-out {text_out} is inside the repository; review text is never committed")

    dataset = load_imdb(args.data, progress=False)
    test = dataset.validation if dev else dataset.test
    texts, ids = test["text"].tolist(), test["id"].tolist()
    start = time.perf_counter()
    table = find_aspects(texts)
    seconds = time.perf_counter() - start
    found = set(zip(table["review"].tolist(), table["sentence"].tolist(), strict=True))
    taken = {(row["review_id"], int(row["sentence"])) for f in earlier for row in csv.DictReader(f.open())}
    strata: dict[bool, list[tuple[int, int, int, int]]] = {True: [], False: []}
    for review, text in enumerate(texts):
        for sentence, (begin, end) in enumerate(split_sentences(text)):
            if (ids[review], sentence) not in taken:
                strata[(review, sentence) in found].append((review, sentence, begin, end))

    seed = SEED + args.draw - 1
    rng = np.random.default_rng(seed)
    picked = [strata[True][i] for i in rng.choice(len(strata[True]), args.with_aspect, replace=False)]
    picked += [strata[False][i] for i in rng.choice(len(strata[False]), args.without_aspect, replace=False)]
    items = [picked[i] for i in rng.permutation(len(picked))]

    ids_file.parent.mkdir(parents=True, exist_ok=True)
    with ids_file.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["item", "review_id", "sentence", "start", "end"])
        for item, (review, sentence, begin, end) in enumerate(items, start=1):
            writer.writerow([item, ids[review], sentence, begin, end])
    text_out.parent.mkdir(parents=True, exist_ok=True)
    with text_out.open("w", encoding="utf-8") as file:
        for item, (review, sentence, begin, end) in enumerate(items, start=1):
            row = {"item": item, "review_id": ids[review], "sentence": sentence, "text": texts[review][begin:end]}
            file.write(json.dumps(row, ensure_ascii=False) + "\n")

    sentences = len(strata[True]) + len(strata[False])
    result = {
        "bench": "aspect_sample",
        "split": args.split,
        "draw": args.draw,
        "seed": seed,
        "left_out_earlier_draws": len(taken),
        "reviews": len(texts),
        "sentences": sentences,
        "sentences_with_aspect": len(strata[True]),
        "sentences_without_aspect": len(strata[False]),
        "share_with_aspect": round(len(strata[True]) / sentences, 4),
        "sampled_with_aspect": args.with_aspect,
        "sampled_without_aspect": args.without_aspect,
        "find_aspects_s": round(seconds, 2),
        "ids": str(ids_file.relative_to(ROOT)),
        "text_out": str(text_out),
    }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
