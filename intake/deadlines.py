"""Deadlines in business days (weekends and Honduran public holidays skipped) and the traffic light."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

HONDURAS = ZoneInfo("America/Tegucigalpa")
AMBER_SHARE = 0.75  # amber once 75 % of the time to the deadline has passed


def add_business_days(start: datetime, days: int, holidays: set[date]) -> datetime:
    """The end (23:59:59, Honduras time) of the `days`-th business day after `start`, in UTC.

    UTC because SQLite keeps a datetime's wall time and drops its zone: store only UTC.
    """
    day = start.astimezone(HONDURAS).date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            remaining -= 1
    return datetime.combine(day, time(23, 59, 59), HONDURAS).astimezone(timezone.utc)


def amber_from(created: datetime, deadline: datetime) -> datetime:
    return created + (deadline - created) * AMBER_SHARE


def traffic_light(now: datetime, amber_at: datetime, deadline_at: datetime) -> str:
    """on_time | amber | overdue."""
    if now > deadline_at:
        return "overdue"
    if now >= amber_at:
        return "amber"
    return "on_time"
