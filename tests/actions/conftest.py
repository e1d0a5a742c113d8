"""Fixtures of the action tests: intake's internal API on a local port, and one with nobody listening."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.actions.fake_intake import TOKEN, FakeIntake, Listener
from tests.actions.trackers import SENDER


@pytest.fixture(scope="session")
def listener() -> Iterator[Listener]:
    """One local port for the whole run; each test gets a fresh intake behind it."""
    served = Listener(FakeIntake(contacts=set())).start()
    yield served
    served.stop()


@pytest.fixture
def intake(listener: Listener, monkeypatch: pytest.MonkeyPatch) -> FakeIntake:
    """intake's internal API, knowing the test's contact; actions reach it as in production, over HTTP."""
    fake = listener.server.fake = FakeIntake(contacts={SENDER})
    monkeypatch.setenv("INTERNAL_API_URL", listener.url)
    monkeypatch.setenv("INTERNAL_API_TOKEN", TOKEN)
    return fake


@pytest.fixture
def intake_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """intake not running: its address refuses connections."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("INTERNAL_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("INTERNAL_API_TOKEN", TOKEN)
