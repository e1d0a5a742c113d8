"""Shared fixtures: settings, a fresh SQLite or PostgreSQL database per test, the Flask app and client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake import create_app
from intake.migrations_runner import upgrade
from intake.runtime import Runtime, set_runtime
from intake.settings import Settings
from tests.env import base_env, drop_pg_database, fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = fresh_database(request.param, tmp_path)
    upgrade(url)
    yield url
    if request.param == "postgresql":
        drop_pg_database(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings.from_env(base_env(DATABASE_URL=database_url))


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(settings)
    set_runtime(runtime)
    yield runtime
    set_runtime(None)


@pytest.fixture
def app(rt: Runtime) -> Flask:
    flask_app = create_app(rt.settings)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
