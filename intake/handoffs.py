"""Hand-off: while a person from the program talks with a beneficiary, the assistant is paused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.db import rows_changed
from intake.models import Handoff


def active_handoff(session: Session, contact_id: int) -> Handoff | None:
    return session.scalar(select(Handoff).where(Handoff.contact_id == contact_id, Handoff.ended_at.is_(None)).limit(1))


def start_handoff(session: Session, contact_id: int, staff_id: int, case_id: int | None, now: datetime) -> Handoff:
    """Pause the assistant for this contact (once: a second start keeps the first)."""
    current = active_handoff(session, contact_id)
    if current is not None:
        return current
    handoff = Handoff(contact_id=contact_id, staff_id=staff_id, case_id=case_id, started_at=now)
    session.add(handoff)
    session.flush()
    return handoff


def end_handoff(session: Session, contact_id: int, now: datetime) -> bool:
    """Give the conversation back to the assistant."""
    return bool(
        rows_changed(
            session.execute(
                update(Handoff).where(Handoff.contact_id == contact_id, Handoff.ended_at.is_(None)).values(ended_at=now)
            )
        )
    )
