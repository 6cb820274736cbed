"""How ``summarize`` estimates a group's figures, chosen on validation films; prints one JSON object.

    python bench/group_choice.py [MODEL] [--data PATH] [--repeats N] [--out FILE]

The film-level targets are measured on test films (bench/audience.py); nothing may be chosen there. This
bench builds films from data the model has not seen and that the test split does not hold:

1. the model (default: the shipped one, with its rating head) scores the validation reviews carved from
   train with the split its manifest records;
2. every training film with >= 10 training reviews becomes a *simulated* film: each of its reviews is
   replaced by a validation review with the same star rating, drawn at random (``--repeats`` draws). The
   simulated film has the real film's rating distribution, so its true share positive and mean rating are
   the real film's, and the model's outputs are out of sample.

Every estimator ``summarize`` offers is run on the same simulated films: the source of each review's
P(positive) (``share_from``: the rating head's mass on 7-10 stars, or the classifier's own probability),
the label-shift correction (``adjust``) and the weight of the pooled share (``share_prior``). The
``chosen`` entry is ``SummarizeConfig()``'s defaults; the peer is the same estimator with the
classifier's probability. What it cannot show: reviews of one real film share names and words, so the
model's errors correlate within a film; simulated films do not, and their figures are a little better
than real films' would be for every estimator alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from tqdm.auto import tqdm

from imdb_sentiment import load_imdb, load_model
from imdb_sentiment.audience.groups import ADJUSTMENTS, summarize_groups
from imdb_sentiment.audience.summarize import SHARE_SOURCES, SummarizeConfig, group_inputs
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.models.rating import STARS, positive_mass
from imdb_sentiment.pretrained import resolve
from robustness import emit

MIN_REVIEWS = 10
SHARE_PRIORS = (0.0, 0.1, 0.5, 2.0)


def simulated_films(films: pd.Series, validation: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One draw of the simulated films: rows of ``validation`` (with ``film`` set to the simulated film)."""
    pools = {r: np.flatnonzero(validation["rating"].to_numpy() == r) for r in STARS}
    names, rows = [], []
    for film, ratings in films.items():
        for r in ratings:
            rows.append(rng.choice(pools[int(r)]))
            names.append(str(film))
    return validation.iloc[np.asarray(rows)].assign(film=names).reset_index(drop=True)


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
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    model = load_model(resolve(args.model))
    stored = model.info_.get("split") or {}
    split = SplitConfig(validation_fraction=stored.get("validation_fraction", 0.1), seed=stored.get("seed", 0))
    dataset = load_imdb(args.data, split=split)
    validation = dataset.validation.reset_index(drop=True)
    if "verbose" in model.get_params():
        model.set_params(verbose=True)
    proba, stars = model.predict_proba_and_stars(validation["text"].tolist())
    if stars is None:
        raise SystemExit("the model has no rating head; add one with `imdb-sentiment train-rating MODEL_DIR`")
    scored = validation[["id", "rating"]].assign(p_positive=proba[:, 1])
    scored[[f"stars_{s}" for s in STARS]] = stars
    counts = dataset.train.groupby("film")["rating"].apply(list)
    films = counts[counts.map(len) >= MIN_REVIEWS]

    variants = [(source, adjust, prior) for source in SHARE_SOURCES for adjust in ADJUSTMENTS for prior in SHARE_PRIORS]
    results: dict[tuple[str, str, float], list[dict[str, float]]] = {v: [] for v in variants}
    rng = np.random.default_rng(0)
    defaults = SummarizeConfig()
    for _ in tqdm(range(args.repeats), desc="draws"):
        reviews = simulated_films(films, scored, rng)
        for source, adjust, prior in variants:
            config = dataclasses.replace(defaults, group_column="film", share_from=source)
            frame = group_inputs(reviews, config, truth=True)
            groups = summarize_groups(
                frame,
                stars=STARS,
                adjust=adjust,
                share_prior=prior,
                rating_prior=defaults.rating_prior,
                n_boot=0,
            )
            results[(source, adjust, prior)].append(figures(groups))

    table = {
        f"share_from={s} adjust={a} share_prior={p:g}": pd.DataFrame(rows).mean().to_dict()
        for (s, a, p), rows in results.items()
    }
    chosen = f"share_from={defaults.share_from} adjust={defaults.adjust} share_prior={defaults.share_prior:g}"
    other = next(s for s in SHARE_SOURCES if s != defaults.share_from)
    peer = f"share_from={other} adjust={defaults.adjust} share_prior={defaults.share_prior:g}"
    best_share = min(table, key=lambda k: table[k]["mae_share_positive"])
    best_rating = max(table, key=lambda k: table[k]["spearman_mean_rating"])
    metrics = {
        "validation": {
            "n": len(validation),
            "classifier_accuracy": float(((proba[:, 1] >= 0.5) == (validation["rating"] >= 7)).mean()),
            "rating_mass_accuracy": float(((positive_mass(stars) >= 0.5) == (validation["rating"] >= 7)).mean()),
        }
    }
    emit(
        {
            "bench": "group-choice",
            "model": str(args.model or "pretrained"),
            "films": len(films),
            "reviews_per_draw": int(films.map(len).sum()),
            "repeats": args.repeats,
            **metrics,
            "chosen": chosen,
            "chosen_figures": table[chosen],
            "peer": peer,
            "peer_figures": table[peer],
            "share_mae_vs_peer": table[chosen]["mae_share_positive"] / table[peer]["mae_share_positive"],
            "best_share_mae": best_share,
            "best_rating_spearman": best_rating,
            "variants": table,
            "command": "python bench/group_choice.py " + " ".join(sys.argv[1:]),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
