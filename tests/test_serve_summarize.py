"""Ratings in the HTTP API's predictions and ``POST /v1/summarize``; ``summarize_texts``, the library call behind it."""

from __future__ import annotations

import asyncio
import json
import re
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")

import httpx
from fastapi.testclient import TestClient

from conftest import make_rated_reviews
from imdb_sentiment import InputError, get_model_class, load_model, summarize, summarize_texts
from imdb_sentiment.audience.groups import ADJUSTMENTS
from imdb_sentiment.audience.summarize import SummarizeConfig
from imdb_sentiment.models.rating import STARS, median_stars, positive_mass
from imdb_sentiment.serving import ServeSettings, create_app
from imdb_sentiment.serving.schemas import SummarizeShape

SETTINGS = ServeSettings(max_chars=2_000, max_texts=4, max_summary_texts=40)
SCRIPT = "<script>alert(1)</script>"


def rated_reviews(n: int, seed: int = 5) -> list[dict]:
    """``n`` review objects: film A gets the good reviews, C the bad ones, the ``<script>`` group a mix."""
    texts, stars = make_rated_reviews(n, seed=seed)
    groups = np.where(stars >= 9, "A", np.where(stars <= 2, "C", SCRIPT))
    return [
        {"text": t, "group": str(g), "id": f"r{i}", "time": f"2024-{1 + i % 6:02d}-01"}
        for i, (t, g) in enumerate(zip(texts, groups, strict=True))
    ]


@pytest.fixture(scope="module")
def client(rated_toy_dir, toy_ngram_dir):
    """The rated toy model (served as ``rated``, the default) and the same model without a head (``toy``)."""
    return TestClient(create_app([rated_toy_dir, toy_ngram_dir], SETTINGS))


def details(response) -> list[dict]:
    body = response.json()
    assert isinstance(body["detail"], list), body
    return body["detail"]


# ---------------------------------------------------------------------------------------------------------
# The rating beside each prediction.


def test_predict_and_explain_give_the_models_rating_and_null_without_a_head(client, rated_toy_dir):
    texts = [r["text"] for r in rated_reviews(4)]
    model = load_model(rated_toy_dir)
    proba, stars = model.predict_proba_and_stars(texts)
    rated = client.post("/v1/predict", json={"texts": texts}).json()
    assert rated["model"] == "rated"
    assert [p["rating"] for p in rated["predictions"]] == median_stars(stars).tolist()
    assert [p["p_positive"] for p in rated["predictions"]] == proba[:, 1].tolist()
    assert {p["rating"] for p in rated["predictions"]} <= set(STARS)
    plain = client.post("/v1/predict", json={"texts": texts, "model": "toy"}).json()
    assert [p["rating"] for p in plain["predictions"]] == [None] * 4  # present, null: one schema for all
    assert [p["p_positive"] for p in plain["predictions"]] == proba[:, 1].tolist()

    explained = client.post("/v1/explain", json={"text": texts[0]}).json()
    assert explained["rating"] == median_stars(stars[:1])[0]
    # What it says about each aspect it names, each clause read by the rating head as summarize reads it.
    said = client.post("/v1/explain", json={"text": "The acting is superb, but the plot is dull."}).json()["aspects"]
    assert [(a["aspect"], a["term"], a["clause"]) for a in said] == [
        ("acting", "acting", "The acting is superb,"),
        ("story", "plot", "but the plot is dull."),
    ]
    assert all(a["label"] == ("positive" if a["p_positive"] >= 0.5 else "negative") for a in said)
    assert client.post("/v1/explain", json={"text": texts[0], "model": "toy"}).json()["rating"] is None
    models = {m["name"]: m["rates"] for m in client.get("/v1/models").json()}
    assert models == {"rated": True, "toy": False}


def test_the_openapi_document_states_the_rating_and_the_summary_bounds(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    rating = schemas["Prediction"]["properties"]["rating"]
    assert {"type": "integer", "minimum": 1, "maximum": 10} in rating["anyOf"] and "null" in rating["description"]
    request = schemas["SummarizeRequest"]["properties"]
    assert request["reviews"]["maxItems"] == SETTINGS.max_summary_texts
    assert request["adjust"]["enum"] == list(ADJUSTMENTS)  # the schema offers what the library accepts
    assert (request["examples"]["minimum"], request["examples"]["maximum"]) == (0, 5)
    assert request["adjust"]["default"] == SummarizeShape.model_fields["adjust"].default == SummarizeConfig().adjust


# ---------------------------------------------------------------------------------------------------------
# /v1/summarize


def test_summarize_gives_the_librarys_figures(client, rated_toy_dir):
    reviews = rated_reviews(40)
    response = client.post("/v1/summarize", json={"reviews": reviews, "adjust": "none", "examples": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = summarize_texts(
        load_model(rated_toy_dir),
        [r["text"] for r in reviews],
        [r["group"] for r in reviews],
        ids=[r["id"] for r in reviews],
        times=[r["time"] for r in reviews],
        config=SummarizeConfig(adjust="none", examples=2),
    )
    assert body == {"model": "rated", **expected}
    by = {g["group"]: g for g in body["groups"]}
    assert set(by) == {"A", "C", SCRIPT} and sum(g["n"] for g in body["groups"]) == 40
    assert by["A"]["mean_rating"] > by["C"]["mean_rating"] + 3  # plain means ("none"): pulled to the middle
    assert by["A"]["share_positive"] > 0.5 > by["C"]["share_positive"]
    assert set(by["A"]["stars"]) == {str(s) for s in STARS}
    # What each group's reviews clearly praise and criticise, as lists of aspects named in its aspect rows.
    named = {(a["group"], a["aspect"]) for a in body["aspects"]}
    assert all((g["group"], a) in named for g in body["groups"] for a in g["praised"] + g["criticised"])
    assert any(g["praised"] or g["criticised"] for g in body["groups"]) and not set(by["A"]["criticised"])
    assert {"story", "music"} <= {a["aspect"] for a in body["aspects"]}
    assert all(len(a["positive_examples"]) <= 2 for a in body["aspects"])
    example = next(e for a in body["aspects"] for e in a["positive_examples"])
    assert example["review_id"] in {r["id"] for r in reviews}
    assert body["trend"][0]["group"] is None and body["trend"][0]["period"] == "2024-01-01"


def test_reviews_without_groups_are_one_group_and_the_unnamed_are_none(client):
    reviews = [{"text": r["text"], "id": r["id"]} for r in rated_reviews(12)]
    response = client.post("/v1/summarize", json={"reviews": reviews})
    assert response.status_code == 200, response.text
    assert [(g["group"], g["n"]) for g in response.json()["groups"]] == [("all reviews", 12)]
    assert {a["group"] for a in response.json()["aspects"]} == {"all reviews"}
    reviews[0]["group"] = "A"
    response = client.post("/v1/summarize", json={"reviews": reviews})
    assert response.status_code == 200, response.text
    assert sorted((g["group"], g["n"]) for g in response.json()["groups"]) == [("(none)", 11), ("A", 1)]


def test_share_from_picks_which_probability_a_groups_share_comes_from(client, rated_toy_dir):
    reviews = rated_reviews(40)
    shares = {}
    for source in ("rating", "classifier"):
        body = {"reviews": reviews, "adjust": "none", "share_from": source}
        response = client.post("/v1/summarize", json=body)
        assert response.status_code == 200, response.text
        shares[source] = {g["group"]: g["share_positive"] for g in response.json()["groups"]}
    model = load_model(rated_toy_dir)
    texts, groups = [r["text"] for r in reviews], pd.Series([r["group"] for r in reviews])
    proba, stars = model.predict_proba_and_stars(texts)
    # Plain means ("none"): the mean of each review's P(positive) from the chosen source.
    assert shares["classifier"] == pytest.approx(pd.Series(proba[:, 1]).groupby(groups).mean().to_dict())
    assert shares["rating"] == pytest.approx(pd.Series(positive_mass(stars)).groupby(groups).mean().to_dict())
    assert shares["rating"] != pytest.approx(shares["classifier"])


def test_group_names_come_back_as_json_data_never_markup(client):
    reviews = [{**r, "group": SCRIPT} for r in rated_reviews(6)]
    response = client.post("/v1/summarize", json={"reviews": reviews})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert [g["group"] for g in response.json()["groups"]] == [SCRIPT]
    assert response.json()["trend"] is not None


def test_a_summary_without_ids_or_times_numbers_the_reviews_and_has_no_trend(client):
    reviews = [{"text": r["text"], "group": r["group"]} for r in rated_reviews(12)]
    body = client.post("/v1/summarize", json={"reviews": reviews, "examples": 5}).json()
    assert body["trend"] is None
    ids = {e["review_id"] for a in body["aspects"] for e in a["positive_examples"] + a["negative_examples"]}
    assert ids and ids <= {str(i) for i in range(1, 13)}


@pytest.mark.parametrize(
    ("body", "loc", "needle"),
    [
        ({"adjust": "median"}, ["body", "adjust"], "Input should be 'em'"),
        ({"share_from": "votes"}, ["body", "share_from"], "Input should be 'rating'"),
        ({"examples": 6}, ["body", "examples"], "less than or equal to 5"),
        ({"examples": True}, ["body", "examples"], "valid integer"),
        ({"extra": 1}, ["body", "extra"], "Extra inputs"),
        ({"reviews": []}, ["body", "reviews"], "at least 1"),
        ({"reviews": [{"text": "A fine film.", "group": ""}]}, ["body", "reviews", 0, "group"], "at least 1"),
        ({"reviews": [{"text": "   ", "group": "A"}]}, ["body", "reviews", 0, "text"], "empty"),
        ({"reviews": [{"text": "x" * 2_001, "group": "A"}]}, ["body", "reviews", 0, "text"], "MAX_CHARS"),
        ({"reviews": [{"text": "A fine film.", "group": 3}]}, ["body", "reviews", 0, "group"], "valid string"),
        ({"reviews": [{"text": "A fine film.", "group": "g" * 201}]}, ["body", "reviews", 0, "group"], "at most 200"),
        ({"reviews": [{"text": "fine", "group": "A"}] * 41}, ["body", "reviews"], "MAX_SUMMARY_TEXTS"),
    ],
)
def test_bad_summary_requests_are_422_with_a_reason(client, body, loc, needle):
    request = {"reviews": rated_reviews(3), **body}
    response = client.post("/v1/summarize", json=request)
    assert response.status_code == 422, response.text
    (problem,) = [d for d in details(response) if d["loc"] == loc]
    assert needle in problem["msg"]
    assert "x" * 100 not in response.text  # the input is not echoed


def test_a_model_without_rating_head_a_bad_time_and_an_unknown_model(client):
    response = client.post("/v1/summarize", json={"reviews": rated_reviews(3), "model": "toy"})
    assert response.status_code == 422
    assert "model 'toy' has no rating head" in details(response)[0]["msg"]
    reviews = rated_reviews(3)
    reviews[1]["time"] = "{last} tuesday"  # braces: the message is not a template
    response = client.post("/v1/summarize", json={"reviews": reviews})
    assert response.status_code == 422
    (problem,) = details(response)
    assert problem["loc"] == ["body", "reviews", 1, "time"] and problem["type"] == "time_format"
    assert problem["msg"].startswith("'{last} tuesday' is not an ISO 8601 date or time")
    missing = client.post("/v1/summarize", json={"reviews": rated_reviews(3), "model": "nope"})
    assert missing.status_code == 404 and "rated, toy" in missing.json()["detail"]


def test_summaries_have_a_body_limit_of_their_own(client):
    """A summary may carry MAX_SUMMARY_TEXTS reviews, so its body limit is larger than predict's."""
    reviews = [{"text": "y" * 1_500 + " a fine story.", "group": "A"} for _ in range(20)]
    size = len(json.dumps({"reviews": reviews}))
    assert SETTINGS.body_limit < size < SETTINGS.summary_body_limit
    assert client.post("/v1/summarize", json={"reviews": reviews}).status_code == 200
    texts = {"texts": [r["text"] for r in reviews[:4]] * 4}
    assert client.post("/v1/predict", json=texts).status_code == 413
    huge = [{"text": "y" * 1_999, "group": "A"}] * 40 + [{"text": "y" * 1_999, "group": "A"}] * 20
    response = client.post("/v1/summarize", json={"reviews": huge})
    assert response.status_code == 413 and "MAX_BODY_BYTES" in response.json()["detail"]


def test_the_summary_limits_default_and_follow_max_body_bytes():
    settings = ServeSettings()
    assert settings.max_summary_texts == 2048
    assert settings.summary_body_limit == 100_000 * 4 + 2048 * 2048 + 4096
    assert ServeSettings(max_body_bytes=123).summary_body_limit == 123


# ---------------------------------------------------------------------------------------------------------
# Overload: a summary's reviews queue with the predictions.


@pytest.fixture
def slow_model(monkeypatch):
    """Every ngram call takes 0.4 s, in the threadpool, so requests pile up in the queue."""
    cls = get_model_class("ngram")
    predict_proba = cls.predict_proba

    def slow_predict(self, texts):
        time.sleep(0.4)
        return predict_proba(self, texts)

    monkeypatch.setattr(cls, "cheap_calls", False)
    monkeypatch.setattr(cls, "predict_proba", slow_predict)


def test_a_summary_counts_against_the_models_queue_and_gets_503_when_full(rated_toy_dir, slow_model):
    app = create_app([rated_toy_dir], ServeSettings(max_summary_texts=40, max_queue_texts=3))
    texts = [r["text"] for r in rated_reviews(3)]

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api", timeout=30) as client:
            first = asyncio.ensure_future(client.post("/v1/predict", json={"texts": texts[:1]}))
            await asyncio.sleep(0.1)  # in its round: no longer waiting
            second = asyncio.ensure_future(client.post("/v1/predict", json={"texts": texts[:2]}))
            await asyncio.sleep(0.1)  # waiting: 2 of the 3 reviews the queue holds
            refused = await client.post("/v1/summarize", json={"reviews": rated_reviews(2)})
            return refused, await first, await second

    refused, first, second = asyncio.run(main())
    assert (first.status_code, second.status_code) == (200, 200)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "reviews are already waiting" in refused.json()["detail"]


def test_a_slow_summary_is_a_504(rated_toy_dir, slow_model):
    app = create_app([rated_toy_dir], ServeSettings(request_timeout_s=0.2))
    response = TestClient(app).post("/v1/summarize", json={"reviews": rated_reviews(3)})
    assert response.status_code == 504 and "REQUEST_TIMEOUT_S" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------------------
# summarize_texts, the library call.


def test_summarize_texts_gives_what_summarize_writes_for_a_file(rated_toy_dir, tmp_path):
    reviews = rated_reviews(60, seed=7)
    frame = pd.DataFrame(reviews)
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    config = SummarizeConfig(group_column="group", time_column="time", id_column="id", n_boot=30, examples=2)
    summarize(rated_toy_dir, tmp_path / "reviews.csv", tmp_path / "out", config, progress=False)
    result = summarize_texts(
        rated_toy_dir, list(frame["text"]), list(frame["group"]), list(frame["id"]), list(frame["time"]), config
    )
    json.dumps(result, allow_nan=False)  # plain JSON: no NaN, no NumPy types
    groups = pd.read_csv(tmp_path / "out" / "groups.csv", keep_default_na=False)
    assert [g["group"] for g in result["groups"]] == list(groups["group"])
    for got, (_, row) in zip(result["groups"], groups.iterrows(), strict=True):
        assert got["n"] == row["n"]
        for column in ("share_positive", "share_positive_low", "mean_rating", "mean_rating_high"):
            assert got[column] == pytest.approx(row[column], rel=1e-6)
        assert got["stars"]["10"] == pytest.approx(row["stars_10"], rel=1e-6)
    aspects = pd.read_csv(tmp_path / "out" / "aspects.csv", keep_default_na=False)
    assert [(a["group"], a["aspect"], a["mentions"]) for a in result["aspects"]] == list(
        aspects[["group", "aspect", "mentions"]].itertuples(index=False, name=None)
    )
    first = result["aspects"][0]
    assert [e["text"] for e in first["positive_examples"]] == [
        e["text"] for e in json.loads(aspects.loc[0, "positive_examples"])
    ]
    assert result["trend"] and len({t["freq"] for t in result["trend"]}) == 1


def test_summarize_texts_without_resamples_gives_null_intervals(rated_toy_dir):
    texts = [r["text"] for r in rated_reviews(10)]
    result = summarize_texts(load_model(rated_toy_dir), texts, ["g"] * 10, config=SummarizeConfig(n_boot=0))
    (group,) = result["groups"]
    assert group["n"] == 10 and group["share_positive_low"] is None and group["mean_rating"] > 1
    assert result["trend"] is None
    assert sum(group["stars"].values()) == pytest.approx(1.0)


def test_summarize_texts_refuses_bad_input_in_one_line(rated_toy_dir, toy_ngram_dir):
    model = load_model(rated_toy_dir)
    with pytest.raises(InputError, match="got one string; wrap it in a list"):
        summarize_texts(model, "A fine film.", ["A"])
    with pytest.raises(InputError, match="at least one review"):
        summarize_texts(model, [], [])
    with pytest.raises(InputError, match="one of groups per review: a list of 2, got 1"):
        summarize_texts(model, ["A fine film.", "A dull one."], ["A"])
    with pytest.raises(InputError, match="review 2 is empty"):
        summarize_texts(model, ["A fine film.", " "], ["A", "B"])
    with pytest.raises(InputError, match="review 1's time '2024-13-45' is not an ISO 8601"):
        summarize_texts(model, ["A fine film."], ["A"], times=["2024-13-45"])
    with pytest.raises(InputError, match=re.escape("review 2's time '{x}' is not an ISO 8601")):
        summarize_texts(model, ["A fine film.", "A dull one."], ["A", "B"], times=["2024-05-01", "{x}"])
    with pytest.raises(InputError, match="no rating head; add one with `imdb-sentiment train-rating"):
        summarize_texts(toy_ngram_dir, ["A fine film."], ["A"])
