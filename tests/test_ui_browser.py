"""End to end: ``imdb-sentiment app`` in a subprocess, driven in headless Chromium by Playwright.

The browser is the system's Chromium (Debian package ``chromium``), never one Playwright downloads. When it
is missing the test tries ``apt-get install -y chromium`` (as root) and skips, saying why, only if that fails;
``$IMDB_SENTIMENT_CHROMIUM`` names another Chromium or Chrome binary.
Screenshots are kept under ``tmp_path`` and copied to ``$IMDB_SENTIMENT_ARTIFACTS`` when it is set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the app extra is not installed: pip install -e '.[app]'")
pytest.importorskip("playwright", reason="playwright is not installed: pip install -e '.[dev]'")

from playwright.sync_api import expect, sync_playwright

from conftest import make_toy_reviews
from imdb_sentiment import NgramConfig, get_model_class

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: Seconds to wait for the server to answer and for each page to show its results.
STARTUP_S = 120
STEP_MS = 60_000


def find_chromium() -> str | None:
    """The first of :data:`BROWSERS` on the PATH."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def install_chromium() -> str:
    """Try to install Debian's ``chromium``; returns why it failed (empty on success)."""
    if shutil.which("apt-get") is None:
        return "there is no apt-get"
    if os.geteuid() != 0:
        return "apt-get needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    last = ""
    # Installing straight away works when the package lists are there; otherwise update them first.
    for command in (
        ["apt-get", "install", "-y", "chromium"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "chromium"],
    ):
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            return f"{' '.join(command)} took over 15 minutes"
        if done.returncode == 0 and command[1] == "install":
            return ""
        last = ((done.stderr or done.stdout).strip().splitlines() or ["no output"])[-1]
    return f"apt-get install -y chromium failed: {last}"


@pytest.fixture(scope="module")
def chromium() -> str:
    """``$IMDB_SENTIMENT_CHROMIUM``, else the system Chromium, installed with apt-get if need be."""
    chosen = os.environ.get("IMDB_SENTIMENT_CHROMIUM")
    if chosen:
        if not Path(chosen).is_file():
            pytest.skip(f"IMDB_SENTIMENT_CHROMIUM={chosen} is not a file")
        return chosen
    path = find_chromium()
    if path is None:
        reason = install_chromium()
        path = find_chromium()
        if path is None:
            pytest.skip(
                f"no Chromium browser: none of {', '.join(BROWSERS)} is on the PATH, "
                f"and {reason or 'installing the chromium package did not provide one'}"
            )
    return path


@contextlib.contextmanager
def running_app(model_dir: Path, root: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """``imdb-sentiment app MODEL_DIR`` on a free loopback port, its log in ``root``; yields its URL and process.

    The CLI becomes Streamlit in its own session; on the way out the session's process group is ended.
    """
    port = free_port()
    log_path = root / "app.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "imdb_sentiment.cli", "app", str(model_dir), "--port", str(port)],
            cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, process, log_path)
            yield url, process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    """``imdb-sentiment app`` over one tiny ngram model, on a free loopback port; yields its URL."""
    root = tmp_path_factory.mktemp("ui-browser")
    texts, labels = make_toy_reviews(80, seed=0)
    model = get_model_class("ngram")(config=NgramConfig(n_bits=14)).fit(texts, labels).save(root / "ngram")
    with running_app(model, root) as (url, _):
        yield url


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the app did not answer within {STARTUP_S} s:\n{log.read_text()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keep(screenshot: Path) -> None:
    target = os.environ.get("IMDB_SENTIMENT_ARTIFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy2(screenshot, Path(target) / screenshot.name)


def test_analyse_and_batch_in_a_real_browser(chromium, served_app, tmp_path):
    review = "A wonderful, superb film; I loved it. <script>alert('x')</script> A brilliant masterpiece."
    csv = tmp_path / "reviews.csv"
    texts, _ = make_toy_reviews(6, seed=5)
    pd.DataFrame({"id": range(6), "review": texts}).to_csv(csv, index=False)
    dialogs: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(STEP_MS)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            # Analyse: type a review, see the label, its probability and the highlighted words.
            page.goto(served_app)
            page.get_by_role("textbox", name="Review").fill(review)
            page.get_by_role("button", name="Analyse").click()
            expect(page.get_by_test_id("stMetricValue").first).to_have_text("positive")
            expect(page.locator("span.attr").first).to_be_visible()
            highlighted = page.locator(".imdb-explanation")
            expect(highlighted).to_contain_text("<script>alert('x')</script>")  # shown as text, not run
            assert highlighted.locator("script").count() == 0
            shot = tmp_path / "ui-analyse.png"
            page.screenshot(path=str(shot), full_page=True)
            keep(shot)

            # Batch: upload a CSV, pick its text column, score it, see the table and the download button.
            page.get_by_role("link", name="Batch").click()
            page.locator("input[type=file]").set_input_files(str(csv))
            expect(page.get_by_text("Column with the reviews")).to_be_visible()
            page.get_by_role("button", name="Score 6 reviews").click()
            expect(page.get_by_test_id("stMetricValue").first).to_have_text("6")
            expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
            expect(page.get_by_role("button", name="Download predictions (CSV)")).to_be_visible()
            expect(page.get_by_text("Most positive")).to_be_visible()
            shot = tmp_path / "ui-batch.png"
            page.screenshot(path=str(shot), full_page=True)
            keep(shot)
        finally:
            browser.close()
    assert dialogs == [], "a script in the review ran"
