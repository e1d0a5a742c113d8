"""'Hablar con una persona': which team a request goes to, who may pick it up, taking and closing it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.authz import can_request, protected
from intake.case_states import OPEN
from intake.handoffs import end_handoff, start_handoff
from intake.identity import households_for_phone
from intake.models import Case, Contact, PersonRequest, PersonRequestEvent, Staff, Team
from intake.routing import INTEGRITY_TEAM

CENTRAL_TEAM = "datos"  # a phone with no registered household is helped by the data unit


def protected_open_cases(session: Session, contact_id: int) -> list[Case]:
    cases = session.scalars(select(Case).where(Case.contact_id == contact_id, Case.state.in_(OPEN)))
    return [case for case in cases if protected(case)]


def team_for(session: Session, contact: Contact) -> str:
    """The integrity unit when the person has an open confidential, anonymous or sensitive case
    (their office may be the one they complained about); else the regional office of the
    household registered to the phone; else the data unit."""
    if protected_open_cases(session, contact.id):
        return INTEGRITY_TEAM
    households = households_for_phone(session, contact.phone)
    if len(households) == 1:
        team = session.scalar(select(Team.code).where(Team.department == households[0].department))
        if team:
            return team
    return CENTRAL_TEAM


def open_request(session: Session, contact: Contact, now: datetime) -> PersonRequest:
    """One open request per contact: asking twice does not queue the person twice."""
    found = session.scalar(
        select(PersonRequest).where(PersonRequest.contact_id == contact.id, PersonRequest.status == "open")
    )
    if found is None:
        found = PersonRequest(contact_id=contact.id, created_at=now, team_code=team_for(session, contact))
        session.add(found)
        session.flush()
    return found


def barred_departments(session: Session, contact_id: int) -> set[str]:
    """Offices that one of the person's open protected cases concerns: nobody there may see the request."""
    return {case.department for case in protected_open_cases(session, contact_id)}


def request_team(session: Session, request: PersonRequest) -> str:
    """The stored team, unless a protected case was filed since: then the integrity unit."""
    if protected_open_cases(session, request.contact_id):
        return INTEGRITY_TEAM
    return request.team_code or team_for(session, session.get_one(Contact, request.contact_id))


def allowed(session: Session, staff: Staff, request: PersonRequest, action: str) -> bool:
    return can_request(staff, action, request_team(session, request), barred_departments(session, request.contact_id))


def inbox(session: Session, staff: Staff) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PersonRequest).where(PersonRequest.status != "closed").order_by(PersonRequest.created_at)
    ).all()
    return [
        {"id": r.id, "created_at": r.created_at, "status": r.status, "taken_by": r.taken_by}
        for r in rows
        if allowed(session, staff, r, "view")
    ]


def record(session: Session, request: PersonRequest, actor: str, kind: str, now: datetime, **detail: Any) -> None:
    """Every view of and action on a request goes to its append-only log."""
    session.add(PersonRequestEvent(request_id=request.id, actor=actor, kind=kind, at=now, detail=detail))
    session.flush()


def take(session: Session, staff: Staff, request: PersonRequest, now: datetime) -> None:
    if request.status != "taken" or request.taken_by != staff.id:
        record(session, request, f"staff:{staff.id}", "taken", now)
    request.status, request.taken_by = "taken", staff.id
    start_handoff(session, request.contact_id, staff.id, None, now)


def close(session: Session, staff: Staff, request: PersonRequest, now: datetime) -> None:
    record(session, request, f"staff:{staff.id}", "closed", now)
    request.status = "closed"
    end_handoff(session, request.contact_id, now)
