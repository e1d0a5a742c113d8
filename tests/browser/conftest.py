"""Debian's Chromium via Playwright (browser, context, page) and the web app (web_app) the browser tests open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from intake.migrations_runner import upgrade
from stack.processes import free_port
from tests.browser.chromium import CHROMIUM, LAUNCH_ARGS
from tests.browser.web_app import WebApp, web_env


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the browser tests (each test gets its own context, so nothing is shared)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (make test runs scripts/install-chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (cookies, storage) with a desktop window."""
    fresh = browser.new_context(viewport={"width": 1280, "height": 900})
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def web_app(tmp_path: Path) -> Iterator[WebApp]:
    """The web app over a fresh, migrated SQLite database; the test fills it, then calls start()."""
    database_url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade(database_url)
    port = free_port()
    app = WebApp(database_url, port, web_env(database_url, port), tmp_path / "web.log")
    yield app
    app.stop()
