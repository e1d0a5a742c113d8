"""'Hablar con una persona': who may pick up a request, taking it (the assistant pauses), closing it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.authz import can_handle_request
from intake.handoffs import end_handoff, start_handoff
from intake.identity import households_for_phone
from intake.models import Contact, PersonRequest, Staff, Team

CENTRAL_TEAM = "datos"  # a phone with no registered household is helped by the data unit


def team_for(session: Session, contact: Contact) -> str:
    """The regional office of the household registered to the phone, else the data unit."""
    households = households_for_phone(session, contact.phone)
    if len(households) == 1:
        team = session.scalar(select(Team.code).where(Team.department == households[0].department))
        if team:
            return team
    return CENTRAL_TEAM


def inbox(session: Session, staff: Staff) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PersonRequest).where(PersonRequest.status != "closed").order_by(PersonRequest.created_at)
    ).all()
    return [
        {"id": r.id, "created_at": r.created_at, "status": r.status, "taken_by": r.taken_by}
        for r in rows
        if can_handle_request(staff, team_for(session, session.get_one(Contact, r.contact_id)))
    ]


def take(session: Session, staff: Staff, request: PersonRequest, now: datetime) -> None:
    request.status, request.taken_by = "taken", staff.id
    start_handoff(session, request.contact_id, staff.id, None, now)


def close(session: Session, request: PersonRequest, now: datetime) -> None:
    request.status = "closed"
    end_handoff(session, request.contact_id, now)
