"""Audience figures on IMDb's test split against a peer measured in the same run; prints one JSON object.

    python bench/audience.py [MODEL] [--data PATH] [--limit N] [--out FILE]

``--limit`` summarises whole films drawn at random up to about N reviews (a quick check, not the figures).

Runs ``imdb-sentiment summarize --split test`` (the library call, timed, progress bar on stderr) with the
model (default: the shipped one, which carries the rating head), then measures:

- **ratings**, per review: MAE, RMSE, exact and within-one-star accuracy of the predicted stars, the
  polarity they imply (>= 5.5) and the classifier's own accuracy; against the peer of issue 23:
  scikit-learn ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)`` + ``Ridge(alpha=1)``
  fitted on the 25,000 training reviews' stars (train + validation: the peer has nothing to tune);
- **films** with >= 10 test reviews: Spearman and Pearson between predicted and true mean rating, MAE of
  the mean rating and of the share positive, for what ``summarize`` wrote (its default estimator, chosen
  on validation films by bench/group_choice.py), each other choice on the same reviews (the share from
  the classifier's P(positive); another ``adjust``) and the peer (mean predicted rating; share of
  predicted ratings >= 5.5); for what ``summarize`` wrote, also how often its 95% intervals hold the true
  share and mean rating, and how wide they are (``intervals``), and 95% intervals of its Spearman and
  share MAE over the films resampled (``over_films``: how much of a margin the targets are met by), and
  how many films have an aspect called praised, criticised, both (``verdicts``);
- **aspects**, on the 200 blind-labelled sentences of ``bench/aspects/``: precision of the detected
  (sentence, aspect) pairs, recall (weighted by the sampling strata), and polarity accuracy on the
  detected pairs the labeller gave a positive or negative polarity, beside the review's own label as a
  polarity baseline; precision and polarity with their 95% (Wilson) intervals, since the pairs are few;
- **time**: the whole ``summarize`` run (scoring, aspects, groups, report) in seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy.stats import pearsonr, spearmanr

from group_choice import coverage
from imdb_sentiment import load_imdb
from imdb_sentiment.audience.groups import ADJUSTMENTS, summarize_groups
from imdb_sentiment.audience.summarize import GROUPS, REVIEWS, SHARE_SOURCES, SummarizeConfig, group_inputs, summarize
from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.models.rating import STARS, median_stars
from imdb_sentiment.pretrained import resolve
from imdb_sentiment.training import rating_metrics
from robustness import emit

ASPECT_DIR = Path(__file__).resolve().parent / "aspects"
MIN_REVIEWS = 10


def film_figures(films: pd.DataFrame, rating: str, share: str) -> dict:
    big = films[films["n"] >= MIN_REVIEWS]
    return {
        "films": len(big),
        "spearman_mean_rating": float(spearmanr(big[rating], big["true_mean_rating"]).statistic),
        "pearson_mean_rating": float(pearsonr(big[rating], big["true_mean_rating"]).statistic),
        "mae_mean_rating": float((big[rating] - big["true_mean_rating"]).abs().mean()),
        "spearman_share_positive": float(spearmanr(big[share], big["true_share_positive"]).statistic),
        "mae_share_positive": float((big[share] - big["true_share_positive"]).abs().mean()),
    }


def film_spread(films: pd.DataFrame, rating: str, share: str, n_boot: int = 1000, seed: int = 0) -> dict:
    """95% percentile intervals of the two film targets over films resampled with replacement: how far
    another draw of films of this kind could move them (the targets are met by a margin, or not)."""
    big = films[films["n"] >= MIN_REVIEWS].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    rho, mae = [], []
    for _ in range(n_boot):
        draw = big.iloc[rng.integers(0, len(big), len(big))]
        rho.append(spearmanr(draw[rating], draw["true_mean_rating"]).statistic)
        mae.append((draw[share] - draw["true_share_positive"]).abs().mean())
    return {
        "resamples": n_boot,
        "spearman_mean_rating": [round(float(q), 4) for q in np.percentile(rho, [2.5, 97.5])],
        "mae_share_positive": [round(float(q), 4) for q in np.percentile(mae, [2.5, 97.5])],
    }


def verdict_counts(films: pd.DataFrame) -> dict:
    """How many of the films with enough reviews have an aspect called praised, and criticised."""
    big = films[films["n"] >= MIN_REVIEWS]
    named = {side: big[side].fillna("").astype(str).ne("") for side in ("praised", "criticised")}
    return {f"films_{side}": round(float(has.mean()), 4) for side, has in named.items()} | {
        "films_both": round(float((named["praised"] & named["criticised"]).mean()), 4)
    }


def peer(train: pd.DataFrame, test: pd.DataFrame) -> tuple[dict, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    model = Ridge(alpha=1.0).fit(vectorizer.fit_transform(train["text"]), train["rating"])
    seconds = time.perf_counter() - start
    predicted = np.clip(model.predict(vectorizer.transform(test["text"])), 1, 10)
    return {"train_seconds": round(seconds, 1), **rating_metrics(test["rating"].to_numpy(), predicted)}, predicted


def aspect_figures(reviews: pd.DataFrame, model_dir: Path) -> dict:
    ids = pd.read_csv(ASPECT_DIR / "sample-ids.csv")
    labels = pd.read_csv(ASPECT_DIR / "labels.csv", keep_default_na=False)
    sample = ids.merge(labels, on="item")
    by_id = reviews.set_index("id")
    gold: dict[int, dict[str, str]] = {}
    found: dict[int, dict[str, float]] = {}
    clauses: dict[tuple[int, str], str] = {}
    review_label: dict[int, int] = {}
    sample = sample[sample["review_id"].isin(reviews["id"])]
    for row in sample.itertuples():
        gold[row.item] = dict(part.split(":") for part in row.aspects.split(";") if part)
        mentions = by_id.loc[row.review_id, "aspects"]
        mine = [m for m in (mentions if mentions is not None else []) if m["sentence"] == row.sentence]
        found[row.item] = {m["aspect"]: m["p_positive"] for m in mine}
        clauses |= {(row.item, m["aspect"]): m["clause"] for m in mine}
        review_label[row.item] = int(by_id.loc[row.review_id, "p_positive"] >= 0.5)
    pairs = [(i, a) for i in found for a in found[i]]
    hits = [(i, a) for i, a in pairs if a in gold[i]]
    polar = [(i, a) for i, a in hits if gold[i][a] in "+-"]
    ours = [(found[i][a] >= 0.5) == (gold[i][a] == "+") for i, a in polar]
    baseline = [(review_label[i] == 1) == (gold[i][a] == "+") for i, a in polar]
    # The alternative the clause scorer was distilled from: the network itself run on each clause.
    from imdb_sentiment import load_model

    network = load_model(model_dir).predict_proba([clauses[pair] for pair in polar])[:, 1] if polar else []
    direct = [(q >= 0.5) == (gold[i][a] == "+") for (i, a), q in zip(polar, network, strict=True)]
    # Recall: the labeller's pairs the finder also found, each stratum weighted by its size in the test split.
    # The strata are those of the draw (bench/aspect_sample.py, with the vocabulary of that day), kept in
    # sample-strata.csv: test sentences with an aspect then, and without.
    strata = {"found": (91_864, 150), "none": (216_928, 50)}
    drawn = pd.read_csv(ASPECT_DIR / "sample-strata.csv").set_index("item")["stratum"]
    stratum = {i: drawn[i] for i in found}
    weighted_gold = weighted_hit = 0.0
    for i, aspects in gold.items():
        weight = strata[stratum[i]][0] / strata[stratum[i]][1]
        weighted_gold += weight * len(aspects)
        weighted_hit += weight * sum(a in found[i] for a in aspects)
    per_aspect = {}
    for aspect in sorted({a for _, a in pairs}):
        mine = [(i, a) for i, a in pairs if a == aspect]
        per_aspect[aspect] = {"detected": len(mine), "correct": sum(a in gold[i] for i, a in mine)}
    from imdb_sentiment.audience.aspect_stats import wilson_interval

    def interval(right: int, total: int) -> list[float] | None:
        # Few labelled pairs: a 95% interval says how far the figure could be from the same finder's on
        # another draw of the same size.
        return [round(float(v), 3) for v in wilson_interval(right, total)] if total else None

    return {
        "sentences": len(sample),
        "detected_pairs": len(pairs),
        "precision": len(hits) / len(pairs) if pairs else None,
        "precision_interval": interval(len(hits), len(pairs)),
        "polarity_interval": interval(int(np.sum(ours)), len(ours)),
        "recall_weighted": weighted_hit / weighted_gold if weighted_gold else None,
        "polar_pairs": len(polar),
        "polarity_accuracy": float(np.mean(ours)) if ours else None,
        "polarity_accuracy_review_label": float(np.mean(baseline)) if baseline else None,
        "polarity_accuracy_network_on_clause": float(np.mean(direct)) if direct else None,
        "per_aspect": per_aspect,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    model_dir = resolve(args.model)
    dataset = load_imdb(args.data)
    train = pd.concat([dataset.train, dataset.validation])
    test = dataset.test
    peer_figures, peer_rating_all = peer(train, test)
    peer_rating = peer_rating_all

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = summarize(
            model_dir,
            None,
            folder,
            SummarizeConfig(),
            ScoreConfig(batch_size=1024),
            split="test",
            data=args.data,
            limit=args.limit,
            progress=True,
        )
        seconds = time.perf_counter() - start
        reviews = pq.read_table(Path(folder) / REVIEWS).to_pandas()
        groups = pd.read_csv(Path(folder) / GROUPS, dtype={"group": str})
    if args.limit:
        test = test[test["id"].isin(reviews["id"])]
        peer_rating = peer_rating_all[dataset.test["id"].isin(reviews["id"]).to_numpy()]
    stars = reviews[[f"stars_{s}" for s in STARS]].to_numpy()
    ours = rating_metrics(reviews["rating"].to_numpy(), median_stars(stars), reviews["p_positive"].to_numpy())
    chosen = SummarizeConfig(group_column="film")

    def estimate(**changes: object) -> pd.DataFrame:
        config = dataclasses.replace(chosen, **changes)
        frame = group_inputs(reviews, config, truth=True)
        return summarize_groups(
            frame,
            stars=STARS,
            adjust=config.adjust,
            share_prior=config.share_prior,
            rating_prior=config.rating_prior,
            n_boot=0,
        )

    others = {f"share_from={s}": {"share_from": s} for s in SHARE_SOURCES if s != chosen.share_from}
    others |= {f"adjust={a}": {"adjust": a} for a in ADJUSTMENTS if a != chosen.adjust}
    by_film = test.assign(peer=peer_rating).groupby("film")
    peer_films = pd.DataFrame(
        {
            "n": by_film.size(),
            "peer_rating": by_film["peer"].mean(),
            "peer_share": by_film["peer"].apply(lambda r: float((r >= 5.5).mean())),
            "true_mean_rating": by_film["rating"].mean(),
            "true_share_positive": by_film["label"].mean(),
        }
    )
    emit(
        {
            "bench": "audience",
            "model": str(args.model or "pretrained"),
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "reviews": len(reviews),
            "summarize_seconds": round(seconds, 1),
            "score_seconds": result.score_seconds,
            "target_seconds": 600,
            "rating": ours,
            "peer_rating": peer_figures,
            "mae_vs_peer": ours["mae"] / peer_figures["mae"],
            "films": {
                # What summarize wrote (its defaults), then each other choice alone on the same reviews.
                f"summarize (share_from={chosen.share_from}, adjust={chosen.adjust})": film_figures(
                    groups, "mean_rating", "share_positive"
                )
                # How often the 95% intervals summarize wrote hold the films' true figures (the peer has none).
                | {"intervals": coverage(groups[groups["n"] >= MIN_REVIEWS])}
                | {"over_films": film_spread(groups, "mean_rating", "share_positive")}
                | {"verdicts": verdict_counts(groups)},
                **{
                    name: film_figures(estimate(**change), "mean_rating", "share_positive")
                    for name, change in others.items()
                },
                "peer": film_figures(peer_films, "peer_rating", "peer_share"),
            },
            "aspects": aspect_figures(reviews, model_dir),
            "command": "python bench/audience.py " + " ".join(sys.argv[1:]),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
