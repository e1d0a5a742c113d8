"""Calendar months in Honduras time, the finest date the public figures ever show ("2026-10")."""

from __future__ import annotations

from datetime import datetime

from intake.deadlines import HONDURAS
from intake.form_answers import MONTH_NAMES
from intake.models import as_utc


def month_of(moment: datetime) -> str:
    # No date finer than a month, in Honduras time.
    return as_utc(moment).astimezone(HONDURAS).strftime("%Y-%m")


def next_month(month: str) -> str:
    year, number = (int(p) for p in month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, number = (int(p) for p in month.split("-"))
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included (empty when first is after last)."""
    out = []
    month = first
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


def elapsed_share(moment: datetime) -> float:
    """How much of its month (Honduras time) has gone by at `moment`, from 0 to 1."""
    local = as_utc(moment).astimezone(HONDURAS)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year, number = (int(p) for p in next_month(local.strftime("%Y-%m")).split("-"))
    end = start.replace(year=year, month=number)
    return (local - start) / (end - start)


def month_name(month: str) -> str:
    """'2026-10' -> 'octubre de 2026', as a reader says it."""
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1]} de {year}"


def month_short(month: str) -> str:
    """'2026-10' -> 'oct 26', for a chart's axis."""
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1][:3]} {year[2:]}"
