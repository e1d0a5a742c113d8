"""Alembic environment: migrations run online against the URL the runner passes in."""

from __future__ import annotations

from alembic import context

from intake.db import engine_for
from intake.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = context.config.attributes.get("database_url")
    if not url:
        raise RuntimeError("run migrations through intake.migrations_runner (it passes the URL)")
    with engine_for(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
