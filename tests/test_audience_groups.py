"""Per-group estimates (audience/groups.py, resample.py, quantify.py) on simulated reviews with known
truths (simulated by ``audience_sim``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audience_sim import STARS, binary_reviews, star_reviews, times
from imdb_sentiment.audience import resample
from imdb_sentiment.audience.groups import summarize_groups, trend
from imdb_sentiment.errors import ConfigError, InputError


def test_columns_order_and_true_figures():
    frame, _ = star_reviews(3, 4)
    frame = pd.concat([frame, frame[frame.group == "g0002"].head(2)], ignore_index=True)  # g0002: 6 reviews
    out = summarize_groups(frame, stars=STARS, n_boot=20)
    stars = [f"stars_{s}" for s in STARS]
    assert list(out.columns) == [
        "group", "n", "share_positive", "share_positive_low", "share_positive_high",
        "mean_rating", "mean_rating_low", "mean_rating_high", *stars,
        "true_share_positive", "true_mean_rating", *[f"true_{c}" for c in stars],
    ]  # fmt: skip
    assert out["group"].tolist() == ["g0002", "g0000", "g0001"] and out["n"].tolist() == [6, 4, 4]
    np.testing.assert_allclose(out[stars].sum(axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(out["mean_rating"], out[stars].to_numpy() @ STARS)
    true = frame.groupby("group").agg(share=("label", "mean"), rating=("true_rating", "mean"))
    np.testing.assert_allclose(out.set_index("group").loc[true.index, "true_share_positive"], true["share"])
    np.testing.assert_allclose(out.set_index("group").loc[true.index, "true_mean_rating"], true["rating"])
    assert (out["share_positive_low"] <= out["share_positive"]).all() and (
        out["share_positive"] <= out["share_positive_high"]
    ).all()
    assert (out["mean_rating_low"] <= out["mean_rating"]).all() and (
        out["mean_rating"] <= out["mean_rating_high"]
    ).all()


def test_no_adjustment_gives_plain_means():
    frame, _ = star_reviews(5, 7, seed=1)
    out = summarize_groups(frame, stars=STARS, adjust="none", n_boot=0).set_index("group").sort_index()
    stars = [f"stars_{s}" for s in STARS]
    means = frame.groupby("group")[["p_positive", *stars]].mean()
    np.testing.assert_allclose(out["share_positive"], means["p_positive"])
    np.testing.assert_allclose(out[stars], means[stars], atol=1e-8)
    expected = (frame[stars].to_numpy() @ STARS).reshape(5, 7).mean(axis=1)
    np.testing.assert_allclose(out["mean_rating"], expected, atol=1e-6)
    assert out[["share_positive_low", "mean_rating_high"]].isna().all().all()  # n_boot=0: no intervals


def test_em_estimates_are_the_em_fixed_points():
    frame, _ = star_reviews(6, 30, seed=2)
    s, r = 2.0, 3.0
    out = summarize_groups(frame, stars=STARS, share_prior=s, rating_prior=r, n_boot=0).set_index("group")
    p = frame["p_positive"].to_numpy()
    centre = summarize_groups(frame.assign(group="all"), stars=STARS, share_prior=0, n_boot=0)["share_positive"][0]
    q = frame[[f"stars_{k}" for k in STARS]].to_numpy()
    q_bar = q.mean(axis=0)
    for name, rows in frame.groupby("group").groups.items():
        theta, pi = out.loc[name, "share_positive"], out.loc[name, [f"stars_{k}" for k in STARS]].to_numpy(float)
        pr = p[rows]
        posterior = theta * pr / (theta * pr + (1 - theta) * (1 - pr))
        assert theta == pytest.approx((posterior.sum() + s * centre) / (len(pr) + s), abs=1e-7)
        lik = q[rows] / q_bar
        step = (pi * (lik / (lik @ pi)[:, None]).sum(axis=0) + r * q_bar) / (len(pr) + r)
        np.testing.assert_allclose(step, pi, atol=1e-6)


def test_em_recovers_a_shifted_share_better_than_the_mean():
    theta = np.linspace(0.05, 0.95, 19)
    frame = binary_reviews(theta, 300, b=1.0, seed=3)  # a weak model: its mean p is pulled towards 0.5
    em = summarize_groups(frame, stars=[1, 10], n_boot=0).sort_values("group")["share_positive"].to_numpy()
    naive = summarize_groups(frame, stars=[1, 10], adjust="none", n_boot=0).sort_values("group")["share_positive"]
    em_error, naive_error = np.abs(em - theta).mean(), np.abs(naive.to_numpy() - theta).mean()
    assert em_error < 0.05 and em_error < naive_error / 3, (em_error, naive_error)


def test_ratings_recover_the_truth_better_with_em():
    frame, truth = star_reviews(200, 60, seed=4)
    errors = {}
    for adjust in ("em", "none"):
        out = summarize_groups(frame, stars=STARS, adjust=adjust, n_boot=0).merge(truth, on="group")
        errors[adjust] = (out["mean_rating"] - out["rating"]).abs().mean()
    assert errors["em"] < 0.8 * errors["none"], errors


def test_intervals_cover_the_true_share():
    rng = np.random.default_rng(5)
    theta = rng.uniform(0.1, 0.9, 300)
    frame = binary_reviews(theta, 40, seed=5)
    out = summarize_groups(frame, stars=[1, 10]).sort_values("group")
    covered = (out["share_positive_low"].to_numpy() <= theta) & (theta <= out["share_positive_high"].to_numpy())
    assert covered.mean() >= 0.85, covered.mean()  # 0.94 when written


def test_intervals_cover_the_true_mean_rating():
    frame, truth = star_reviews(300, 60, seed=3)
    out = summarize_groups(frame, stars=STARS).merge(truth, on="group")
    covered = (out["mean_rating_low"] <= out["rating"]) & (out["rating"] <= out["mean_rating_high"])
    share = (out["share_positive_low"] <= out["theta"]) & (out["theta"] <= out["share_positive_high"])
    assert covered.mean() >= 0.85 and share.mean() >= 0.85, (covered.mean(), share.mean())


def test_small_groups_lean_on_the_pool_and_large_ones_on_their_reviews():
    frame = binary_reviews([0.3] * 20 + [0.9], [50] * 20 + [2000], seed=6)
    single = frame.iloc[[0]].assign(group="single", p_positive=0.99)
    frame = pd.concat([frame, single], ignore_index=True)
    out = summarize_groups(frame, stars=[1, 10], n_boot=100).set_index("group")
    pooled = summarize_groups(frame.assign(group="all"), stars=[1, 10], n_boot=0)["share_positive"][0]
    assert abs(out.loc["single", "share_positive"] - pooled) < abs(out.loc["single", "share_positive"] - 0.99)
    free = summarize_groups(frame, stars=[1, 10], share_prior=0, n_boot=0).set_index("group")
    assert out.loc["g0020", "share_positive"] == pytest.approx(free.loc["g0020", "share_positive"], abs=0.002)
    # One review says little: its interval is wide, for the share and for the rating.
    assert out.loc["single", "share_positive_high"] - out.loc["single", "share_positive_low"] > 0.2
    assert out.loc["single", "mean_rating_high"] - out.loc["single", "mean_rating_low"] > 1.0
    assert out.loc["g0020", "share_positive_high"] - out.loc["g0020", "share_positive_low"] < 0.1


def test_resampling_is_seeded():
    frame, _ = star_reviews(30, 12, seed=7)
    first, again = summarize_groups(frame, stars=STARS, seed=1), summarize_groups(frame, stars=STARS, seed=1)
    pd.testing.assert_frame_equal(first, again)
    other = summarize_groups(frame, stars=STARS, seed=2)
    assert not np.allclose(first["share_positive_low"], other["share_positive_low"])
    pd.testing.assert_series_equal(first["share_positive"], other["share_positive"])


def test_a_large_group_is_resampled_in_slices(monkeypatch):
    frame = binary_reviews([0.6, 0.3], [3000, 40], seed=8)
    whole = summarize_groups(frame, stars=[1, 10]).set_index("group")
    monkeypatch.setattr(resample, "BLOCK", 20_000)  # a few resamples of the large group per block
    sliced = summarize_groups(frame, stars=[1, 10]).set_index("group")
    pd.testing.assert_series_equal(whole["share_positive"], sliced["share_positive"])
    for column in ("share_positive_low", "share_positive_high"):
        np.testing.assert_allclose(whole[column], sliced[column], atol=0.03)


def test_no_reviews_gives_an_empty_table():
    frame = binary_reviews([0.5], [3]).iloc[:0]
    out = summarize_groups(frame, stars=[1, 10])
    assert out.empty and {"group", "n", "share_positive", "stars_10", "true_share_positive"} <= set(out.columns)


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "words"),
    [
        (lambda f: f.drop(columns="stars_10"), {}, InputError, "stars_10"),
        (lambda f: f.assign(p_positive=f["p_positive"].where(f.index != 2, 1.5)), {}, InputError, "row 2"),
        (lambda f: f.assign(stars_1=0.1, stars_10=0.2), {}, InputError, "summing to 1"),
        (lambda f: f.assign(group=f["group"].where(f.index != 1, None)), {}, InputError, "no group"),
        (lambda f: f, {"adjust": "bayes"}, ConfigError, "adjust"),
        (lambda f: f, {"level": 1.5}, ConfigError, "level"),
        (lambda f: f, {"share_prior": -1}, ConfigError, "share_prior"),
        (lambda f: f, {"rating_error": -0.1}, ConfigError, "rating_error"),
        (lambda f: f, {"stars": [10]}, ConfigError, "two distinct"),
    ],
)
def test_bad_input_is_refused_with_a_message(change, kwargs, error, words):
    frame = change(binary_reviews([0.5, 0.5], [3, 3]))
    with pytest.raises(error, match=words):
        summarize_groups(frame, **{"stars": [1, 10], **kwargs})


@pytest.mark.parametrize(
    ("days", "freq"), [(25, "day"), (300, "week"), (1500, "month"), (4000, "quarter"), (9000, "year")]
)
def test_trend_chooses_a_period_giving_at_most_60(days, freq):
    frame, _ = star_reviews(4, 100, seed=9)
    out = trend(frame, times(days, len(frame)), n_boot=10)
    assert set(out["freq"]) == {freq}
    assert len(out) <= 60 and out["n"].sum() == len(frame)
    assert out["group"].isna().all() and out["period"].is_monotonic_increasing


def test_trend_fills_empty_periods_and_adds_the_largest_groups():
    frame, _ = star_reviews(3, 20, seed=10)
    frame = pd.concat([frame, frame[frame.group == "g0001"]], ignore_index=True)  # g0001 is the largest
    when = pd.Series(pd.to_datetime(["2021-01-05"] * 30 + ["2021-03-20"] * 49 + [None]))
    out = trend(frame, when, freq="month", top_groups=1, n_boot=20)
    everyone, largest = out[out["group"].isna()], out[out["group"].notna()]
    assert everyone["n"].tolist() == [30, 0, 49] and everyone["period"].dt.month.tolist() == [1, 2, 3]
    assert everyone.iloc[1][["share_positive", "mean_rating_low"]].isna().all()
    assert set(largest["group"]) == {"g0001"} and largest["n"].sum() == (frame.iloc[:79].group == "g0001").sum()
    row = everyone.iloc[2]
    assert row["share_positive_low"] <= row["share_positive"] <= row["share_positive_high"]
    assert row["share_positive"] == pytest.approx(frame.iloc[30:79]["p_positive"].mean())


def test_trend_without_star_columns_and_its_errors():
    frame = binary_reviews([0.5], [20])[["group", "p_positive"]]
    out = trend(frame, times(40, 20), n_boot=5)
    assert out["mean_rating"].isna().all() and out["share_positive"].notna().any()
    with pytest.raises(ConfigError, match="freq"):
        trend(frame, times(40, 20), freq="fortnight")
    with pytest.raises(InputError, match="one time per review"):
        trend(frame, times(40, 19))


def test_share_adjusts_the_share_like_em_and_keeps_the_plain_star_means():
    frame, _ = star_reviews(50, 30, seed=6)
    em = summarize_groups(frame, stars=STARS, adjust="em", n_boot=0)
    plain = summarize_groups(frame, stars=STARS, adjust="none", n_boot=0)
    share = summarize_groups(frame, stars=STARS, adjust="share", n_boot=0)
    np.testing.assert_allclose(share["share_positive"], em["share_positive"])
    np.testing.assert_allclose(share["mean_rating"], plain["mean_rating"])
    assert not np.allclose(share["share_positive"], plain["share_positive"])


def test_sides_corrects_the_share_like_em_and_rates_each_side_by_its_reviews_there():
    frame, truth = star_reviews(200, 60, seed=4)
    em = summarize_groups(frame, stars=STARS, adjust="em", n_boot=0)
    sides = summarize_groups(frame, stars=STARS, adjust="sides", n_boot=0)
    plain = summarize_groups(frame, stars=STARS, adjust="none", n_boot=0)
    np.testing.assert_allclose(sides["share_positive"], em["share_positive"])
    dist = sides[[f"stars_{k}" for k in STARS]].to_numpy()
    positive = np.array(STARS) >= 7
    # The distribution holds the corrected share on the positive side ...
    np.testing.assert_allclose(dist[:, positive].sum(axis=1), sides["share_positive"])
    np.testing.assert_allclose(sides["mean_rating"], dist @ np.array(STARS))
    # ... spread over that side's stars as the group's reviews spread their own mass there.
    mean = plain[[f"stars_{k}" for k in STARS]].to_numpy()
    np.testing.assert_allclose(
        dist[:, positive] / dist[:, positive].sum(axis=1, keepdims=True),
        mean[:, positive] / mean[:, positive].sum(axis=1, keepdims=True),
    )
    errors = {
        name: (out.merge(truth, on="group")["mean_rating"] - out.merge(truth, on="group")["rating"]).abs().mean()
        for name, out in (("sides", sides), ("em", em), ("none", plain))
    }
    assert errors["sides"] < 0.8 * errors["none"] and errors["sides"] < 1.1 * errors["em"], errors


def test_a_share_interval_within_half_a_review_of_an_end_is_closed_there():
    # Twenty reviews every one of which the model reads as surely positive, and twenty as surely negative.
    n = 20
    p = np.r_[np.full(n, 0.995), np.full(n, 0.005)]
    frame = pd.DataFrame({"group": ["all"] * n + ["none"] * n, "p_positive": p, "stars_1": 1 - p, "stars_10": p})
    out = summarize_groups(frame, stars=[1, 10], share_prior=0.1, n_boot=200).set_index("group")
    assert out.loc["all", "share_positive_high"] == 1.0 and out.loc["all", "share_positive"] < 1.0
    assert out.loc["none", "share_positive_low"] == 0.0 and out.loc["none", "share_positive"] > 0.0
    # A group in the middle keeps its percentile interval.
    middle = binary_reviews([0.5], [n], seed=1)
    out = summarize_groups(middle, stars=[1, 10], n_boot=200)
    assert 0.0 < out.loc[0, "share_positive_low"] < out.loc[0, "share_positive_high"] < 1.0


def test_the_model_error_widens_only_the_mean_ratings_interval_in_quadrature():
    frame, _ = star_reviews(40, 30, seed=5)
    plain = summarize_groups(frame, stars=STARS, n_boot=100)
    wide = summarize_groups(frame, stars=STARS, n_boot=100, rating_error=0.4)
    same = ["group", "n", "share_positive", "share_positive_low", "share_positive_high", "mean_rating"]
    pd.testing.assert_frame_equal(plain[same], wide[same])
    spread = 1.959964 * 0.4  # the 95% level's z times the error
    below = np.hypot(plain["mean_rating"] - plain["mean_rating_low"], spread)
    above = np.hypot(plain["mean_rating_high"] - plain["mean_rating"], spread)
    np.testing.assert_allclose(wide["mean_rating_low"], np.maximum(plain["mean_rating"] - below, 1), atol=1e-6)
    np.testing.assert_allclose(wide["mean_rating_high"], np.minimum(plain["mean_rating"] + above, 10), atol=1e-6)
    assert (
        wide["mean_rating_high"] - wide["mean_rating_low"] > plain["mean_rating_high"] - plain["mean_rating_low"]
    ).all()


def test_a_widened_rating_interval_stays_on_the_star_scale_and_holds_the_estimate():
    low, high = resample.widen_rating_interval(
        np.array([1.2, 5.0, 9.9]), np.array([1.0, 5.5, 9.5]), np.array([2.0, 6.0, 10.0]), 1.0, stars=STARS
    )
    assert low[0] == 1.0 and high[2] == 10.0  # clipped to 1-10 stars
    assert low[1] < 5.0 - 1.9 and high[1] > 6.0  # an interval that missed its estimate now holds it, widened
    same = resample.widen_rating_interval(np.array([5.0]), np.array([4.0]), np.array([6.5]), 0.0, stars=STARS)
    assert (same[0][0], same[1][0]) == (4.0, 6.5)
