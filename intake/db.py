"""Database engine and sessions: one engine per process, made on first use, never at import."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker


def _on_sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the web app, the worker and the CLI read while one of them writes;
    # busy_timeout makes a writer wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """The process's engine for `url` (cached: one pool per process and URL).

    hide_parameters: a database error's text (logged, shown in tracebacks) never carries the
    bound values, which are phone numbers, DNIs and message texts."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True)


@lru_cache(maxsize=8)
def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched: Session.execute is typed as returning a plain
    Result, but for those statements it is a CursorResult, which has the count."""
    return cast("CursorResult[Any]", result).rowcount


def insert_on_conflict(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT, in the dialect at hand (PostgreSQL and SQLite both can)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"no INSERT … ON CONFLICT for the {dialect} database")
