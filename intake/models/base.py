"""The declarative base and the time helpers every table module shares."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import DeclarativeBase


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


class Base(DeclarativeBase):
    pass
