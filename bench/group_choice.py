"""How ``summarize`` estimates a group's figures, chosen on validation films; prints one JSON object.

    python bench/group_choice.py [MODEL] [--data PATH] [--repeats N] [--out FILE]
    python bench/group_choice.py [MODEL] --films real [--head KEY=VALUE]... [--out FILE]

The film-level targets are measured on test films (bench/audience.py); nothing may be chosen there. This
bench builds films from data the model has not seen and that the test split does not hold:

1. the model (default: the shipped one, with its rating head) scores the validation reviews carved from
   train with the split its manifest records;
2. every training film with >= 10 training reviews becomes a *simulated* film: each of its reviews is
   replaced by a validation review with the same star rating, drawn at random (``--repeats`` draws). The
   simulated film has the real film's rating distribution, so its true share positive and mean rating are
   the real film's, and the model's outputs are out of sample.

Every estimator ``summarize`` offers is run on the same films: the source of each review's P(positive)
(``share_from``: the rating head's mass on 7-10 stars, or the classifier's own probability), the
label-shift correction (``adjust``) and the weights of the pooled share and star distribution
(``share_prior``, ``rating_prior``). The
``chosen`` entry is ``SummarizeConfig()``'s defaults; the peer is the same estimator with the
classifier's probability. ``intervals`` says, for each ``adjust`` with the default settings, how often the
95% intervals hold the films' true share and mean rating, and how wide they are; ``rating_error`` does the
same for the mean rating's interval widened by each candidate model error (``SummarizeConfig.rating_error``,
chosen on real films: the bootstrap alone sees the audience's spread, not the model's error). What the simulated
films cannot show: reviews of one real film share names and words, so the model's errors correlate
within a film; simulated films do not, and their figures are a little better than real films' would be.

``--films real`` measures that too, on *real* training films: the reviews the network did not train on
(the training reviews its subset left out, and validation) keep their own films, and each film with >=
10 of them is summarised from star distributions that a rating head, fitted anew five times (folds by
film, the head's config as the model's, changed by ``--head``), gives films it never read: neither its
text stage nor its fusion saw any review of them. What it still cannot show: the network itself trained
on other reviews of some of these films, so it may know their names a little.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from tqdm.auto import tqdm

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.audience.groups import ADJUSTMENTS, summarize_groups
from imdb_sentiment.audience.resample import widen_rating_interval
from imdb_sentiment.audience.summarize import SHARE_SOURCES, SummarizeConfig, group_inputs
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.models.rating import STARS, RatingConfig, RatingHead, median_stars, positive_mass
from imdb_sentiment.pretrained import resolve
from robustness import emit

MIN_REVIEWS = 10
SHARE_PRIORS = (0.0, 0.1, 0.5, 2.0)
RATING_PRIORS = (0.0, 0.5, 2.0)
#: Candidates for SummarizeConfig.rating_error (stars), scored by how often the mean rating's interval holds.
RATING_ERRORS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def simulated_films(films: pd.Series, validation: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One draw of the simulated films: rows of ``validation`` (with ``film`` set to the simulated film)."""
    pools = {r: np.flatnonzero(validation["rating"].to_numpy() == r) for r in STARS}
    names, rows = [], []
    for film, ratings in films.items():
        for r in ratings:
            rows.append(rng.choice(pools[int(r)]))
            names.append(str(film))
    return validation.iloc[np.asarray(rows)].assign(film=names).reset_index(drop=True)


def real_films(model: Any, dataset: Any, head_changes: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, float]]:
    """The reviews the network did not train on, with their own films and star distributions from rating
    heads that never read their film (see the module), and the validation figures of those distributions.
    """
    from sklearn.model_selection import GroupKFold

    from imdb_sentiment.training import rating_metrics

    train, validation = dataset.train, dataset.validation
    unseen = model.unseen_training_rows(train["text"].tolist(), train["label"].to_numpy("int64"))
    reviews = pd.concat([train, validation], ignore_index=True)
    # The fusion stage's reviews are the ones the network never saw: the pool every film is built from.
    fusion = np.r_[unseen, np.ones(len(validation), bool)]
    pool = np.flatnonzero(fusion)
    texts = reviews["text"].tolist()
    proba, features = model.predict_proba_and_features([texts[i] for i in pool])
    p_positive = np.full(len(reviews), 0.5)
    p_positive[pool] = proba[:, 1]
    if features is not None:
        all_features = np.zeros((len(reviews), features.shape[1]), dtype=np.float32)
        all_features[pool] = features
    config = RatingConfig.from_dict({**model.rating_head_.config.to_dict(), **head_changes})
    stars = np.zeros((len(reviews), len(STARS)))
    films = reviews["film"].to_numpy()
    ratings = reviews["rating"].to_numpy("int64")
    for _, held in tqdm(GroupKFold(5).split(pool, groups=films[pool]), total=5, desc="heads"):
        keep = ~np.isin(films, films[pool[held]])  # no review of a held-out film, for either stage
        rows = np.flatnonzero(keep)
        head = RatingHead(config).fit(
            [texts[i] for i in rows],
            ratings[rows],
            p_positive[rows],
            fusion[rows],
            None if features is None else all_features[rows],
        )
        out = pool[held]
        stars[out] = head.predict_stars(
            [texts[i] for i in out], p_positive[out], None if features is None else all_features[out]
        )
    scored = reviews.iloc[pool][["id", "film", "rating"]].assign(p_positive=p_positive[pool])
    scored[[f"stars_{s}" for s in STARS]] = stars[pool]
    return scored, rating_metrics(ratings[pool], median_stars(stars[pool]), p_positive[pool])


def coverage(groups: pd.DataFrame) -> dict[str, float]:
    """How often the 95% intervals hold the films' true figures, and how wide they are."""
    out = {}
    for figure, truth in (("share_positive", "true_share_positive"), ("mean_rating", "true_mean_rating")):
        low, high = groups[f"{figure}_low"], groups[f"{figure}_high"]
        out[f"{figure}_coverage"] = float(((low <= groups[truth]) & (groups[truth] <= high)).mean())
        out[f"{figure}_width"] = float((high - low).mean())
    return out


def widened_coverage(groups: pd.DataFrame, error: float) -> dict[str, float]:
    """:func:`coverage` with the mean rating's interval widened by a model error of ``error`` stars: a
    deterministic step after the bootstrap, so every candidate is scored on the same resamples."""
    low, high = widen_rating_interval(
        groups["mean_rating"], groups["mean_rating_low"], groups["mean_rating_high"], error, stars=STARS
    )
    return coverage(groups.assign(mean_rating_low=low, mean_rating_high=high))


def figures(groups: pd.DataFrame) -> dict[str, float]:
    """Share and mean-rating errors of simulated films against their true figures."""
    return {
        "mae_share_positive": float((groups["share_positive"] - groups["true_share_positive"]).abs().mean()),
        "spearman_share_positive": float(spearmanr(groups["share_positive"], groups["true_share_positive"])[0]),
        "mae_mean_rating": float((groups["mean_rating"] - groups["true_mean_rating"]).abs().mean()),
        "spearman_mean_rating": float(spearmanr(groups["mean_rating"], groups["true_mean_rating"])[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--films", choices=("simulated", "real"), default="simulated")
    parser.add_argument("--head", action="append", default=[], help="with --films real: KEY=VALUE for the heads")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    head_changes = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.head)}
    warnings.simplefilter("ignore")
    model = load_model(resolve(args.model))
    stored = model.info_.get("split") or {}
    split = SplitConfig(validation_fraction=stored.get("validation_fraction", 0.1), seed=stored.get("seed", 0))
    dataset = load_imdb(args.data, split=split)
    if model.rating_head_ is None:
        raise SystemExit("the model has no rating head; add one with `imdb-sentiment train-rating MODEL_DIR`")
    if "verbose" in model.get_params():
        model.set_params(verbose=True)
    if args.films == "real":
        scored, rating = real_films(model, dataset, head_changes)
        sizes = scored.groupby("film").size()
        films = sizes[sizes >= MIN_REVIEWS]
        draws = [scored[scored["film"].isin(films.index)]]
        metrics: dict[str, Any] = {"heads": head_changes, "rating_of_unseen_films": rating}
    else:
        validation = dataset.validation.reset_index(drop=True)
        proba, stars = model.predict_proba_and_stars(validation["text"].tolist())
        scored = validation[["id", "rating"]].assign(p_positive=proba[:, 1])
        scored[[f"stars_{s}" for s in STARS]] = stars
        counts = dataset.train.groupby("film")["rating"].apply(list)
        films = counts[counts.map(len) >= MIN_REVIEWS].map(len)
        rng = np.random.default_rng(0)
        draws = (simulated_films(counts[films.index], scored, rng) for _ in range(args.repeats))
        metrics = {
            "validation": {
                "n": len(validation),
                "classifier_accuracy": float(((proba[:, 1] >= 0.5) == (validation["rating"] >= 7)).mean()),
                "rating_mass_accuracy": float(((positive_mass(stars) >= 0.5) == (validation["rating"] >= 7)).mean()),
            }
        }

    variants = [
        (source, adjust, share, rating)
        for source in SHARE_SOURCES
        for adjust in ADJUSTMENTS
        for share in SHARE_PRIORS
        for rating in RATING_PRIORS
    ]
    results: dict[tuple[str, str, float, float], list[dict[str, float]]] = {v: [] for v in variants}
    defaults = SummarizeConfig()
    intervals: dict[str, list[dict[str, float]]] = {a: [] for a in ADJUSTMENTS}
    widened: dict[float, list[dict[str, float]]] = {e: [] for e in RATING_ERRORS}
    for reviews in tqdm(draws, total=1 if args.films == "real" else args.repeats, desc="draws"):
        # The estimators' input depends only on the share's source: built once per source and draw.
        frames = {
            source: group_inputs(
                reviews, dataclasses.replace(defaults, group_column="film", share_from=source), truth=True
            )
            for source in SHARE_SOURCES
        }
        for source, adjust, share, rating in variants:
            groups = summarize_groups(
                frames[source], stars=STARS, adjust=adjust, share_prior=share, rating_prior=rating, n_boot=0
            )
            results[(source, adjust, share, rating)].append(figures(groups))
        # The intervals of each adjustment with the default settings (the bootstrap is the slow part).
        for adjust in ADJUSTMENTS:
            groups = summarize_groups(
                frames[defaults.share_from],
                stars=STARS,
                adjust=adjust,
                share_prior=defaults.share_prior,
                rating_prior=defaults.rating_prior,
                n_boot=defaults.n_boot,
            )
            intervals[adjust].append(widened_coverage(groups, defaults.rating_error))
            if adjust == defaults.adjust:
                for error in RATING_ERRORS:
                    widened[error].append(widened_coverage(groups, error))

    def name(source: str, adjust: str, share: float, rating: float) -> str:
        return f"share_from={source} adjust={adjust} share_prior={share:g} rating_prior={rating:g}"

    table = {name(*v): pd.DataFrame(rows).mean().to_dict() for v, rows in results.items()}
    chosen = name(defaults.share_from, defaults.adjust, defaults.share_prior, defaults.rating_prior)
    other = next(s for s in SHARE_SOURCES if s != defaults.share_from)
    peer = name(other, defaults.adjust, defaults.share_prior, defaults.rating_prior)
    best_share = min(table, key=lambda k: table[k]["mae_share_positive"])
    best_rating = max(table, key=lambda k: table[k]["spearman_mean_rating"])
    emit(
        {
            "bench": "group-choice",
            "model": str(args.model or "pretrained"),
            "films_kind": args.films,
            "films": len(films),
            "reviews_per_draw": int(films.sum()),
            "repeats": 1 if args.films == "real" else args.repeats,
            **metrics,
            "chosen": chosen,
            "chosen_figures": table[chosen],
            "peer": peer,
            "peer_figures": table[peer],
            "share_mae_vs_peer": table[chosen]["mae_share_positive"] / table[peer]["mae_share_positive"],
            "best_share_mae": best_share,
            "best_rating_spearman": best_rating,
            "variants": table,
            "intervals": {a: pd.DataFrame(rows).mean().to_dict() for a, rows in intervals.items()},
            "rating_error": {
                "default": defaults.rating_error,
                "candidates": {
                    f"{e:g}": {
                        k: v for k, v in pd.DataFrame(rows).mean().to_dict().items() if k.startswith("mean_rating")
                    }
                    for e, rows in widened.items()
                },
            },
            "command": "python bench/group_choice.py " + " ".join(sys.argv[1:]),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
