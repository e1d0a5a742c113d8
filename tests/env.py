"""Settings every test process shares and the databases tests make: base_env, TEST_REDIS_URL, fresh_database."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import psycopg
import pytest

from intake.db import engine_for

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
TWILIO_AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def base_env(**overrides: str) -> dict[str, str]:
    """Settings every test process shares; secrets are fixed so signatures can be computed."""
    env = {
        "PORT": "8000",
        "PUBLIC_BASE_URL": "https://linea.example.hn",
        "REDIS_URL": TEST_REDIS_URL,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "PSEUDONYM_KEY": "test-pseudonym-key-0123456789",
        "COMMITTEE_SAMPLE_KEY": "test-committee-sample-key-0123456789",
        "INTERNAL_API_TOKEN": "test-internal-token-0123456789",
        "RASA_API_TOKEN": "test-rasa-api-token-0123456789abcdef",
        "ACTION_SERVER_TOKEN": "test-action-server-token-0123456789",
    }
    env.update(overrides)
    return env


def _postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def create_pg_database() -> str:
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = "lc_test_" + secrets.token_hex(4)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    engine_for(url).dispose()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def fresh_database(kind: str, directory: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{directory / 'lc.db'}"
    return create_pg_database()
