"""Aspect polarity on the three validation dev draws: a model beside a peer, both as ``summarize`` reads them.

The dev draws (``bench/aspects/dev*-ids.csv`` and ``-labels.csv``, 500 labelled validation sentences) are
what aspect choices are made on; the test sample is only scored, by ``bench/audience.py``. For each model,
every aspect the finder gives in a labelled sentence is paired with the label (precision), and each pair the
labeller called positive or negative is read as ``summarize`` reads it (the clause reader, else the rating
head's clause scorer, else the model itself) and scored (polarity).

    python bench/aspect_dev.py models/clause-candidate --peer pretrained --out bench/results/aspect-dev.json
    imdb-sentiment attach-reader pretrained --reader none --out models/shipped-no-reader
    python bench/aspect_dev.py pretrained --peer models/shipped-no-reader   # the shipped reader's gain
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.audience.polarity import mentions
from imdb_sentiment.data import SplitConfig
from robustness import emit

ASPECT_DIR = Path(__file__).resolve().parent / "aspects"
DRAWS = ("dev", "dev2", "dev3")


def dev_sample() -> pd.DataFrame:
    """The labelled dev sentences of every draw: ``draw, item, review_id, sentence, aspects``."""
    frames = []
    for draw in DRAWS:
        ids = pd.read_csv(ASPECT_DIR / f"{draw}-ids.csv")
        labels = pd.read_csv(ASPECT_DIR / f"{draw}-labels.csv", keep_default_na=False)
        frames.append(ids.merge(labels, on="item").assign(draw=draw))
    return pd.concat(frames, ignore_index=True)


def dev_reviews(validation: pd.DataFrame, sample: pd.DataFrame) -> pd.DataFrame:
    """The validation reviews the labelled sentences come from."""
    return validation[validation["id"].isin(set(sample["review_id"]))].reset_index(drop=True)


def labelled_mentions(
    found: pd.DataFrame, reviews: pd.DataFrame, sample: pd.DataFrame
) -> Iterator[tuple[Any, Any, dict[str, str]]]:
    """Each mention :func:`mentions` found (in ``reviews``) in a labelled sentence: ``(sentence row, mention
    row, the sentence's labels as aspect -> "+", "-" or "0")``."""
    ids = reviews["id"].to_numpy()[found["review"].to_numpy()]
    for row in sample.itertuples():
        gold = dict(part.split(":") for part in row.aspects.split(";") if part)
        for m in found[(ids == row.review_id) & (found["sentence"] == row.sentence)].itertuples():
            yield row, m, gold


def figures(model_ref: str, sample: pd.DataFrame, reviews: pd.DataFrame) -> dict:
    """Precision and polarity per draw and overall for the model ``model_ref``."""
    model = load_model(model_ref)
    texts = reviews["text"].tolist()
    start = time.perf_counter()
    p_review = model.predict_proba(texts)[:, 1]
    found = mentions(texts, p_review, model)
    seconds = time.perf_counter() - start
    detected, polar = [], []
    for row, m, gold in labelled_mentions(found, reviews, sample):
        detected.append((row.draw, m.aspect in gold))
        if gold.get(m.aspect) in ("+", "-"):
            polar.append((row.draw, (m.p_positive >= 0.5) == (gold[m.aspect] == "+")))

    def by_draw(rows: list[tuple[str, bool]]) -> dict:
        out = {d: {"n": sum(r[0] == d for r in rows), "share": _mean([r[1] for r in rows if r[0] == d])} for d in DRAWS}
        return {"all": {"n": len(rows), "share": _mean([r[1] for r in rows])}, **out}

    return {
        "model": model_ref,
        "clause_reader": model.clause_reader_ is not None,
        "precision": by_draw(detected),
        "polarity": by_draw(polar),
        "seconds": round(seconds, 1),
    }


def _mean(values: list[bool]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--peer", default="pretrained", help="the model measured beside it (default: the shipped one)")
    parser.add_argument("--out")
    args = parser.parse_args()
    data = load_imdb(split=SplitConfig(validation_fraction=0.1, seed=0))
    sample = dev_sample()
    reviews = dev_reviews(data.validation, sample)
    result = {
        "bench": "aspect_dev",
        "sentences": len(sample),
        "reviews": len(reviews),
        "model": figures(args.model, sample, reviews),
        "peer": figures(args.peer, sample, reviews),
    }
    ours, theirs = result["model"]["polarity"]["all"]["share"], result["peer"]["polarity"]["all"]["share"]
    result["polarity_gain"] = round(ours - theirs, 4) if ours is not None and theirs is not None else None
    emit(result, args.out)


if __name__ == "__main__":
    main()
