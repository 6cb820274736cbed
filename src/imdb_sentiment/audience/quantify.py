"""Quantification under label shift: a group's share positive and rating distribution from a model's
probabilities, for many groups and many bootstrap resamples at once.

A classifier calibrated on balanced training data reports ``p_i = P(positive | review)`` as if half the
reviews were positive. In a group whose true share is ``theta`` the posterior of review ``i`` is
``theta p_i / (theta p_i + (1 - theta)(1 - p_i))``, and the group's share is the fixed point of
re-estimating ``theta`` as the mean of those posteriors (EM; Saerens, Latinne & Decaestecker 2002). The
star distribution is re-estimated the same way, with ``q_i(s) / q_bar(s)`` as the likelihood of star ``s``.

Both estimates are maximum a posteriori: the prior is ``strength`` pseudo-reviews drawn from ``centre``
(the pooled estimate over all groups), so a small group is pulled towards the pool and a large one
follows its own reviews. The EM fixed point is the MAP, and both objectives are concave, so any solver
that converges finds the same estimate: the share is solved by safeguarded Newton steps (a handful of
passes instead of EM's dozens), the distribution by EM accelerated with SQUAREM (Varadhan & Roland 2008).

Every function works on a padded layout: ``G`` groups of up to ``m`` candidate reviews (their values in
``(G, m)`` arrays) and ``B`` weightings of them per group in ``weights`` ``(G, B, m)``: ``B = 1`` with
weights 0/1 is the groups' own estimate, ``B = n_boot`` with resample counts is the bootstrap. Sums over
candidates are matrix products, so the bootstrap of many small groups runs in BLAS rather than in Python.
"""

from __future__ import annotations

import numpy as np

#: Probabilities are kept this far from 0 and 1: a review the model is certain of must not make a
#: share of exactly 0 or 1 impossible (its likelihood would vanish).
EPS = 1e-6
#: The longest SQUAREM extrapolation, in EM steps: longer jumps overshoot on nearly flat posteriors.
STEP_MAX = 16.0


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-weighting means of ``values`` ``(G, m)`` or ``(G, m, K)`` under ``weights`` ``(G, B, m)``.

    Returns:
        ``(G, B)`` for ``(G, m)`` values, ``(G, B, K)`` for ``(G, m, K)`` values.
    """
    n = weights.sum(axis=-1)
    if values.ndim == 2:
        return (weights @ values[..., None])[..., 0] / n
    return (weights @ values) / n[..., None]


def prevalence(
    p: np.ndarray,
    weights: np.ndarray,
    *,
    centre: float,
    strength: float,
    start: np.ndarray,
    tol: float = 1e-7,
    max_iter: int = 40,
) -> np.ndarray:
    """MAP share positive of each weighting: the fixed point of the EM of Saerens et al.

    The EM step is ``theta <- T(theta) = (sum_i w_i posterior_i(theta) + a) / (n + strength)`` with
    ``a = strength * centre``; its fixed point maximises ``sum_i w_i log(theta p_i + (1 - theta)(1 - p_i))
    + a log theta + (strength - a) log(1 - theta)``. Newton's method on the residual ``T(theta) - theta``
    (bounded and smooth on [0, 1], unlike the log-posterior's slope) reaches it in a few steps; a
    bracket on its sign catches a step that overshoots.

    Args:
        p: ``(G, m)`` calibrated probabilities of *positive* (from a model trained on balanced data).
        weights: ``(G, B, m)`` non-negative weights (0 for padding).
        centre: The prior's centre, the pooled share.
        strength: The prior's weight in pseudo-reviews (0: maximum likelihood).
        start: ``(G, B)`` starting shares in ``(0, 1)``.
        tol: Stop when no share moves by more than this.
        max_iter: At most this many Newton steps.

    Returns:
        ``(G, B)`` shares in ``(0, 1)``.
    """
    dtype = weights.dtype
    p = np.clip(p, EPS, 1 - EPS).astype(dtype)
    slope, base = (2 * p - 1)[:, None, :], (1 - p)[:, None, :]
    p_col, pq_col = p[..., None], (p * (1 - p))[..., None]
    total = weights.sum(axis=-1, dtype=np.float64) + strength
    theta = np.clip(np.asarray(start, dtype=np.float64), 1e-9, 1 - 1e-9)
    lo, hi = np.zeros_like(theta), np.ones_like(theta)
    inv, w_inv = np.empty(weights.shape, dtype=dtype), np.empty(weights.shape, dtype=dtype)
    for _ in range(max_iter):
        # D_i = theta p_i + (1 - theta)(1 - p_i); posterior_i = theta p_i / D_i; its slope p_i (1 - p_i) / D_i^2.
        np.multiply(theta.astype(dtype)[..., None], slope, out=inv)
        np.add(inv, base, out=inv)
        np.reciprocal(inv, out=inv)
        np.multiply(weights, inv, out=w_inv)
        posterior = theta * (w_inv @ p_col)[..., 0]
        np.multiply(w_inv, inv, out=inv)
        residual = posterior + strength * centre - total * theta
        slope_t = (inv @ pq_col)[..., 0] - total
        lo = np.where(residual > 0, theta, lo)
        hi = np.where(residual < 0, theta, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = theta - residual / slope_t
        new = np.where((new > lo) & (new < hi), new, (lo + hi) / 2)
        new = np.where(residual == 0, theta, new)
        moved = np.abs(new - theta).max(initial=0.0)
        theta = new
        if moved < tol:
            break
    return np.clip(theta, 1e-9, 1 - 1e-9)


def distribution(
    likelihood: np.ndarray,
    weights: np.ndarray,
    *,
    centre: np.ndarray,
    strength: float,
    start: np.ndarray,
    tol: float = 1e-6,
    max_iter: int = 60,
) -> np.ndarray:
    """MAP distribution over star ratings of each weighting, by SQUAREM-accelerated EM.

    The EM step is ``pi(s) <- (pi(s) sum_i w_i L_i(s) / (L_i . pi) + strength centre(s)) / (n + strength)``,
    the mean posterior of each star with ``strength`` pseudo-reviews from ``centre`` added.

    Args:
        likelihood: ``(G, m, K)`` likelihood ratios ``q_i(s) / q_bar(s)`` (positive).
        weights: ``(G, B, m)`` non-negative weights (0 for padding).
        centre: ``(K,)`` the prior's centre, the pooled distribution.
        strength: The prior's weight in pseudo-reviews (0: maximum likelihood).
        start: ``(G, B, K)`` starting distributions (positive, rows summing to 1).
        tol: Stop when no probability moves by more than this.
        max_iter: At most this many SQUAREM cycles (three EM steps each).

    Returns:
        ``(G, B, K)`` distributions.
    """
    dtype = weights.dtype
    lik = likelihood.astype(dtype, copy=False)
    lik_t = np.ascontiguousarray(lik.transpose(0, 2, 1))  # a strided view would make matmul skip BLAS
    prior = (strength * np.asarray(centre)).astype(dtype)
    total = weights.sum(axis=-1, keepdims=True) + dtype.type(strength)

    # One (G, B, m) buffer reused by every step: allocating a fresh one each time costs more than the
    # arithmetic (page faults on tens of MB).
    ratio = np.empty(weights.shape, dtype=dtype)

    def em(pi: np.ndarray) -> np.ndarray:
        np.matmul(pi, lik_t, out=ratio)
        np.divide(weights, ratio, out=ratio)  # w_i / (L_i . pi)
        return (pi * (ratio @ lik) + prior) / total

    pi = np.asarray(start, dtype=dtype)
    for _ in range(max_iter):
        first = em(pi)
        second = em(first)
        r = first - pi
        v = second - first - r
        # The SQUAREM step length (scheme S3), never shorter than plain EM's (alpha = -1 gives `second`).
        rr = np.sqrt((r * r).sum(axis=-1, keepdims=True))
        vv = np.sqrt((v * v).sum(axis=-1, keepdims=True))
        alpha = np.clip(-rr / np.maximum(vv, np.finfo(dtype).tiny), -STEP_MAX, -1)
        jump = pi - 2 * alpha * r + alpha**2 * v
        # An extrapolation that leaves the simplex falls back to the two plain EM steps.
        feasible = (jump > 0).all(axis=-1, keepdims=True) & np.isfinite(jump).all(axis=-1, keepdims=True)
        new = em(np.where(feasible, jump, second))
        new /= new.sum(axis=-1, keepdims=True)
        moved = float(np.abs(new - pi).max(initial=0.0))
        pi = new
        if moved < tol:
            break
    return pi
