"""Debian's Chromium, driven by Playwright (no browser download: executable_path points at it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import base_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Screenshots go under var/ so the suite never changes a tracked file; `make screenshots` points
# SCREENSHOTS_DIR at docs/screenshots to refresh the ones the docs show.
_ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or _ROOT / "var" / "screenshots")
if not SHOTS.is_absolute():
    SHOTS = _ROOT / SHOTS
SHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (make test runs scripts/install-chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield instance
        instance.close()


def web_env(database_url: str, port: int) -> dict[str, str]:
    """The web app alone on `port` (no Rasa, no action server), as the browser tests start it."""
    return {
        **os.environ,
        **base_env(
            PORT=str(port),
            DATABASE_URL=database_url,
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
            LOG_LEVEL="WARNING",
            RASA_URL="http://127.0.0.1:1",
            ACTION_SERVER_URL="http://127.0.0.1:1",
        ),
    }
