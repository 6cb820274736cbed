"""Who may call the HTTP API (the API key, the refusal to listen openly without one) and what a 500 tells."""

from __future__ import annotations

import logging
import socket

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from imdb_sentiment import ModelError, get_model_class
from imdb_sentiment.cli import app as cli_app
from imdb_sentiment.serving import ServeSettings, create_app
from serve_models import tiny_ngram

KEY = "s3cret-key-for-tests"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_ngram(tmp_path_factory.mktemp("security"))


@pytest.fixture(scope="module")
def locked(model_dir):
    return TestClient(create_app([model_dir], ServeSettings(api_key=KEY)))


# ---------------------------------------------------------------------------------------------------------
# The API key.


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("POST", "/v1/predict", {"texts": ["good"]}),
        ("POST", "/v1/explain", {"text": "good"}),
        ("GET", "/v1/models", None),
        ("GET", "/openapi.json", None),
        ("GET", "/docs", None),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}, {"X-API-Key": ""}],
)
def test_every_route_but_health_needs_the_key(locked, method, route, body, headers):
    response = locked.request(method, route, json=body, headers=headers)
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("headers", [{"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}])
def test_the_key_opens_every_route(locked, headers):
    assert locked.post("/v1/predict", json={"texts": ["good"]}, headers=headers).status_code == 200
    assert locked.post("/v1/explain", json={"text": "good"}, headers=headers).status_code == 200
    assert locked.get("/v1/models", headers=headers).status_code == 200
    assert "401" in locked.get("/openapi.json", headers=headers).json()["paths"]["/v1/predict"]["post"]["responses"]


def test_health_needs_no_key(locked):
    assert locked.get("/health").status_code == 200


def test_an_unauthorised_body_is_not_read(locked):
    # Refused on its headers: the 401 comes before the body limit (413) could even look at the body.
    response = locked.post("/v1/predict", content=b"x" * 2_000_000, headers={"content-type": "application/json"})
    assert response.status_code == 401


def test_the_key_comes_from_the_environment_and_never_shows(monkeypatch):
    monkeypatch.setenv("IMDB_SENTIMENT_API_KEY", KEY)
    settings = ServeSettings.from_env()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == KEY
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())


def test_no_key_by_default_leaves_the_api_open(model_dir):
    assert ServeSettings().api_key is None
    assert TestClient(create_app([model_dir], ServeSettings())).get("/v1/models").status_code == 200


# ---------------------------------------------------------------------------------------------------------
# `serve` refuses to listen beyond loopback without a key.


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return str(probe.getsockname()[1])


@pytest.fixture
def no_uvicorn(monkeypatch):
    import uvicorn

    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(options))
    monkeypatch.delenv("IMDB_SENTIMENT_API_KEY", raising=False)
    return runs


def test_serve_on_every_interface_without_a_key_is_refused_in_one_line(model_dir, no_uvicorn):
    result = CliRunner().invoke(cli_app, ["serve", str(model_dir), "--host", "0.0.0.0", "--port", free_port()])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "IMDB_SENTIMENT_API_KEY" in lines[0] and "--insecure-no-key" in lines[0]
    assert no_uvicorn == []


@pytest.mark.parametrize(
    ("args", "env_key"),
    [
        (["--host", "0.0.0.0", "--insecure-no-key"], None),
        (["--host", "0.0.0.0"], KEY),
        (["--host", "127.0.0.1"], None),
        (["--host", "localhost"], None),
    ],
)
def test_serve_starts_with_a_key_on_loopback_or_when_told(model_dir, no_uvicorn, monkeypatch, args, env_key):
    if env_key:
        monkeypatch.setenv("IMDB_SENTIMENT_API_KEY", env_key)
    result = CliRunner().invoke(cli_app, ["serve", str(model_dir), "--port", free_port(), *args])
    assert result.exit_code == 0, result.output
    assert len(no_uvicorn) == 1


# ---------------------------------------------------------------------------------------------------------
# 500s: a request id, never the exception's text.


@pytest.mark.parametrize("error", [RuntimeError, ModelError, FileNotFoundError])
def test_a_500_names_a_request_id_and_nothing_about_the_server(model_dir, monkeypatch, caplog, error):
    def broken(self, texts):
        raise error("cannot open /srv/secret/weights.npz")

    monkeypatch.setattr(get_model_class("ngram"), "predict_proba", broken)
    client = TestClient(create_app([model_dir], ServeSettings()), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="imdb_sentiment.serving"):
        response = client.post("/v1/predict", json={"texts": ["good"]})
    assert response.status_code == 500
    assert "/srv/secret" not in response.text and "Traceback" not in response.text
    request_id = response.json()["request_id"]
    assert request_id in response.json()["detail"]
    assert response.headers["x-request-id"] == request_id
    (record,) = [r for r in caplog.records if request_id in r.getMessage()]
    assert "/srv/secret/weights.npz" in record.getMessage() and record.exc_info is not None


def test_worker_processes_get_the_key_itself_not_its_mask(model_dir, no_uvicorn, monkeypatch):
    import os

    from imdb_sentiment.serving import api

    # run() hands the settings to its worker processes through the environment: restore it afterwards.
    # (setenv first: delenv of an unset variable records nothing to undo.)
    for name in [*ServeSettings.model_fields, "serve_models"]:
        monkeypatch.setenv(f"IMDB_SENTIMENT_{name.upper()}", "")
        monkeypatch.delenv(f"IMDB_SENTIMENT_{name.upper()}")
    api.run([model_dir], "127.0.0.1", int(free_port()), settings=ServeSettings(api_key=KEY), workers=2)
    assert os.environ["IMDB_SENTIMENT_API_KEY"] == KEY
    assert "IMDB_SENTIMENT_MAX_BODY_BYTES" not in os.environ  # unset: each worker derives it too
    worker = TestClient(api.app_from_env())
    assert worker.get("/v1/models").status_code == 401
    assert worker.get("/v1/models", headers={"X-API-Key": KEY}).status_code == 200
