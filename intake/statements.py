"""A household's payment statement: last payment, next payment, and withheld or suspended cycles."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.models import Household, Payment


def _payment(p: Payment) -> dict[str, Any]:
    return {
        "cycle": p.cycle,
        "scheduled_date": p.scheduled_date.isoformat(),
        "amount_lps": str(p.amount_lps),
        "status": p.status,
        "collection_point": p.collection_point,
        "reason": p.reason,
    }


def statement(session: Session, household_id: str, today: date) -> dict[str, Any] | None:
    """What the assistant may tell a verified titular about the household's payments."""
    household = session.get(Household, household_id)
    if household is None:
        return None
    payments = list(
        session.scalars(select(Payment).where(Payment.household_id == household_id).order_by(Payment.cycle))
    )
    upcoming = [p for p in payments if p.status == "scheduled" and p.scheduled_date >= today]
    past = [p for p in payments if p.scheduled_date < today or p.status != "scheduled"]
    past = [p for p in past if p not in upcoming]
    problems = [p for p in payments if p.status in ("withheld", "suspended")]
    return {
        "household_status": household.status,
        "next": _payment(upcoming[0]) if upcoming else None,
        "last": _payment(past[-1]) if past else None,
        "problems": [_payment(p) for p in problems[-3:]][::-1],
    }
