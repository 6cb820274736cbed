"""Group estimates from arrays, with percentile-bootstrap intervals, for every group at once.

:func:`estimate` is what :func:`~imdb_sentiment.audience.groups.summarize_groups` and
:func:`~imdb_sentiment.audience.groups.trend` compute: each group's share positive and star distribution
(:mod:`imdb_sentiment.audience.quantify`) and the same estimator on ``n_boot`` resamples of its reviews.

Groups are bucketed by size and padded (at most 25% padding), so a bucket is one dense ``(G, B, m)``
layout and its sums are matrix products. A group of a few reviews says little about its audience, so a
resample draws each review from the pool (a few reviews of other groups) with probability
``prior / (n + prior)``: the prior's pseudo-reviews made real. A large group barely notices; a group of one
review gets an interval about as wide as the spread between reviews.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from threadpoolctl import threadpool_limits  # installed with scikit-learn, a base dependency

from imdb_sentiment.audience import quantify
from imdb_sentiment.errors import ConfigError

#: Reviews from the pool each group's resamples may draw (see the module's docstring); a few
#: stand for the whole pool, and keep the resamples dense.
POOL_CANDIDATES = 8
#: Cells per block of bootstrap work, bounding memory at a few tens of MB.
BLOCK = 1 << 21
#: SQUAREM cycles a resample's star distribution gets from its group's estimate (see _Pool.bootstrap).
BOOT_CYCLES = 8


@dataclasses.dataclass(frozen=True)
class GroupEstimates:
    """What :func:`estimate` finds for ``G`` groups (arrays in group-code order)."""

    n: np.ndarray
    share: np.ndarray
    share_low: np.ndarray
    share_high: np.ndarray
    #: ``(G, K)`` estimated distribution over the star ratings.
    distribution: np.ndarray
    rating: np.ndarray
    rating_low: np.ndarray
    rating_high: np.ndarray


def estimate(
    codes: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    *,
    stars: Sequence[int],
    adjust: str = "em",
    share_prior: float = 2.0,
    rating_prior: float = 2.0,
    rating_error: float = 0.0,
    level: float = 0.95,
    n_boot: int = 200,
    seed: int = 0,
) -> GroupEstimates:
    """The estimates of :func:`summarize_groups` from arrays: group codes ``0..G-1`` of every review.

    Args:
        codes: ``(N,)`` group code of each review; every code below the largest occurs.
        p: ``(N,)`` probabilities of *positive*.
        q: ``(N, K)`` distributions over ``stars``.
        stars, adjust, share_prior, rating_prior, rating_error, level, n_boot, seed: As
            :func:`summarize_groups`.

    Returns:
        The :class:`GroupEstimates`.
    """
    if not 0 < level < 1:
        raise ConfigError(f"level must be between 0 and 1 (e.g. 0.95), got {level}")
    if n_boot < 0 or share_prior < 0 or rating_prior < 0 or rating_error < 0:
        raise ConfigError(
            "n_boot, share_prior, rating_prior and rating_error must be >= 0, got "
            f"{n_boot}, {share_prior}, {rating_prior}, {rating_error}"
        )
    codes = np.asarray(codes, dtype=np.int64)
    sizes = np.bincount(codes) if len(codes) else np.zeros(0, np.int64)
    star_values = np.asarray(stars, dtype=np.float64)
    n_groups = len(sizes)
    share, dist = np.full(n_groups, np.nan), np.full((n_groups, len(star_values)), np.nan)
    share_iv, rating_iv = np.full((2, n_groups), np.nan), np.full((2, n_groups), np.nan)
    # The products are many small matrices: BLAS threads would spend more on waking each other than on
    # the arithmetic (150 times slower on busy cores, measured), so BLAS runs on this thread.
    with threadpool_limits(limits=1, user_api="blas"):
        if n_groups:
            order = np.argsort(codes, kind="stable")
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            q_bar = np.maximum(q.mean(axis=0), 1e-12)
            positive = star_values > (star_values.min() + star_values.max()) / 2
            pooled = _Pool(
                p=p,
                q=q,
                positive=positive,
                likelihood=q / q_bar,
                share=_pooled_share(p) if adjust != "none" else float(p.mean()),
                distribution=q_bar / q_bar.sum(),
                stars=star_values,
                adjust=adjust,
                share_prior=float(share_prior),
                rating_prior=float(rating_prior),
            )
            rng = np.random.default_rng(seed)
            quantiles = [(1 - level) / 2, (1 + level) / 2]
            for width, members in _buckets(sizes):
                layout = _Layout.build(order, starts[members], sizes[members], width, rng)
                own = layout.own_weights()
                fit_share, fit_dist = pooled.fit(layout, own, own)
                share[members], dist[members] = fit_share[:, 0], fit_dist[:, 0]
                if n_boot == 0:
                    continue
                boot_share, boot_rating = pooled.bootstrap(layout, share[members], dist[members], n_boot, rng)
                share_iv[:, members] = np.quantile(boot_share, quantiles, axis=1)
                rating_iv[:, members] = np.quantile(boot_rating, quantiles, axis=1)
    # A group of n reviews cannot tell a share of 1 from one of 1 - 1/(2n), and the prior keeps every
    # resample short of 0 and 1: an interval within half a review of either end is closed there (else no
    # film whose reviews are all positive is covered by its own interval; 180 of the 438 real training
    # films of bench/group_choice.py have a share of 0 or 1).
    half = 0.5 / np.maximum(sizes, 1)
    rating = dist @ star_values
    rating_low, rating_high = widen_rating_interval(
        rating, rating_iv[0], rating_iv[1], rating_error, level=level, stars=star_values
    )
    return GroupEstimates(
        n=sizes,
        share=share,
        share_low=np.minimum(np.where(share_iv[0] <= half, 0.0, share_iv[0]), share),
        share_high=np.maximum(np.where(share_iv[1] >= 1 - half, 1.0, share_iv[1]), share),
        distribution=dist,
        rating=rating,
        rating_low=rating_low,
        rating_high=rating_high,
    )


def widen_rating_interval(
    rating: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    error: float,
    *,
    level: float = 0.95,
    stars: np.ndarray | Sequence[int] = (1, 10),
) -> tuple[np.ndarray, np.ndarray]:
    """A mean rating's bootstrap interval ``[low, high]`` widened by the model's own error on a group.

    The bootstrap resamples the group's reviews, so it measures how much the figure would move with another
    audience of the same size, not how far the model reads this group off: a film whose reviews it rates half
    a star high is rated so in every resample. ``error`` is the standard deviation of that error (stars,
    measured on held-out films, see :class:`~imdb_sentiment.audience.summarize.SummarizeConfig`); each side
    of the interval grows in quadrature with it at the interval's ``level``, and stays on the star scale.
    With ``error`` 0 the interval is the bootstrap's (still made to hold ``rating``).
    """
    rating = np.asarray(rating, dtype=np.float64)
    below = np.maximum(rating - np.asarray(low, dtype=np.float64), 0.0)
    above = np.maximum(np.asarray(high, dtype=np.float64) - rating, 0.0)
    if error > 0:
        spread = NormalDist().inv_cdf((1 + level) / 2) * error
        below, above = np.hypot(below, spread), np.hypot(above, spread)
    values = np.asarray(stars, dtype=np.float64)
    return np.maximum(rating - below, values.min()), np.minimum(rating + above, values.max())


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Groups of similar size padded to ``width`` reviews, plus :data:`POOL_CANDIDATES` pool reviews each.

    ``candidates[g]`` are indices of reviews: group ``g``'s own ``sizes[g]`` first, then padding (a
    repeated member, always weighted 0), then the pool reviews its resamples may draw.
    """

    sizes: np.ndarray
    width: int
    candidates: np.ndarray

    @classmethod
    def build(
        cls, order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, width: int, rng: np.random.Generator
    ) -> _Layout:
        j = np.minimum(np.arange(width), sizes[:, None] - 1)
        pool = rng.integers(0, len(order), size=(len(sizes), POOL_CANDIDATES))
        return cls(sizes, width, np.concatenate([order[starts[:, None] + j], pool], axis=1))

    def part(self, rows: slice) -> _Layout:
        return _Layout(self.sizes[rows], self.width, self.candidates[rows])

    def own_weights(self) -> np.ndarray:
        """``(G, 1, m)``: 1 for each group's reviews, 0 for padding and the pool."""
        m = self.candidates.shape[1]
        return (np.arange(m) < self.sizes[:, None]).astype(np.float64)[:, None, :]

    def resample(
        self, n_boot: int, share_prior: float, rating_prior: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Resample counts ``(G, n_boot, m)`` for the share and for the ratings (float32).

        Each of a group's ``n`` draws comes from its pool candidates with probability
        ``prior / (n + prior)``, otherwise uniformly from the group's own reviews.
        """
        g, m = len(self.sizes), self.candidates.shape[1]
        shape = (g, n_boot, self.width)
        pick = rng.random(shape, dtype=np.float32)
        which = rng.random(shape, dtype=np.float32)
        sizes = self.sizes[:, None, None]
        own = np.minimum((pick * sizes).astype(np.int64), sizes - 1)
        pool = self.width + np.minimum((pick * POOL_CANDIDATES).astype(np.int64), POOL_CANDIDATES - 1)
        real = np.broadcast_to(np.arange(self.width) < sizes, shape)
        base = (np.arange(g * n_boot) * m).reshape(g, n_boot, 1)

        def counts(prior: float) -> np.ndarray:
            column = np.where(which < prior / (sizes + prior), pool, own) + base
            return np.bincount(column[real], minlength=g * n_boot * m).reshape(g, n_boot, m).astype(np.float32)

        share = counts(share_prior)
        return share, share if rating_prior == share_prior else counts(rating_prior)


@dataclasses.dataclass(frozen=True)
class _Pool:
    """All reviews, the pooled estimates every group is pulled towards, and the estimator's settings."""

    p: np.ndarray
    q: np.ndarray
    #: ``(K,)`` which stars are on the positive side (above the middle of the scale).
    positive: np.ndarray
    likelihood: np.ndarray
    share: float
    distribution: np.ndarray
    stars: np.ndarray
    adjust: str
    share_prior: float
    rating_prior: float

    def fit(
        self,
        layout: _Layout,
        share_weights: np.ndarray,
        rating_weights: np.ndarray,
        start: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Share ``(G, B)`` and distribution ``(G, B, K)`` of each weighting of the layout's candidates."""
        idx = layout.candidates
        if self.adjust == "none":
            return quantify.weighted_mean(self.p[idx], share_weights), quantify.weighted_mean(
                self.q[idx], rating_weights
            )
        g, b = share_weights.shape[:2]
        if start is None:
            start = (np.full((g, b), self.share), np.broadcast_to(self.distribution, (g, b, len(self.stars))))
        # The bootstrap runs in float32; its figures are quoted to three digits.
        tol = 1e-6 if share_weights.dtype == np.float32 else 1e-10
        share = quantify.prevalence(
            self.p[idx], share_weights, centre=self.share, strength=self.share_prior, start=start[0], tol=tol
        )
        if self.adjust == "share":  # the share corrected, the star distribution as the model gives it
            return share, quantify.weighted_mean(self.q[idx], rating_weights)
        if self.adjust == "sides":
            # The share corrected; within each side, the reviews' mean star distribution on that side (how
            # strongly the group's fans like it and its critics dislike it) rescaled to the share: two
            # prevalences estimated from a group's reviews instead of eight (bench/group_choice.py).
            mean = quantify.weighted_mean(self.q[idx], rating_weights)
            on_side = np.where(
                self.positive,
                mean[..., self.positive].sum(-1, keepdims=True),
                mean[..., ~self.positive].sum(-1, keepdims=True),
            )
            return share, mean / np.maximum(on_side, 1e-12) * np.where(
                self.positive, share[..., None], 1 - share[..., None]
            )
        dist = quantify.distribution(
            self.likelihood[idx],
            rating_weights,
            centre=self.distribution,
            strength=self.rating_prior,
            start=start[1],
            tol=10 * tol,
            max_iter=BOOT_CYCLES if share_weights.shape[1] > 1 else 500,
        )
        return share, dist

    def bootstrap(
        self, layout: _Layout, share: np.ndarray, dist: np.ndarray, n_boot: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n_boot`` resampled shares and mean ratings per group of ``layout``, ``(G, n_boot)`` each.

        Work goes in blocks of about :data:`BLOCK` cells: many small groups at once, or a large group's
        resamples a slice at a time. Each resample starts from its group's estimate; its star distribution
        gets :data:`BOOT_CYCLES` SQUAREM cycles. On simulated groups of 25 to 200 reviews that leaves 99%
        of the resampled mean ratings within 0.025 star of the converged estimate, and 60 cycles instead
        of 8 left the intervals' coverage unchanged; the groups' own estimates are fully converged.
        """
        m = layout.candidates.shape[1]
        per_block = max(1, BLOCK // (m * n_boot))
        reps = n_boot if per_block > 1 else max(1, min(n_boot, BLOCK // m))
        boot_share, boot_rating = np.empty((len(layout.sizes), n_boot)), np.empty((len(layout.sizes), n_boot))
        for lo in range(0, len(layout.sizes), per_block):
            rows = slice(lo, lo + per_block)
            part = layout.part(rows)
            for r in range(0, n_boot, reps):
                cols = slice(r, min(r + reps, n_boot))
                w_share, w_rating = part.resample(cols.stop - r, self.share_prior, self.rating_prior, rng)
                shape = w_share.shape[:2]
                start = (
                    np.broadcast_to(share[rows, None], shape),
                    np.broadcast_to(dist[rows, None].astype(np.float32), (*shape, dist.shape[1])),
                )
                s, d = self.fit(part, w_share, w_rating, start)
                boot_share[rows, cols], boot_rating[rows, cols] = s, d @ self.stars
        return boot_share, boot_rating


def _buckets(sizes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Groups by padded width: sizes rounded up a geometric ladder (<= 25% padding), each with its groups."""
    ladder = np.unique(np.ceil(1.25 ** np.arange(int(np.log(max(sizes.max(), 1)) / np.log(1.25)) + 2)).astype(np.int64))
    ladder = np.unique(np.concatenate([np.arange(1, 9), ladder[ladder > 8]]))
    width = ladder[np.searchsorted(ladder, sizes)]
    return [(int(w), np.flatnonzero(width == w)) for w in np.unique(width)]


def _pooled_share(p: np.ndarray) -> float:
    """The share positive of all reviews together, by the same EM without a prior."""
    ones = np.ones((1, 1, len(p)))
    share = quantify.prevalence(p[None, :], ones, centre=0.5, strength=0.0, start=np.full((1, 1), 0.5), tol=1e-10)
    return float(np.clip(share[0, 0], 1e-3, 1 - 1e-3))
