"""Playwright driving Debian's Chromium headless against pytest-django's live server."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
    # test body are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Imported only when a browser test runs: the rest of the suite needs no Playwright.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_as(chromium, live_server):
    """open_as("duty") → a logged-in page (Chinese, 1366×900, Asia/Shanghai)."""
    contexts = []

    def _open(username, password="demo-pass-2026", viewport=(1366, 900)):
        context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                       viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/**")
        assert "/accounts/login/" not in page.url, f"{username} could not log in"
        return page

    yield _open
    for context in contexts:
        context.close()


def screenshot(page, name):
    """Write docs/screenshots/<name>.png only when asked (``make screenshots`` sets
    SCREENSHOTS=1): the tracked images never change under a plain test run."""
    if os.environ.get("SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # a sticky bar (the case file's owed deadlines) at its place
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
