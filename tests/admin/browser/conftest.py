"""A real browser on the desk pages: Playwright driving Debian's Chromium, headless.

The app under test is the suite's own (``app`` fixture), served by a threaded
Werkzeug server in this process, so the tests make rows with the usual factories,
drive the pages in Chromium and then read the database directly, on SQLite and on
PostgreSQL alike. Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``;
``DOORSTEP_CHROMIUM`` names another); without it the tests skip, except in CI
(``CI=true``) where a missing browser is a failure. Each test leaves a PNG per main
step in ``.ci-artifacts/screenshots/``.
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.factories import PASSWORD

CHROMIUM = os.environ.get("DOORSTEP_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / ".ci-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _why_no_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium for the whole session (skipped without it, except in CI)."""
    missing = _why_no_browser()
    if missing:
        if _in_ci():
            pytest.fail(f"browser tests must run in CI, but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[str]:
    """The suite's app over HTTP on a free port, one thread per request."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="desk-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


class Desk:
    """One browser tab on the desk, with the steps the tests share."""

    def __init__(self, page: Any, base_url: str, test_name: str) -> None:
        self.page = page
        self.base_url = base_url
        self.test_name = re.sub(r"[^\w-]+", "_", test_name)
        self.step = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> Any:
        return self.page.goto(self.url(path))

    def sign_in(self, username: str, *, lang: str = "en") -> None:
        self.goto(f"/admin/login?lang={lang}")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")

    def shot(self, name: str) -> Path:
        """A full-page PNG for the CI artefacts: ``<test>-<n>-<name>.png``."""
        self.step += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def desk(browser: Any, live_server: str, personas: Any, request: pytest.FixtureRequest) -> Iterator[Desk]:
    """A fresh browser context (no cookies) on a desktop-sized window, for the named personas."""
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield Desk(page, live_server, request.node.name)
    context.close()


@pytest.fixture
def tablet(browser: Any, live_server: str, personas: Any, request: pytest.FixtureRequest) -> Iterator[Desk]:
    """The same on a tablet held upright: 768 x 1024, touch."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=False,
                                  locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield Desk(page, live_server, request.node.name)
    context.close()
