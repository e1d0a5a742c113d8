"""How dates, months, amounts and statuses read in Honduran Spanish."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

# Also in intake/form_answers.py: the action server's environment (Rasa's) cannot import intake.
MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
STATUS = {
    "paid": "pagado",
    "scheduled": "programado",
    "withheld": "retenido",
    "suspended": "suspendido",
}


def long_date(iso: str) -> str:
    """'2026-12-15' -> '15 de diciembre de 2026'."""
    day = date.fromisoformat(iso)
    return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"


def cycle_name(cycle: str) -> str:
    """'2026-06' -> 'junio de 2026'."""
    year, month = cycle.split("-")
    return f"{MONTHS[int(month) - 1]} de {year}"


def lempiras(amount: str) -> str:
    """'2500.00' -> '2,500.00' (Honduras writes thousands with commas)."""
    return f"{Decimal(amount):,.2f}"


def status_word(status: str) -> str:
    return STATUS.get(status, status)
