"""Simulated scored reviews for the audience tests: groups with known shares and ratings.

The simulated model is calibrated for balanced training data by construction: a positive review's
``p_positive`` is drawn from Beta(b + 1, b) and a negative one's from Beta(b, b + 1), whose likelihood
ratio is exactly ``p / (1 - p)``. Star ratings come from a noisy score whose posterior under the training
prior is the review's ``stars_<s>`` row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STARS = [1, 2, 3, 4, 7, 8, 9, 10]
#: IMDb's training set, roughly: the prior the simulated star model is calibrated for.
TRAIN = np.array([0.2, 0.09, 0.1, 0.11, 0.1, 0.12, 0.09, 0.19])
SCORE = np.array([0, 0.5, 1, 1.5, 3, 3.5, 4, 4.5])


def binary_reviews(theta, sizes, *, b=0.5, seed=0) -> pd.DataFrame:
    """Reviews of groups with true shares ``theta``; two stars (1 and 10) standing for the label."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(len(theta)), sizes)
    y = rng.random(len(group)) < np.asarray(theta)[group]
    p = np.where(y, rng.beta(b + 1, b, len(group)), rng.beta(b, b + 1, len(group)))
    names = [f"g{i:04d}" for i in group]
    return pd.DataFrame({"group": names, "p_positive": p, "stars_1": 1 - p, "stars_10": p, "label": y.astype(int)})


def star_reviews(n_groups, size, *, seed=0, sigma=1.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reviews with calibrated star distributions; the groups' true share positive and mean rating."""
    rng = np.random.default_rng(seed)
    tilt = rng.normal(0, 1, n_groups)
    dist = TRAIN * np.exp(tilt[:, None] * (SCORE - 2.25)[None] / 2)
    dist /= dist.sum(axis=1, keepdims=True)
    group = np.repeat(np.arange(n_groups), size)
    star = (rng.random(len(group))[:, None] > dist.cumsum(axis=1)[group]).sum(axis=1)
    score = SCORE[star] + rng.normal(0, sigma, len(group))
    q = TRAIN * np.exp(-((score[:, None] - SCORE[None]) ** 2) / (2 * sigma**2))
    q /= q.sum(axis=1, keepdims=True)
    positive = q[:, 4:].sum(axis=1) / TRAIN[4:].sum()
    p = positive / (positive + q[:, :4].sum(axis=1) / TRAIN[:4].sum())
    names = np.array([f"g{i:04d}" for i in range(n_groups)])
    frame = pd.DataFrame({"group": names[group], "p_positive": p, "true_rating": np.array(STARS)[star]})
    frame = frame.assign(label=(star >= 4).astype(int), **{f"stars_{s}": q[:, k] for k, s in enumerate(STARS)})
    truth = pd.DataFrame({"group": names, "theta": dist[:, 4:].sum(axis=1), "rating": dist @ np.array(STARS)})
    return frame, truth


def times(days, n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, days, n), unit="D"))
