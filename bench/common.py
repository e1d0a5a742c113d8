"""Helpers the benchmarks share: a fresh database to measure against."""

from __future__ import annotations

import secrets
from pathlib import Path

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def fresh_database(kind: str, directory: Path) -> str:
    """A new SQLite file in `directory`, or a new PostgreSQL database on the local server."""
    if kind == "sqlite":
        return f"sqlite:///{directory / 'bench.db'}"
    import psycopg

    name = "lc_bench_" + secrets.token_hex(4)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
